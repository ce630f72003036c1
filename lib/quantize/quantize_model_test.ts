import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { createSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { asFloat32, bytesOf, DT } from "./_proto.ts";
import { FIXTURE, writeFixtureModel } from "./_test_graph.ts";
import { toFloat16Bits } from "./float16.ts";
import { lazyTensor } from "./lazy_tensor.ts";
import { OnnxFile } from "./onnx_file.ts";
import { writeOnnxModel } from "./onnx_writer.ts";
import { dequantizeQ4, quantizeQ4 } from "./q4.ts";
import {
  DEFAULT_ACCURACY_LEVEL,
  DEFAULT_INT8_KIND,
  quantizeModel,
  variantPath,
} from "./quantize_model.ts";
import { quantizationLabel, readQuantizationMetadata } from "./quantization_metadata.ts";

// The variants ORT's CPU provider runs on this fixture; bf16 (no CPU kernels) and q4gptq (needs a
// decoder with config.json to calibrate) are tested in bfloat16_graph_test.ts and gptq_test.ts.
const CPU_DTYPES = ["fp16", "q8", "q4", "q4f16"] as const;

const { kvHeads, headDim, vocab } = FIXTURE;
const PAST = 3;

/** Runs a fixture-shaped model; float16 models get the same past values as float16. */
async function run(path: string, float16: boolean) {
  const past = Float32Array.from({ length: kvHeads * PAST * headDim }, (_, i) => (i % 7) / 8 - 0.4);
  const s = await createSession(path);
  const out = await s.session.run({
    input_ids: new ort.Tensor("int64", new BigInt64Array([1n, 5n, 7n, 9n, 40n]), [1, 5]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array([1n, 1n, 1n, 1n, 1n]), [1, 5]),
    "past_key_values.0.key": float16
      ? new ort.Tensor("float16", toFloat16Bits(past), [1, kvHeads, PAST, headDim])
      : new ort.Tensor("float32", past, [1, kvHeads, PAST, headDim]),
  });
  await s.session.release();
  return { logits: out.logits!, present: out["present.0.key"]!, past, inputs: s.inputNames };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Op types of a written model's main graph. */
async function opTypes(path: string): Promise<string[]> {
  const f = await OnnxFile.open(path);
  try {
    return (f.graph.node ?? []).map((n) => n.opType ?? "");
  } finally {
    f.close();
  }
}

// Bounds on max |logit − fp32 logit| relative to max |fp32 logit| for the fixture (measured:
// fp16 ≈ 0.03 %, q8 ≈ 0.7 %, q4/q4f16 ≈ 7 %); the q4 bound is loose on purpose: the exactness
// of q4 is asserted against dequantised weights below.
const RELATIVE_BOUND = { fp16: 0.005, q8: 0.03, q4: 0.15, q4f16: 0.15 } as const;

Deno.test("quantizeModel() writes every variant; each runs on ORT CPU within its bound of fp32", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const ref = await run(path, false);
  const refLogits = toFloat32(ref.logits);
  const reports = await quantizeModel(path, [...CPU_DTYPES]);
  assertEquals(reports.map((r) => r.dtype), [...CPU_DTYPES]);
  for (const r of reports) {
    assertEquals(r.path, variantPath(path, r.dtype));
    assertEquals(r.bytes, (await Deno.stat(r.path)).size);
    assertEquals(r.externalDataPath, null);
    const float16 = r.dtype === "fp16" || r.dtype === "q4f16";
    const out = await run(r.path, float16);
    assertEquals(out.inputs, ref.inputs, "graph I/O names are kept");
    assertEquals(out.logits.type, float16 ? "float16" : "float32");
    assertEquals(out.logits.dims, [1, 5, vocab]);
    const rel = maxAbsDiff(toFloat32(out.logits), refLogits) / maxAbs(refLogits);
    assert(
      rel <= RELATIVE_BOUND[r.dtype as typeof CPU_DTYPES[number]],
      `${r.dtype}: relative error ${rel}`,
    );
    assert(rel > 0, `${r.dtype} differs from fp32 at all`);
    assertEquals(r.matmulsRewritten, r.dtype === "fp16" ? 0 : 4);
  }
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  assertEquals(names, [
    "model.onnx",
    "model_fp16.onnx",
    "model_q4.onnx",
    "model_q4f16.onnx",
    "model_quantized.onnx",
  ]);
});

Deno.test("quantizeModel() fp16 takes and returns float16 KV, passing past values through exactly", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const [r] = await quantizeModel(path, ["fp16"]);
  const out = await run(r!.path, true);
  assertEquals(out.present.type, "float16");
  assertEquals(out.present.dims, [1, kvHeads, PAST + 5, headDim]);
  const present = toFloat32(out.present);
  const expected = new Float16Array(out.past);
  for (let h = 0; h < kvHeads; h++) {
    for (let i = 0; i < PAST * headDim; i++) {
      assertEquals(present[h * (PAST + 5) * headDim + i], expected[h * PAST * headDim + i]);
    }
  }
  const ops = await opTypes(r!.path);
  assert(ops.includes("MatMul") && !ops.includes("MatMulNBits"));
});

