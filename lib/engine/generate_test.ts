import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../testing/assert.ts";
import * as ort from "onnxruntime-node";
import { attentionMask, int64Tensor, positionIds, toFloat32 } from "../runtime/tensors.ts";
import { tinyModel } from "./_fixture.ts";
import { type DecoderModel, loadDecoder } from "./decoder.ts";
import { generate } from "./generate.ts";
import { PROMPT_FAMILIES, promptIds } from "./prompts.ts";
import { resolveModel } from "./resolve.ts";
import { ensureModel } from "../model/mod.ts";

let loaded: Promise<DecoderModel> | undefined;
function model(): Promise<DecoderModel> {
  loaded ??= tinyModel().then((r) => loadDecoder(r, { dtype: "fp32", threads: 1 }));
  return loaded;
}

function lastRow(logits: Float32Array, dims: readonly number[], b: number): Float32Array {
  const [, seq, vocab] = dims as [number, number, number];
  const start = (b * seq + seq - 1) * vocab;
  return logits.subarray(start, start + vocab);
}

Deno.test("generate() makes identical tokens with the KV cache on and off", async () => {
  const m = await model();
  for (const family of PROMPT_FAMILIES) {
    const prompt = promptIds(m.resolved.tokenizer, family, 40, 1);
    const on = await generate(m, [prompt], { maxNewTokens: 16, useCache: true });
    const off = await generate(m, [prompt], { maxNewTokens: 16, useCache: false });
    assertEquals(on.tokens, off.tokens, family);
    assertEquals(on.tokens[0]!.length, 16);
    assertEquals(on.tokenLatenciesMs.length, 15);
  }
});

Deno.test("a cached decode step gives the logits of a full recompute", async () => {
  const m = await model();
  const prompt = promptIds(m.resolved.tokenizer, "summary", 20);
  const prefill = await m.step(
    int64Tensor([prompt]),
    attentionMask(1, 20),
    positionIds(1, 20, 0),
    null,
    true,
  );
  const next = 7;
  const cached = await m.step(
    int64Tensor([[next]]),
    attentionMask(1, 21),
    positionIds(1, 1, 20),
    prefill.present,
    true,
  );
  // The copy path returns the whole cache, the in-place default only the step's keys and values.
  const presentLength = m.kvMode === "in_place" ? 1 : 21;
  assertEquals(cached.present[0]!.dims.slice(), [1, m.numKvHeads, presentLength, m.headDim]);
  const full = await m.forward([[...prompt, next]]);
  const a = lastRow(toFloat32(cached.logits), cached.logits.dims, 0);
  const b = lastRow(toFloat32(full), full.dims, 0);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assertAlmostEquals(worst, 0, 1e-4);
});

Deno.test("generate() of a left-padded batch equals each prompt alone", async () => {
  const m = await model();
  const tok = m.resolved.tokenizer;
  const prompts = [promptIds(tok, "code", 30, 2), promptIds(tok, "conversational", 17, 3)];
  for (const useCache of [true, false]) {
    const batched = await generate(m, prompts, { maxNewTokens: 12, useCache });
    assertEquals(batched.batch, 2);
    assertEquals(batched.promptTokens, [30, 17]);
    for (let b = 0; b < prompts.length; b++) {
      const alone = await generate(m, [prompts[b]!], { maxNewTokens: 12, useCache });
      assertEquals(batched.tokens[b], alone.tokens[0], `row ${b}, cache ${useCache}`);
    }
  }
});

Deno.test("generate() reports prefill and decode timings consistently", async () => {
  const m = await model();
  const r = await generate(m, [promptIds(m.resolved.tokenizer, "code", 32)], { maxNewTokens: 10 });
  assertEquals(r.newTokens, 10);
  assert(r.prefillMs > 0 && r.decodeMs > 0);
  assertAlmostEquals(r.totalMs, r.prefillMs + r.decodeMs, 1e-6);
  assertAlmostEquals(r.decodeTokensPerS!, 9 / r.decodeMs * 1000, 1e-9);
  const sum = r.tokenLatenciesMs.reduce((s, x) => s + x, 0);
  assert(sum <= r.decodeMs + 1e-6, `per-token ${sum} ≤ decode ${r.decodeMs}`);
  const one = await generate(m, [[1, 2, 3]], { maxNewTokens: 1 });
  assertEquals([one.newTokens, one.decodeTokensPerS, one.tokenLatenciesMs.length], [1, null, 0]);
});

