import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { createSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { DT } from "./_proto.ts";
import { OnnxFile } from "./onnx_file.ts";
import { quantizeModel } from "./quantize_model.ts";

/** y = CumSum(x * 2) + Range(0, n) — CumSum and Range are kept in float32 by default. */
async function rangeModel(dir: string): Promise<string> {
  const g = new GraphBuilder("range");
  g.input("x", "float32", [4]).output("y", "float32", [4]);
  const two = g.initializer("two", "float32", [], new Float32Array([2]));
  const axis = g.initializer("axis", "int64", [], new BigInt64Array([0n]));
  const [doubled] = g.node("Mul", ["x", two]);
  const [summed] = g.node("CumSum", [doubled!, axis]);
  const start = g.initializer("start", "float32", [], new Float32Array([0]));
  const limit = g.initializer("limit", "float32", [], new Float32Array([4]));
  const delta = g.initializer("delta", "float32", [], new Float32Array([1]));
  const [range] = g.node("Range", [start, limit, delta]);
  g.node("Add", [summed!, range!], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(path, g.toModelBytes());
  return path;
}

Deno.test("convertGraphToFloat16() wraps float32-only ops in Casts; the model runs on ORT CPU", async () => {
  const dir = await Deno.makeTempDir();
  const path = await rangeModel(dir);
  const [r] = await quantizeModel(path, ["fp16"]);
  const f = await OnnxFile.open(r!.path);
  const nodes = f.graph.node ?? [];
  const inits = f.initializers();
  f.close();
  for (const op of ["CumSum", "Range"]) {
    const node = nodes.find((n) => n.opType === op)!;
    const floatInputs = node.input!.filter((i) => i !== "axis");
    assert(floatInputs.every((i) => i.endsWith("_fp32")), `${op} reads float32 casts`);
    assert(node.output![0]!.endsWith("_fp32"));
  }
  assert(inits.filter((t) => t.name !== "axis").every((t) => t.dataType === DT.FLOAT16));
  assertEquals(f.graph.input![0]!.type!.tensorType!.elemType, DT.FLOAT16);
  const s = await createSession(r!.path);
  const x = new Uint16Array(new Float16Array([1, 2, 3, 4]).buffer);
  const out = await s.session.run({ x: new ort.Tensor("float16", x, [4]) });
  assertEquals(out.y!.type, "float16");
  assertEquals(Array.from(toFloat32(out.y!)), [2, 7, 14, 23]);
});

Deno.test("convertGraphToFloat16() with keepFloat32Ops [] converts every op", async () => {
  const dir = await Deno.makeTempDir();
  const path = await rangeModel(dir);
  const [r] = await quantizeModel(path, ["fp16"], { keepFloat32Ops: [] });
  const f = await OnnxFile.open(r!.path);
  const casts = (f.graph.node ?? []).filter((n) => n.opType === "Cast").length;
  f.close();
  assertEquals(casts, 0);
});

/** y = RMSNorm(x) * gamma with the builder's op pattern Pow/ReduceMean/Add/Sqrt/Div/Mul. */
async function rmsNormModel(dir: string): Promise<string> {
  const g = new GraphBuilder("rms");
  g.input("x", "float32", [1, 8]).output("y", "float32", [1, 8]);
  const two = g.initializer("two", "float32", [], new Float32Array([2]));
  const eps = g.initializer("eps", "float32", [], new Float32Array([1e-5]));
  const gamma = g.initializer("gamma", "float32", [8], new Float32Array(8).fill(0.5));
  const [sq] = g.node("Pow", ["x", two]);
  const [ms] = g.node("ReduceMean", [sq!], undefined, { axes: [-1], keepdims: 1 });
  const [mse] = g.node("Add", [ms!, eps]);
  const [rms] = g.node("Sqrt", [mse!]);
  const [xn] = g.node("Div", ["x", rms!]);
  g.node("Mul", [xn!, gamma], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(path, g.toModelBytes());
  return path;
}

Deno.test("convertGraphToFloat16() runs RMSNorm statistics in float32: x² of activations ~1000 stays finite", async () => {
  // Activations of ~1000 (as in real LLM hidden states): x² ≈ 1e6 > 65504, the float16 maximum.
  const x = [1000, -800, 1200, 900, -1100, 700, 1000, -950];
  const meanSq = x.reduce((s, v) => s + v * v, 0) / x.length;
  const expected = x.map((v) => (v / Math.sqrt(meanSq + 1e-5)) * 0.5);
  // Both without ("basic") and with ("all") ORT's SimplifiedLayerNormalization fusion.
  const run = async (float32Norms: boolean, graphOptimizationLevel: "basic" | "all") => {
    const dir = await Deno.makeTempDir();
    const [r] = await quantizeModel(await rmsNormModel(dir), ["fp16"], { float32Norms });
    const s = await createSession(r!.path, { graphOptimizationLevel });
    const out = await s.session.run({
      x: new ort.Tensor("float16", new Uint16Array(new Float16Array(x).buffer), [1, 8]),
    });
    return { y: Array.from(toFloat32(out.y!)), path: r!.path };
  };
  const kept = await run(true, "basic");
  kept.y.forEach((v, i) => assert(Math.abs(v - expected[i]!) < 2e-3, `y[${i}] = ${v}`));
  const fused = await run(true, "all");
  fused.y.forEach((v, i) => assert(Math.abs(v - expected[i]!) < 2e-3, `fused y[${i}] = ${v}`));
  const f = await OnnxFile.open(kept.path);
  const ops = (f.graph.node ?? []).map((n) => n.opType);
  f.close();
  // Casts: x and the exponent to float32 in; Div's output back to float16.
  assertEquals(ops, [
    "Cast",
    "Cast",
    "Pow",
    "ReduceMean",
    "Cast",
    "Add",
    "Sqrt",
    "Div",
    "Cast",
    "Mul",
  ]);
  // Without the float32 region the chain is plain float16 (ORT CPU still computes these ops in
  // float32 through its own Casts; GPU providers with float16 kernels would overflow).
  const plain = await run(false, "basic");
  const g = await OnnxFile.open(plain.path);
  assertEquals((g.graph.node ?? []).filter((n) => n.opType === "Cast").length, 0);
  g.close();
});

Deno.test("convertGraphToFloat16() converts If branches: their constants, initializers and outputs", async () => {
  const { onnx } = (await import("onnx-proto")).default;
  const T = onnx.AttributeProto.AttributeType;
  const f32 = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const floatTensor = (name: string, values: number[]) => ({
    name,
    dataType: DT.FLOAT,
    dims: [values.length],
    rawData: new Uint8Array(new Float32Array(values).buffer),
  });
  const thenBranch = {
    name: "then",
    node: [
      {
        opType: "Constant",
        output: ["c"],
        attribute: [{ name: "value", type: T.TENSOR, t: floatTensor("", [2]) }],
      },
      { opType: "Mul", input: ["x", "c"], output: ["t_out"] },
    ],
    output: [f32("t_out", [4])],
  };
  const elseBranch = {
    name: "else",
    initializer: [floatTensor("one", [1])],
    node: [{ opType: "Add", input: ["x", "one"], output: ["e_out"] }],
    output: [f32("e_out", [4])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "if",
      input: [f32("x", [4]), {
        name: "cond",
        type: { tensorType: { elemType: DT.BOOL, shape: { dim: [] } } },
      }],
      output: [f32("y", [4])],
      node: [{
        opType: "If",
        input: ["cond"],
        output: ["y"],
        attribute: [
          { name: "then_branch", type: T.GRAPH, g: thenBranch },
          { name: "else_branch", type: T.GRAPH, g: elseBranch },
        ],
      }],
    },
  });
  const dir = await Deno.makeTempDir();
  const path = join(dir, "model.onnx");
  await Deno.writeFile(path, onnx.ModelProto.encode(model).finish());
  const [r] = await quantizeModel(path, ["fp16"]);
  const s = await createSession(r!.path);
  const x = new ort.Tensor("float16", new Uint16Array(new Float16Array([1, 2, 3, 4]).buffer), [4]);
  for (const [cond, expected] of [[true, [2, 4, 6, 8]], [false, [2, 3, 4, 5]]] as const) {
    const out = await s.session.run({
      x,
      cond: new ort.Tensor("bool", new Uint8Array([cond ? 1 : 0]), []),
    });
    assertEquals(out.y!.type, "float16");
    assertEquals(Array.from(toFloat32(out.y!)), [...expected]);
  }
});
