import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import * as ort from "onnxruntime-node";
import { ensureModel } from "../model/mod.ts";
import { tinyModel } from "./_fixture.ts";
import { type DecoderModel, loadDecoder } from "./decoder.ts";
import { generate } from "./generate.ts";
import { KvCache, kvCacheBytes } from "./kv_cache.ts";
import { openKv } from "./kv_runner.ts";
import { PROMPT_FAMILIES, promptIds } from "./prompts.ts";
import { resolveModel } from "./resolve.ts";

let models: Promise<{ copy: DecoderModel; inPlace: DecoderModel }> | undefined;
/**
 * The tiny preset twice, same weights: the default graph (in place) and the Optimum-layout copy
 * graph (`+copy_kv`).
 */
function tinyPair(): Promise<{ copy: DecoderModel; inPlace: DecoderModel }> {
  models ??= (async () => {
    const resolved = await resolveModel("preset:tiny+copy_kv", { dtypes: ["fp32"] });
    assert(resolved.dir.endsWith("tiny-standard-s42"), resolved.dir);
    const copy = await loadDecoder(resolved, { dtype: "fp32", threads: 1 });
    const inPlace = await loadDecoder(await tinyModel(), { dtype: "fp32", threads: 1 });
    return { copy, inPlace };
  })();
  return models;
}

Deno.test("the default graph of a preset decodes in place; +in_place names the same directory", async () => {
  const { inPlace } = await tinyPair();
  assertEquals(inPlace.kvMode, "in_place");
  const named = await resolveModel("preset:tiny+in_place", { dtypes: ["fp32"] });
  assertEquals(named.dir, inPlace.resolved.dir);
});

Deno.test("kvCacheBytes() is max length × layers × kv heads × head dim × bytes × 2 × batch", () => {
  const shape = { layers: 2, batch: 3, kvHeads: 2, headDim: 16, maxLength: 100 };
  assertEquals(kvCacheBytes({ ...shape, dtype: "float32" }), 100 * 2 * 2 * 16 * 4 * 2 * 3);
  assertEquals(kvCacheBytes({ ...shape, dtype: "float16" }), 100 * 2 * 2 * 16 * 2 * 2 * 3);
});

Deno.test("KvCache writes each step at its position of every row and masks the rest", () => {
  const cache = new KvCache(
    { layers: 1, batch: 2, kvHeads: 2, headDim: 1, maxLength: 3, dtype: "float32" },
    [1, 0],
  );
  // [batch 2, heads 2, S 2, dim 1]: value = 10·b + 2·h + s, so each row lands in its own place.
  const step = (s: number, base: number) => {
    const data = new Float32Array(2 * 2 * s);
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 2; h++) {
        for (let i = 0; i < s; i++) data[(b * 2 + h) * s + i] = base + 10 * b + 2 * h + i;
      }
    }
    return new ort.Tensor("float32", data, [2, 2, s, 1]);
  };
  cache.append([step(2, 100), step(2, 200)]);
  assertEquals(cache.length, 2);
  assertEquals(
    Array.from(cache.past()[0]!.data as Float32Array),
    [100, 101, 0, 102, 103, 0, 110, 111, 0, 112, 113, 0],
  );
  // Row 0's first slot is left padding: masked. Unwritten slot 2: masked. The new token: 1.
  assertEquals(Array.from(cache.mask(1).data, Number), [0, 1, 0, 1, 1, 1, 0, 1]);
  cache.append([step(1, 300), step(1, 400)]);
  assertEquals((cache.past()[1]!.data as Float32Array)[2], 400);
  assertEquals(Array.from(cache.mask(1).data, Number), [0, 1, 1, 1, 1, 1, 1, 1]);
  assertThrows(() => cache.append([step(1, 0), step(1, 0)]), RangeError, "exceed");
  assertThrows(() => cache.append([step(1, 0)]), RangeError, "expected 2 tensors");
  assertThrows(
    () =>
      new KvCache({ layers: 1, batch: 1, kvHeads: 1, headDim: 1, maxLength: 0, dtype: "float32" }),
    RangeError,
    "'maxLength' must be a positive integer, got 0",
  );
});

Deno.test("loadDecoder() picks kvMode copy for the Optimum layout and in_place for present_new.*", async () => {
  const { copy, inPlace } = await tinyPair();
  assertEquals(copy.kvMode, "copy");
  assertEquals(inPlace.kvMode, "in_place");
  const kv = openKv(inPlace, { batch: 1, maxLength: 50 });
  assertEquals(
    kv.reservedBytes,
    50 * inPlace.numLayers * inPlace.numKvHeads * inPlace.headDim * 4 * 2,
  );
  assertEquals(openKv(copy, { batch: 1, maxLength: 50 }).reservedBytes, 0);
});

Deno.test("greedy tokens are identical with the copy path, the in-place path and the cache off", async () => {
  const { copy, inPlace } = await tinyPair();
  for (const family of PROMPT_FAMILIES) {
    const prompt = promptIds(copy.resolved.tokenizer, family, 40, 2);
    const runs = [
      await generate(copy, [prompt], { maxNewTokens: 24 }),
      await generate(inPlace, [prompt], { maxNewTokens: 24 }),
      await generate(copy, [prompt], { maxNewTokens: 24, useCache: false }),
      await generate(inPlace, [prompt], { maxNewTokens: 24, useCache: false }),
    ];
    assertEquals(runs.map((r) => r.kvMode), ["copy", "in_place", null, null]);
    for (const r of runs.slice(1)) assertEquals(r.tokens, runs[0]!.tokens, family);
    assertEquals(
      runs[1]!.kvReservedBytes,
      kvCacheBytes({
        layers: inPlace.numLayers,
        batch: 1,
        kvHeads: inPlace.numKvHeads,
        headDim: inPlace.headDim,
        maxLength: 40 + 24,
        dtype: "float32",
      }),
    );
  }
});

