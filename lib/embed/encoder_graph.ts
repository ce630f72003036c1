/**
 * The ONNX graph of a BERT encoder in the Optimum / transformers.js feature-extraction layout:
 * inputs `input_ids`, `attention_mask`, `token_type_ids` (int64 `[batch_size, sequence_length]`),
 * output `last_hidden_state` (`[batch_size, sequence_length, hidden_size]`). Opset-17 operators
 * only (LayerNormalization, Erf GELU); every linear layer is a `MatMul` whose B is an `[in, out]`
 * initializer followed by an `Add` of its bias, so the project's quantizer rewrites it.
 *
 * @module
 */
import { float, GraphBuilder, writeModel } from "../onnx/graph.ts";
import { type ParameterSpec, weightValues } from "../model/weights.ts";
import { type EncoderConfig, encoderParameterSpecs } from "./presets.ts";

/** Symbolic dimension names, as Optimum exports name them. */
export const ENCODER_DIMS: Readonly<{ batch: "batch_size"; sequence: "sequence_length" }> = Object
  .freeze({ batch: "batch_size", sequence: "sequence_length" } as const);

/** The encoder's inputs, in graph order. */
export const ENCODER_INPUTS: readonly ["input_ids", "attention_mask", "token_type_ids"] = Object
  .freeze(["input_ids", "attention_mask", "token_type_ids"] as const);

/** Score given to padding keys before the softmax; representable in fp16. */
export const ENCODER_MASK_VALUE = -65504;

/**
 * Writes the fp32 ONNX model of an encoder configuration with deterministic weights (inline:
 * every encoder preset is far below ONNX's 2 GB limit).
 *
 * @param config The configuration (validated by the caller).
 * @param path Where the `.onnx` file goes.
 * @param options The weight seed.
 * @returns The bytes written.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeEncoderOnnx } from "./encoder_graph.ts";
 * import { ENCODER_PRESETS } from "./presets.ts";
 * const path = `${Deno.makeTempDirSync()}/model.onnx`;
 * assert(await writeEncoderOnnx(ENCODER_PRESETS["minilm-tiny"]!, path, { seed: 42 }) > 0);
 * ```
 */
export async function writeEncoderOnnx(
  config: Readonly<EncoderConfig>,
  path: string,
  options: { seed: number },
): Promise<number> {
  const g = new GraphBuilder("main_graph");
  buildEncoderGraph(g, config, options.seed);
  await writeModel(path, g.toModelBytes({ opset: 17 }));
  return (await Deno.stat(path)).size;
}