Deno.test("quantizeModel() q4 at accuracy level 0 equals the fp32 graph run with dequantizeQ4() weights", async () => {
  for (const symmetric of [false, true]) {
    const dir = await Deno.makeTempDir();
    const path = await writeFixtureModel(dir);
    const [r] = await quantizeModel(path, ["q4"], { symmetric, accuracyLevel: 0 });
    // The same graph, float32, with each MatMul weight replaced by its dequantised q4 value.
    const src = await OnnxFile.open(path);
    const tensors = await Promise.all(
      src.initializers().map(async (t) => {
        const bytes = await t.load();
        if (
          !t.name.endsWith("_proj.weight") && !t.name.startsWith("mlp.") &&
          t.name !== "lm_head.weight"
        ) {
          return lazyTensor(t.name, t.dataType, t.dims, bytes);
        }
        const q = quantizeQ4(asFloat32(bytes), [t.dims[0]!, t.dims[1]!], { symmetric });
        return lazyTensor(t.name, DT.FLOAT, t.dims, bytesOf(dequantizeQ4(q)));
      }),
    );
    const dequantised = join(dir, "dequantised.onnx");
    await writeOnnxModel(dequantised, src.model, tensors);
    src.close();
    const a = toFloat32((await run(r!.path, false)).logits);
    const b = toFloat32((await run(dequantised, false)).logits);
    assert(maxAbsDiff(a, b) <= 1e-4 * maxAbs(b), `symmetric ${symmetric}: ${maxAbsDiff(a, b)}`);
    const ops = await opTypes(r!.path);
    // Four MatMuls: k and MLP-up read the same activation and are packed into one.
    assertEquals(ops.filter((o) => o === "MatMulNBits").length, 3);
    assertEquals(
      ops.filter((o) => o === "MatMul").length,
      2,
      "attention MatMuls keep no constant B",
    );
    assert(ops.includes("Gather"), "embedding stays a float Gather");
  }
});

Deno.test("quantizeModel() q8 with int8Kind dynamic uses the quantize_dynamic pattern, one DynamicQuantizeLinear per activation", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const [r] = await quantizeModel(path, ["q8"], { int8Kind: "dynamic" });
  const ops = await opTypes(r!.path);
  assertEquals(ops.filter((o) => o === "MatMulInteger").length, 4);
  // k_proj and mlp.up share their input → 3 distinct quantised activations.
  assertEquals(ops.filter((o) => o === "DynamicQuantizeLinear").length, 3);
  assertEquals(ops.filter((o) => o === "Cast").length, 1 + 4);
  const f = await OnnxFile.open(r!.path);
  const names = f.initializers().map((t) => t.name);
  f.close();
  assert(names.includes("mlp.up.weight_quantized") && names.includes("mlp.up.weight_scale"));
  assert(!names.includes("mlp.up.weight"), "the float weight is dropped");
});

