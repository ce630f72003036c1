/**
 * Private test fixture: a small decoder-shaped float32 graph built with GraphBuilder (Gather
 * embedding, RMSNorm as Pow/ReduceMean/Add/Sqrt/Div/Mul, an attention mask Cast, MatMuls with
 * constant [in, out] weights, Softmax attention whose MatMuls have no constant B, a KV-like
 * Concat from `past_key_values.0.key` to `present.0.key`, and an LM head producing `logits`).
 *
 * @module
 */
import { float, GraphBuilder, writeModel } from "../onnx/graph.ts";
import { join } from "node:path";
import { mulberry32 } from "../_rng.ts";

/** Sizes of the fixture. */
export const FIXTURE = Object.freeze({ vocab: 48, hidden: 64, ffn: 128, kvHeads: 2, headDim: 8 });

/** Deterministic pseudo-random values in [-scale, scale) (mulberry32). */
export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

/** Options of {@linkcode writeFixtureModel}. */
export interface FixtureOptions {
  /** In-features of the first MLP MatMul (default `hidden`); set to break block divisibility. */
  hidden?: number;
  /** Store initializers in `model.onnx_data`. @default false */
  external?: boolean;
  /** Build without any constant-B MatMul. @default false */
  noMatMul?: boolean;
}

/** Writes the fixture to `dir/model.onnx` and returns its path. */
export async function writeFixtureModel(
  dir: string,
  options: FixtureOptions = {},
): Promise<string> {
  const { vocab, ffn, kvHeads, headDim } = FIXTURE;
  const hidden = options.hidden ?? FIXTURE.hidden;
  const g = new GraphBuilder("fixture");
  g.input("input_ids", "int64", ["batch", "seq"]);
  g.input("attention_mask", "int64", ["batch", "seq"]);
  g.input("past_key_values.0.key", "float32", ["batch", kvHeads, "past", headDim]);
  g.output("logits", "float32", ["batch", "seq", vocab]);
  g.output("present.0.key", "float32", ["batch", kvHeads, "total", headDim]);
  const emb = g.initializer(
    "embed.weight",
    "float32",
    [vocab, hidden],
    randomValues(vocab * hidden, 1),
  );
  const [x] = g.node("Gather", [emb, "input_ids"], undefined, { axis: 0 });
  // RMSNorm
  const two = g.initializer("two", "float32", [], new Float32Array([2]));
  const eps = g.initializer("eps", "float32", [], new Float32Array([1e-5]));
  const gamma = g.initializer("norm.weight", "float32", [hidden], randomValues(hidden, 2, 1));
  const [sq] = g.node("Pow", [x!, two]);
  const [ms] = g.node("ReduceMean", [sq!], undefined, { axes: [-1], keepdims: 1 });
  const [mse] = g.node("Add", [ms!, eps]);
  const [rms] = g.node("Sqrt", [mse!]);
  const [xn] = g.node("Div", [x!, rms!]);
  const [h0] = g.node("Mul", [xn!, gamma]);
  // attention mask as float (Cast to float → Unsqueeze → Mul)
  const [maskF] = g.node("Cast", ["attention_mask"], undefined, { to: 1 });
  const axes = g.initializer("axes2", "int64", [1], new BigInt64Array([2n]));
  const [mask3] = g.node("Unsqueeze", [maskF!, axes]);
  const [h] = g.node("Mul", [h0!, mask3!]);
  // self-attention-like block: MatMuls without constant B
  const [ht] = g.node("Transpose", [h!], undefined, { perm: [0, 2, 1] });
  const [scores] = g.node("MatMul", [h!, ht!]);
  // A Constant node (value_float), as exporters write scalars.
  const [scale] = g.node("Constant", [], undefined, { value_float: float(1 / Math.sqrt(hidden)) });
  const [scaled] = g.node("Mul", [scores!, scale!]);
  const [probs] = g.node("Softmax", [scaled!], undefined, { axis: -1 });
  const [att] = g.node("MatMul", [probs!, h!]);
  const [h1] = g.node("Add", [h!, att!]);
  if (!options.noMatMul) {
    // KV-like path: k = reshape(h1 @ Wk) → [b, kvHeads, s, headDim], present = concat(past, k)
    const wk = g.initializer(
      "k_proj.weight",
      "float32",
      [hidden, kvHeads * headDim],
      randomValues(hidden * kvHeads * headDim, 3, 0.2),
    );
    const [k] = g.node("MatMul", [h1!, wk]);
    const shape = g.initializer(
      "kv_shape",
      "int64",
      [4],
      new BigInt64Array([0n, 0n, BigInt(kvHeads), BigInt(headDim)]),
    );
    const [k4] = g.node("Reshape", [k!, shape]);
    const [kt] = g.node("Transpose", [k4!], undefined, { perm: [0, 2, 1, 3] });
    g.node("Concat", ["past_key_values.0.key", kt!], ["present.0.key"], { axis: 2 });
    // MLP: up (SiLU) → down, residual
    const w1 = g.initializer(
      "mlp.up.weight",
      "float32",
      [hidden, ffn],
      randomValues(hidden * ffn, 4, 0.2),
    );
    const w2 = g.initializer(
      "mlp.down.weight",
      "float32",
      [ffn, hidden],
      randomValues(ffn * hidden, 5, 0.2),
    );
    const [u] = g.node("MatMul", [h1!, w1]);
    const [sg] = g.node("Sigmoid", [u!]);
    const [act] = g.node("Mul", [u!, sg!]);
    const [d] = g.node("MatMul", [act!, w2]);
    const [h2] = g.node("Add", [h1!, d!]);
    const head = g.initializer(
      "lm_head.weight",
      "float32",
      [hidden, vocab],
      randomValues(hidden * vocab, 6, 0.2),
    );
    g.node("MatMul", [h2!, head], ["logits"]);
  } else {
    g.node("Identity", ["past_key_values.0.key"], ["present.0.key"]);
    const [r] = g.node("ReduceMean", [h1!], undefined, { axes: [-1], keepdims: 1 });
    const reps = g.initializer("reps", "int64", [3], new BigInt64Array([1n, 1n, BigInt(vocab)]));
    g.node("Tile", [r!, reps], ["logits"]);
  }
  const path = join(dir, "model.onnx");
  const encoded = g.toModelBytes(options.external ? { externalDataName: "model.onnx_data" } : {});
  await writeModel(path, encoded, join(dir, "model.onnx_data"));
  return path;
}