function buildEncoderGraph(g: GraphBuilder, config: Readonly<EncoderConfig>, seed: number): void {
  const std = config.initializer_range;
  const specs = new Map(encoderParameterSpecs(config).map((s) => [s.name, s]));
  const spec = (name: string): ParameterSpec => {
    const found = specs.get(name);
    if (!found) throw new TypeError(`writeEncoderOnnx: no parameter '${name}'`);
    return found;
  };
  /** A parameter as an initializer; `transposed` turns torch `[out, in]` into `[in, out]`. */
  const param = (name: string, onnxName = name, transposed = false): string => {
    const p = spec(name);
    const dims = transposed && p.shape.length === 2 ? [p.shape[1], p.shape[0]] : [...p.shape];
    return g.initializer(onnxName, "float32", dims, weightValues(p, { seed, std, transposed }));
  };
  const heads = config.num_attention_heads;
  const headDim = config.hidden_size / heads;
  const { batch, sequence } = ENCODER_DIMS;
  for (const name of ENCODER_INPUTS) g.input(name, "int64", [batch, sequence]);
  g.output("last_hidden_state", "float32", [batch, sequence, config.hidden_size]);

  const i64 = (name: string, values: number[], dims: number[] = [values.length]) =>
    g.initializer(name, "int64", dims, BigInt64Array.from(values.map(BigInt)));
  const f32 = (name: string, value: number) =>
    g.initializer(name, "float32", [], Float32Array.of(value));
  const zero = i64("const_zero", [0], []);
  const one = i64("const_one", [1], []);
  const axes12 = i64("const_axes_1_2", [1, 2]);
  const headShape = i64("const_head_shape", [0, 0, heads, headDim]);
  const mergeShape = i64("const_merge_shape", [0, 0, config.hidden_size]);
  const scale = f32("const_attn_scale", 1 / Math.sqrt(headDim));
  const maskValue = f32("const_mask_value", ENCODER_MASK_VALUE);
  const half = f32("const_half", 0.5);
  const unit = f32("const_one_f", 1);
  const sqrt2 = f32("const_sqrt2", Math.SQRT2);

  const layerNorm = (x: string, prefix: string): string =>
    g.node(
      "LayerNormalization",
      [x, param(`${prefix}.weight`), param(`${prefix}.bias`)],
      undefined,
      { axis: -1, epsilon: float(config.layer_norm_eps) },
    )[0]!;
  const linear = (x: string, prefix: string): string => {
    const w = param(`${prefix}.weight`, `${prefix}.MatMul.weight`, true);
    const [mm] = g.node("MatMul", [x, w]);
    return g.node("Add", [mm!, param(`${prefix}.bias`)])[0]!;
  };
  // GELU as BERT defines it: 0.5 · x · (1 + erf(x / √2)).
  const gelu = (x: string): string => {
    const [scaled] = g.node("Div", [x, sqrt2]);
    const [erf] = g.node("Erf", [scaled!]);
    const [plus] = g.node("Add", [erf!, unit]);
    const [times] = g.node("Mul", [x, plus!]);
    return g.node("Mul", [times!, half])[0]!;
  };

  // Embeddings: word + absolute position (0…S-1) + token type, then LayerNorm.
  const [idsShape] = g.node("Shape", ["input_ids"]);
  const [seqLen] = g.node("Gather", [idsShape!, one], undefined, { axis: 0 });
  const [positions] = g.node("Range", [zero, seqLen!, one]);
  const wordTable = param("embeddings.word_embeddings.weight");
  const positionTable = param("embeddings.position_embeddings.weight");
  const typeTable = param("embeddings.token_type_embeddings.weight");
  const [words] = g.node("Gather", [wordTable, "input_ids"], undefined, { axis: 0 });
  const [pos] = g.node("Gather", [positionTable, positions!], undefined, { axis: 0 });
  const [types] = g.node("Gather", [typeTable, "token_type_ids"], undefined, { axis: 0 });
  const [sum1] = g.node("Add", [words!, pos!]);
  const [sum2] = g.node("Add", [sum1!, types!]);
  let x = layerNorm(sum2!, "embeddings.LayerNorm");

  // Key mask [B, 1, 1, S]: padding keys get ENCODER_MASK_VALUE before the softmax.
  const [maskBool] = g.node("Cast", ["attention_mask"], undefined, { to: 9 });
  const [visible] = g.node("Unsqueeze", [maskBool!, axes12]);

  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    const split = (t: string, perm: number[]): string => {
      const [r] = g.node("Reshape", [t, headShape]);
      return g.node("Transpose", [r!], undefined, { perm })[0]!;
    };
    const q = split(linear(x, `${p}.attention.self.query`), [0, 2, 1, 3]); // [B, H, S, D]
    const kT = split(linear(x, `${p}.attention.self.key`), [0, 2, 3, 1]); // [B, H, D, S]
    const v = split(linear(x, `${p}.attention.self.value`), [0, 2, 1, 3]);
    const [qScaled] = g.node("Mul", [q, scale]);
    const [scores] = g.node("MatMul", [qScaled!, kT]); // [B, H, S, S]
    const [masked] = g.node("Where", [visible!, scores!, maskValue]);
    const [probs] = g.node("Softmax", [masked!], undefined, { axis: -1 });
    const [ctx] = g.node("MatMul", [probs!, v]);
    const [ctxT] = g.node("Transpose", [ctx!], undefined, { perm: [0, 2, 1, 3] });
    const [merged] = g.node("Reshape", [ctxT!, mergeShape]);
    const attnOut = linear(merged!, `${p}.attention.output.dense`);
    const [res1] = g.node("Add", [attnOut, x]);
    const h = layerNorm(res1!, `${p}.attention.output.LayerNorm`);
    const inter = gelu(linear(h, `${p}.intermediate.dense`));
    const out = linear(inter, `${p}.output.dense`);
    const [res2] = g.node("Add", [out, h]);
    x = layerNorm(res2!, `${p}.output.LayerNorm`);
  }
  g.node("Identity", [x], ["last_hidden_state"]);
}