Deno.test("quantizeModel() keepLmHead keeps the logits MatMul in the variant's float type", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const reports = await quantizeModel(path, ["q4", "q4f16", "q8"], { keepLmHead: true });
  for (const r of reports) {
    assertEquals(r.matmulsRewritten, 3, r.dtype);
    const f = await OnnxFile.open(r.path);
    const head = f.graph.node!.find((n) => n.output?.[0] === "logits")!;
    const weight = f.initializers().find((t) => t.name === "lm_head.weight")!;
    f.close();
    assertEquals(head.opType, "MatMul");
    assertEquals(weight.dataType, r.dtype === "q4f16" ? DT.FLOAT16 : DT.FLOAT);
  }
});

Deno.test("quantizeModel() q4 shrinks the MatMul weights to about 1/7", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const reports = await quantizeModel(path, ["q4", "q4f16", "q8"], { symmetric: true });
  const ratio = Object.fromEntries(
    reports.map((r) => [r.dtype, r.quantizedWeightBytes / r.sourceWeightBytes]),
  );
  // Per 32 weights: 16 bytes of codes + one scale (4 bytes fp32, 2 bytes fp16) vs 128 bytes.
  assertEquals(ratio.q4, 20 / 128);
  assertEquals(ratio.q4f16, 18 / 128);
  assert(ratio.q4f16! < 1 / 7 && ratio.q4! < 1 / 6);
  // q8 nbits, symmetric: 32 bytes of codes + one fp32 scale per 32 weights.
  assertEquals(ratio.q8, 36 / 128);
  const fp32Bytes = (await Deno.stat(path)).size;
  assert(reports[0]!.bytes < fp32Bytes / 2);
});

Deno.test("quantizeModel() reads external data and writes it when over the threshold", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir, { external: true });
  const inlineDir = await Deno.makeTempDir();
  const inline = await writeFixtureModel(inlineDir);
  const [ext] = await quantizeModel(path, ["q4"], { externalDataThresholdBytes: 1 });
  const [inl] = await quantizeModel(inline, ["q4"]);
  assertEquals(ext!.externalDataPath, join(dir, "model_q4.onnx_data"));
  assertEquals(
    ext!.bytes,
    (await Deno.stat(ext!.path)).size + (await Deno.stat(ext!.externalDataPath!)).size,
  );
  const a = toFloat32((await run(ext!.path, false)).logits);
  const b = toFloat32((await run(inl!.path, false)).logits);
  assertEquals(Array.from(a), Array.from(b));
  // Re-writing inline (force) removes the stale external file.
  await quantizeModel(path, ["q4"], { force: true });
  await assertRejects(() => Deno.stat(join(dir, "model_q4.onnx_data")), Deno.errors.NotFound);
  const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
  assert(!left.some((n) => n.includes(".tmp")), left.join());
});

Deno.test("quantizeModel() rejects bad input with messages naming it", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  await assertRejects(
    () => quantizeModel(path, ["fp32"]),
    RangeError,
    "'fp32': accepted dtypes are fp16, bf16, q8, q4, q4f16, q4gptq",
  );
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => quantizeModel(path, ["int3" as any]),
    RangeError,
    "'int3'",
  );
  await assertRejects(() => quantizeModel(path, ["q4"], { blockSize: 48 }), RangeError, "got 48");
  await assertRejects(
    () => quantizeModel(join(dir, "none.onnx"), ["q4"]),
    Deno.errors.NotFound,
    "none.onnx",
  );
  const noMatMulDir = await Deno.makeTempDir();
  const noMatMul = await writeFixtureModel(noMatMulDir, { noMatMul: true });
  await assertRejects(
    () => quantizeModel(noMatMul, ["q8"]),
    RangeError,
    `'${noMatMul}' has no quantizable MatMul`,
  );
  const [fp16] = await quantizeModel(noMatMul, ["fp16"]);
  assert((await Deno.stat(fp16!.path)).isFile, "fp16 needs no MatMul");
  const oddDir = await Deno.makeTempDir();
  const odd = await writeFixtureModel(oddDir, { hidden: 48 });
  await assertRejects(
    () => quantizeModel(odd, ["q8", "q4"]),
    RangeError,
    "'k_proj.weight' [48, 16] to 4 bits: in-features 48 is not a multiple of blockSize 32",
  );
  const written = (await Array.fromAsync(Deno.readDir(oddDir))).map((e) => e.name);
  assertEquals(written, ["model.onnx"], "nothing is written when validation fails");
  await quantizeModel(path, ["q4"]);
  await assertRejects(
    () => quantizeModel(path, ["q8", "q4"]),
    Deno.errors.AlreadyExists,
    "model_q4.onnx' already exists",
  );
  await assertRejects(() => Deno.stat(variantPath(path, "q8")), Deno.errors.NotFound);
  const [again] = await quantizeModel(path, ["q4"], { force: true });
  assertEquals(again!.dtype, "q4");
});

