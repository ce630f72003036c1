import { join } from "node:path";
import { skipIf } from "../testing/skip.ts";
import { createSession } from "../runtime/session.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { step, tempDir } from "./_testing.ts";
import { buildModel } from "./build.ts";
import { loadReferenceModel, referenceForward } from "./reference.ts";
import { loadQuantizer } from "./_files.ts";

const root = await tempDir("reference_test-");
const tied = await buildModel({ preset: "tiny", outDir: join(root, "tied"), seed: 7 });
const untied = await buildModel({
  preset: "tiny",
  outDir: join(root, "untied"),
  seed: 8,
  config: { tie_word_embeddings: false },
});
// Llama-3 rope scaling with a short original context, so the scaled frequencies matter at 40
// positions: checks the RotaryEmbedding caches against the float64 RoPE.
const scaled = await buildModel({
  preset: "tiny",
  outDir: join(root, "scaled"),
  seed: 9,
  config: {
    rope_scaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 16,
    },
  },
});

/** Deterministic ids in [0, vocab). */
function ids(n: number, vocab: number, salt = 1): number[] {
  return Array.from({ length: n }, (_, i) => (i * 131 + salt * 977) % vocab);
}

/** max |a - b| / max |b| over all elements. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

for (
  const [label, report] of [["tied", tied], ["untied", untied], ["llama3-rope", scaled]] as const
) {
  Deno.test(`referenceForward() matches ORT fp32 logits within 1e-4 relative (${label})`, async () => {
    const model = loadReferenceModel(report.outDir);
    assertEquals(model.weights.has("lm_head.weight"), label === "untied");
    const session = await createSession(report.files[0]!.path);
    const prompt = ids(40, report.config.vocab_size);
    const expected = referenceForward(model, prompt);
    const { logits } = await step(session, report.config, [prompt]);
    const err = relativeError(logits, expected);
    console.log(`reference vs ORT fp32 (${label}): max relative error ${err.toExponential(2)}`);
    assert(err < 1e-4, `relative error ${err}`);
    // The logits are not degenerate: positions differ from one another.
    assert(relativeError(logits.subarray(0, 512), logits.subarray(512, 1024)) > 1e-3);
  });
}

Deno.test("model.onnx prefill then step-by-step decode equals full-sequence logits", async () => {
  const session = await createSession(tied.files[0]!.path);
  const config = tied.config;
  const seq = ids(24, config.vocab_size, 3);
  const full = await step(session, config, [seq]);
  const k = 9;
  let result = await step(session, config, [seq.slice(0, k)]);
  let worst = relativeError(result.logits, full.logits.subarray(0, k * config.vocab_size));
  for (let t = k; t < seq.length; t++) {
    result = await step(session, config, [[seq[t]!]], { past: result.past, pastLength: t });
    const at = full.logits.subarray(t * config.vocab_size, (t + 1) * config.vocab_size);
    worst = Math.max(worst, relativeError(result.logits, at));
  }
  console.log(`prefill ${k} + decode vs full: max relative error ${worst.toExponential(2)}`);
  assert(worst < 1e-5, `relative error ${worst}`);
  assertEquals(result.past["past_key_values.0.key"]!.dims, [1, 2, seq.length, 16]);
});

Deno.test("model.onnx gives a left-padded row the logits of the unpadded row", async () => {
  const session = await createSession(untied.files[0]!.path);
  const config = untied.config;
  const vocab = config.vocab_size;
  const long = ids(12, vocab, 5);
  const short = ids(7, vocab, 6);
  const pad = long.length - short.length;
  const padded = await step(session, config, [long, [...Array(pad).fill(0), ...short]], {
    leftPad: [0, pad],
  });
  const alone = await step(session, config, [short]);
  const row1 = padded.logits.subarray(long.length * vocab);
  const err = relativeError(row1.subarray(pad * vocab), alone.logits);
  assert(Number.isFinite(row1[0]!), "padding positions must not be NaN");
  // Decoding one more token keeps them equal (padding stays masked in the cache).
  const next = await step(session, config, [[1], [2]], {
    past: padded.past,
    pastLength: long.length,
    leftPad: [0, pad],
  });
  const aloneNext = await step(session, config, [[2]], {
    past: alone.past,
    pastLength: short.length,
  });
  const err2 = relativeError(next.logits.subarray(vocab), aloneNext.logits);
  console.log(`left padding: max relative error ${Math.max(err, err2).toExponential(2)}`);
  assert(err < 1e-5 && err2 < 1e-5, `relative errors ${err}, ${err2}`);
});

Deno.test("model.onnx with external data gives the same logits as the inline model", async () => {
  const external = await buildModel({
    preset: "tiny",
    outDir: join(root, "external"),
    seed: 7,
    externalData: true,
  });
  const dataPath = join(external.outDir, "onnx", "model.onnx_data");
  assert((await Deno.stat(dataPath)).size > (await Deno.stat(external.files[0]!.path)).size);
  const config = JSON.parse(await Deno.readTextFile(join(external.outDir, "config.json")));
  assertEquals(config["transformers.js_config"].use_external_data_format, { "model.onnx": 1 });
  const prompt = ids(10, tied.config.vocab_size);
  const a = await step(await createSession(tied.files[0]!.path), tied.config, [prompt]);
  const b = await step(await createSession(external.files[0]!.path), tied.config, [prompt]);
  assertEquals(Array.from(b.logits), Array.from(a.logits));
});

const quantizerReady = (await loadQuantizer()) !== null;

/** Documented bounds on tiny (max |Δlogit| / max |logit| vs the float64 reference, 48 tokens). */
const VARIANT_BOUNDS: Record<string, number> = { fp16: 5e-3, q8: 5e-2, q4: 0.25, q4f16: 0.25 };