Deno.test("generate() stops at EOS only in generation mode", async () => {
  const m = await model();
  const prompt = promptIds(m.resolved.tokenizer, "conversational", 24);
  const free = await generate(m, [prompt], { maxNewTokens: 6 });
  // Declare the first generated token an EOS: generation mode must stop right after it.
  const eos = free.tokens[0]![0]!;
  const withEos = { ...m, config: { ...m.config, eosTokenIds: [eos] } };
  const stopped = await generate(withEos, [prompt], { maxNewTokens: 6, stopAtEos: true });
  assertEquals(stopped.tokens[0], [eos]);
  assert(stopped.stoppedAtEos);
  const bench = await generate(withEos, [prompt], { maxNewTokens: 6 });
  assertEquals(bench.tokens[0]!.length, 6);
});

Deno.test("generate() fails on NaN logits instead of benchmarking id 0", async () => {
  const m = await model();
  const nan: DecoderModel = {
    ...m,
    step: async (...args) => {
      const out = await m.step(...args);
      const data = new Float32Array((out.logits.data as Float32Array).length).fill(NaN);
      out.logits.dispose();
      return { logits: new ort.Tensor("float32", data, out.logits.dims), present: out.present };
    },
  };
  for (const useCache of [true, false]) {
    await assertRejects(
      () => generate(nan, [[1, 2, 3]], { maxNewTokens: 3, useCache }),
      RangeError,
      "NaN",
    );
  }
});

Deno.test("generate() rejects bad input naming the field", async () => {
  const m = await model();
  await assertRejects(() => generate(m, [[1]], { maxNewTokens: 0 }), RangeError, "'maxNewTokens'");
  await assertRejects(() => generate(m, [], { maxNewTokens: 1 }), RangeError, "'prompts'");
  const long = new Array<number>(m.config.maxPositions).fill(5);
  await assertRejects(() => generate(m, [long], { maxNewTokens: 1 }), RangeError, "positions");
});

Deno.test("loadDecoder() reads the KV layout from the session", async () => {
  const m = await model();
  assertEquals(m.executionProvider, "CPUExecutionProvider");
  assertEquals([m.numLayers, m.numKvHeads, m.headDim], [
    m.config.numLayers,
    m.config.numKvHeads,
    m.config.headDim,
  ]);
  assertEquals(m.kvDtype, "float32");
  const logits = await m.forward([[1, 2, 3], [4, 5, 6]], { leftPad: [1, 0] });
  assertEquals(logits.dims.slice(), [2, 3, m.vocabSize]);
});

Deno.test("an fp16 model decodes with a float16 KV cache, identically with cache on and off", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp16"] });
  const m = await loadDecoder(await resolveModel(dir), { dtype: "fp16", threads: 1 });
  try {
    assertEquals(m.kvDtype, "float16");
    const prompt = promptIds(m.resolved.tokenizer, "code", 33);
    const on = await generate(m, [prompt], { maxNewTokens: 10 });
    const off = await generate(m, [prompt], { maxNewTokens: 10, useCache: false });
    assertEquals(on.tokens, off.tokens);
  } finally {
    await m.dispose();
  }
});

Deno.test("generate() with the cache fetches present.* on every run, the last one too (equal step cost)", async () => {
  const m = await model();
  const flags: boolean[] = [];
  const spy: DecoderModel = {
    ...m,
    step: (ids, mask, positions, past, fetchPresent) => {
      flags.push(fetchPresent);
      return m.step(ids, mask, positions, past, fetchPresent);
    },
  };
  const prompt = promptIds(m.resolved.tokenizer, "code", 24);
  await generate(spy, [prompt], { maxNewTokens: 5, useCache: true });
  assertEquals(flags, [true, true, true, true, true]);
  flags.length = 0;
  await generate(spy, [prompt], { maxNewTokens: 3, useCache: false });
  // The prefill is the same run with the cache off (present.* fetched, then dropped).
  assertEquals(flags, [true, false, false]);
});