Deno.test("left-padded batches decode in place exactly as each row alone on the copy path", async () => {
  const { copy, inPlace } = await tinyPair();
  const prompts = [
    promptIds(copy.resolved.tokenizer, "code", 30, 3),
    promptIds(copy.resolved.tokenizer, "summary", 17, 4),
    promptIds(copy.resolved.tokenizer, "conversational", 9, 5),
  ];
  const batched = await generate(inPlace, prompts, { maxNewTokens: 12 });
  assertEquals(batched.kvMode, "in_place");
  for (let b = 0; b < prompts.length; b++) {
    const alone = await generate(copy, [prompts[b]!], { maxNewTokens: 12 });
    assertEquals(batched.tokens[b], alone.tokens[0], `row ${b}`);
  }
  const copyBatched = await generate(copy, prompts, { maxNewTokens: 12 });
  assertEquals(copyBatched.kvMode, "copy");
  assertEquals(copyBatched.tokens, batched.tokens);
});

Deno.test("an in_place graph's cache-off forward gives the copy graph's logits", async () => {
  const { copy, inPlace } = await tinyPair();
  const prompt = promptIds(copy.resolved.tokenizer, "code", 25);
  const a = (await copy.forward([prompt])).data as Float32Array;
  const b = (await inPlace.forward([prompt])).data as Float32Array;
  assertEquals(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert(worst < 1e-4, `max |Δlogit| ${worst}`);
});

Deno.test("onnxruntime-node 1.30 updates a GQA cache shared by past and present in place, yet returns a copy", async () => {
  // What limits an in-place cache on this binding (docs/engine.md): a pre-allocated output is
  // written where it lies — GroupQueryAttention even appends into the very buffer it reads as
  // past — but the binding copies every output into a new ArrayBuffer before returning it.
  const dir = await ensureModel("tiny", { dtypes: ["fp32"], attention: "gqa" });
  const m = await loadDecoder(await resolveModel(dir), { dtype: "fp32", threads: 1 });
  const [past, max, heads, dim] = [10, 32, m.numKvHeads, m.headDim];
  const prompt = Array.from({ length: past }, (_, i) => 5 + i);
  const ids = (values: number[]) =>
    new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [1, values.length]);
  const ones = (k: number) => new ort.Tensor("int64", new BigInt64Array(k).fill(1n), [1, k]);
  const pre = await m.step(ids(prompt), ones(past), ids(prompt.map((_, i) => i)), null, true);
  const copied = await m.step(ids([7]), ones(past + 1), ids([past]), pre.present, true);
  // One max-length buffer per layer's keys and values, holding the prompt's entries.
  const buffers = pre.present.map((t) => {
    const buffer = new Float32Array(heads * max * dim);
    const src = t.data as Float32Array;
    for (let h = 0; h < heads; h++) {
      buffer.set(src.subarray(h * past * dim, (h + 1) * past * dim), h * max * dim);
    }
    return buffer;
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: ids([7]),
    attention_mask: ones(past + 1),
    position_ids: ids([past]),
    num_logits_to_keep: new ort.Tensor("int64", BigInt64Array.of(1n), []),
  };
  const fetches: Record<string, ort.Tensor | null> = { logits: null };
  buffers.forEach((buffer, i) => {
    const name = `${Math.floor(i / 2)}.${i % 2 === 0 ? "key" : "value"}`;
    feeds[`past_key_values.${name}`] = new ort.Tensor("float32", buffer, [1, heads, max, dim]);
    fetches[`present.${name}`] = new ort.Tensor("float32", buffer, [1, heads, max, dim]);
  });
  const out = await m.session.session.run(feeds, fetches);
  assertEquals(
    Array.from(out.logits!.data as Float32Array),
    Array.from(copied.logits.data as Float32Array),
  );
  // The new key landed in our buffer at position `past`…
  const newKey = (copied.present[0]!.data as Float32Array).subarray(past * dim, (past + 1) * dim);
  assertEquals(Array.from(buffers[0]!.subarray(past * dim, (past + 1) * dim)), Array.from(newKey));
  // …and the binding still handed back the whole max-length buffer as a new copy.
  const returned = out["present.0.key"]!;
  assertEquals(returned.dims.slice(), [1, heads, max, dim]);
  assert((returned.data as Float32Array).buffer !== buffers[0]!.buffer);
  await m.dispose();
});

Deno.test("a float16 cache (q4f16) decodes in place to the copy path's tokens", async () => {
  const load = async (ref: string) =>
    await loadDecoder(await resolveModel(ref, { dtypes: ["q4f16"] }), {
      dtype: "q4f16",
      threads: 1,
    });
  const copy = await load("preset:tiny");
  const inPlace = await load("preset:tiny+in_place");
  assertEquals([copy.kvDtype, inPlace.kvDtype, inPlace.kvMode], ["float16", "float16", "in_place"]);
  const prompts = [
    promptIds(copy.resolved.tokenizer, "code", 33, 6),
    promptIds(copy.resolved.tokenizer, "summary", 21, 7),
  ];
  const a = await generate(copy, prompts, { maxNewTokens: 12 });
  const b = await generate(inPlace, prompts, { maxNewTokens: 12 });
  assertEquals(b.tokens, a.tokens);
  assertEquals(b.kvReservedBytes, (33 + 12) * 2 * 2 * 2 * 16 * 2 * 2);
  await copy.dispose();
  await inPlace.dispose();
});