Deno.test({
  name: "quantized variants stay within their documented logit error bounds of the reference",
  ignore: skipIf(
    "quantized variants vs reference",
    quantizerReady ? null : "no quantizer (loadQuantizer() returned null)",
  ),
  fn: async () => {
    const report = await buildModel({
      preset: "tiny",
      outDir: join(root, "variants"),
      seed: 7,
      dtypes: ["fp16", "q8", "q4", "q4f16"],
    });
    const prompt = ids(48, report.config.vocab_size, 2);
    const expected = referenceForward(loadReferenceModel(report.outDir), prompt);
    const errors: Record<string, number> = {};
    for (const file of report.files) {
      const { logits } = await step(await createSession(file.path), report.config, [prompt]);
      errors[file.dtype] = relativeError(logits, expected);
    }
    console.log("relative logit error vs reference:", errors);
    for (const [dtype, bound] of Object.entries(VARIANT_BOUNDS)) {
      assert(errors[dtype]! < bound, `${dtype}: ${errors[dtype]} >= ${bound}`);
      assert(errors[dtype]! > errors.fp32!, `${dtype} must differ from fp32`);
    }
  },
});

Deno.test("attention 'gqa' (com.microsoft GroupQueryAttention) matches the reference, prefill and decode", async () => {
  const gqa = await buildModel({
    preset: "tiny",
    outDir: join(root, "gqa"),
    seed: 7,
    attention: "gqa",
  });
  const model = JSON.parse(await Deno.readTextFile(join(gqa.outDir, "onnx", "..", "config.json")));
  assertEquals(model.turbo_inference.attention, "gqa");
  const session = await createSession(gqa.files[0]!.path);
  const prompt = ids(20, gqa.config.vocab_size, 4);
  const vocab = gqa.config.vocab_size;
  const expected = referenceForward(loadReferenceModel(gqa.outDir), prompt);
  const full = await step(session, gqa.config, [prompt]);
  let worst = relativeError(full.logits, expected);
  let result = await step(session, gqa.config, [prompt.slice(0, 6)]);
  for (let t = 6; t < prompt.length; t++) {
    result = await step(session, gqa.config, [[prompt[t]!]], { past: result.past, pastLength: t });
    worst = Math.max(
      worst,
      relativeError(result.logits, expected.subarray(t * vocab, (t + 1) * vocab)),
    );
  }
  console.log(`gqa vs reference (prefill + decode): max relative error ${worst.toExponential(2)}`);
  assert(worst < 1e-4, `relative error ${worst}`);
  assertEquals(result.past["past_key_values.1.value"]!.dims, [1, 2, prompt.length, 16]);
});

Deno.test("llama3 rope_scaling: ORT logits match the reference", async () => {
  const scaled = await buildModel({
    preset: "tiny",
    outDir: join(root, "rope-scaled"),
    seed: 7,
    config: {
      rope_scaling: {
        rope_type: "llama3",
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 64,
      },
    },
  });
  const config = JSON.parse(await Deno.readTextFile(join(scaled.outDir, "config.json")));
  assertEquals(config.rope_scaling.rope_type, "llama3");
  const prompt = ids(30, scaled.config.vocab_size, 9);
  const expected = referenceForward(loadReferenceModel(scaled.outDir), prompt);
  const { logits } = await step(await createSession(scaled.files[0]!.path), scaled.config, [
    prompt,
  ]);
  assert(relativeError(logits, expected) < 1e-4);
  const plain = referenceForward(loadReferenceModel(tied.outDir), prompt);
  assert(relativeError(plain, expected) > 1e-3, "scaling changes the logits");
});