Deno.test("quantizeModel() accuracyLevel 4 sets MatMulNBits accuracy_level; the model runs within the q4 bound", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const refLogits = toFloat32((await run(path, false)).logits);
  const [r] = await quantizeModel(path, ["q4"], { accuracyLevel: 4 });
  const f = await OnnxFile.open(r!.path);
  const levels = (f.graph.node ?? []).filter((n) => n.opType === "MatMulNBits").map((n) =>
    Number(n.attribute!.find((a) => a.name === "accuracy_level")?.i)
  );
  f.close();
  assertEquals(levels, [4, 4, 4]); // four MatMuls, two of them packed into one
  const logits = toFloat32((await run(r!.path, false)).logits);
  assert(maxAbsDiff(logits, refLogits) / maxAbs(refLogits) <= RELATIVE_BOUND.q4);
  await assertRejects(
    () => quantizeModel(path, ["q4"], { accuracyLevel: 5, force: true }),
    RangeError,
    "'accuracyLevel' must be an integer 0..4, got 5",
  );
});

Deno.test("quantizeModel() q8 int8Kind nbits writes 8-bit MatMulNBits; every variant records its settings in metadata_props", async () => {
  const dir = await Deno.makeTempDir();
  const path = await writeFixtureModel(dir);
  const refLogits = toFloat32((await run(path, false)).logits);
  const [r] = await quantizeModel(path, ["q8"], { int8Kind: "nbits", accuracyLevel: 0 });
  const f = await OnnxFile.open(r!.path);
  const nodes = (f.graph.node ?? []).filter((n) => n.opType === "MatMulNBits");
  assertEquals(nodes.map((n) => Number(n.attribute!.find((a) => a.name === "bits")?.i)), [
    8,
    8,
    8,
  ]);
  assert(!(f.graph.node ?? []).some((n) => n.opType === "MatMulInteger"));
  f.close();
  const logits = toFloat32((await run(r!.path, false)).logits);
  assert(maxAbsDiff(logits, refLogits) / maxAbs(refLogits) <= RELATIVE_BOUND.q8);
  assertEquals(await readQuantizationMetadata(r!.path), {
    dtype: "q8",
    bits: 8,
    block_size: 32,
    accuracy_level: 0,
    int8_kind: "nbits",
    symmetric: false,
    keep_lm_head: false,
    packed: true,
  });
  const reports = await quantizeModel(path, ["q8", "q4", "fp16"], { force: true });
  const labels = [];
  for (const rep of reports) {
    labels.push(quantizationLabel(await readQuantizationMetadata(rep.path)));
  }
  assertEquals(labels, [
    `q8 ${DEFAULT_INT8_KIND}${
      DEFAULT_INT8_KIND === "nbits" ? ` b32 acc${DEFAULT_ACCURACY_LEVEL}` : ""
    }`,
    `q4 b32 acc${DEFAULT_ACCURACY_LEVEL}`,
    "fp16",
  ]);
  assertEquals(await readQuantizationMetadata(path), null);
  await assertRejects(
    () => quantizeModel(path, ["q8"], { int8Kind: "fast" as "nbits", force: true }),
    RangeError,
    "'int8Kind' must be one of dynamic, nbits, got 'fast'",
  );
});
