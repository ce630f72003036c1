/**
 * The parameters of a Llama model and their deterministic values. Every element is a pure
 * function of (seed, parameter name, element index), so a tensor can be produced in any order
 * (the ONNX MatMul layout is the transpose of torch's) and in chunks (large presets stream to
 * disk without ever holding a whole tensor).
 *
 * @module
 */
import type { LlamaConfig } from "./presets.ts";

/** One parameter, as torch stores it (`[out, in]` for linear layers). */
export interface ParameterSpec {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** Torch shape. */
  shape: [number] | [number, number];
  /** `normal`: N(0, initializer_range); `ones`: RMSNorm weights. */
  init: "normal" | "ones";
}

/**
 * The parameters of a configuration in safetensors order (embedding, layers, final norm, LM head
 * unless tied), with Hugging Face names.
 *
 * @param config The configuration.
 * @returns One spec per parameter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterSpecs } from "./weights.ts";
 * import { PRESETS } from "./presets.ts";
 * assert(parameterSpecs(PRESETS.tiny!)[0]!.name === "model.embed_tokens.weight");
 * ```
 */
export function parameterSpecs(config: Readonly<LlamaConfig>): ParameterSpec[] {
  const h = config.hidden_size;
  const q = config.num_attention_heads * config.head_dim;
  const kv = config.num_key_value_heads * config.head_dim;
  const inter = config.intermediate_size;
  const specs: ParameterSpec[] = [
    { name: "model.embed_tokens.weight", shape: [config.vocab_size, h], init: "normal" },
  ];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, shape: [h], init: "ones" },
      { name: `${p}.self_attn.q_proj.weight`, shape: [q, h], init: "normal" },
      { name: `${p}.self_attn.k_proj.weight`, shape: [kv, h], init: "normal" },
      { name: `${p}.self_attn.v_proj.weight`, shape: [kv, h], init: "normal" },
      { name: `${p}.self_attn.o_proj.weight`, shape: [h, q], init: "normal" },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h], init: "ones" },
      { name: `${p}.mlp.gate_proj.weight`, shape: [inter, h], init: "normal" },
      { name: `${p}.mlp.up_proj.weight`, shape: [inter, h], init: "normal" },
      { name: `${p}.mlp.down_proj.weight`, shape: [h, inter], init: "normal" },
    );
    const biased = config.attention_bias === true
      ? ["q", "k", "v", "o"]
      : config.attention_bias === "qkv"
      ? ["q", "k", "v"]
      : [];
    for (const b of biased) {
      const width = b === "q" ? q : b === "o" ? h : kv;
      specs.push({ name: `${p}.self_attn.${b}_proj.bias`, shape: [width], init: "normal" });
    }
  }
  specs.push({ name: "model.norm.weight", shape: [h], init: "ones" });
  if (!config.tie_word_embeddings) {
    specs.push({ name: "lm_head.weight", shape: [config.vocab_size, h], init: "normal" });
  }
  return specs;
}

/** Elements per chunk yielded by {@linkcode weightChunks}: 4 MiB of float32. */
export const CHUNK_ELEMENTS = 1 << 20;

/**
 * Yields a parameter's float32 values in chunks, in torch layout (`transposed: false`) or, for a
 * 2-D parameter, in the transposed `[in, out]` layout that ONNX MatMul weights use.
 *
 * @param spec The parameter.
 * @param options Seed, standard deviation and layout.
 * @returns Chunks of at most {@linkcode CHUNK_ELEMENTS} values (each a fresh array).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightChunks } from "./weights.ts";
 * const spec = { name: "w", shape: [2, 3] as [number, number], init: "normal" as const };
 * const [a] = [...weightChunks(spec, { seed: 1, std: 0.02 })];
 * const [t] = [...weightChunks(spec, { seed: 1, std: 0.02, transposed: true })];
 * assert(a![1] === t![2]); // w[0][1] == wᵀ[1][0]
 * ```
 */
export function* weightChunks(
  spec: ParameterSpec,
  options: { seed: number; std: number; transposed?: boolean },
): Generator<Float32Array> {
  const total = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.init === "ones") {
    for (let start = 0; start < total; start += CHUNK_ELEMENTS) {
      yield new Float32Array(Math.min(CHUNK_ELEMENTS, total - start)).fill(1);
    }
    return;
  }
  const key = streamKey(options.seed, spec.name);
  const std = options.std;
  if (!options.transposed || spec.shape.length === 1) {
    for (let start = 0; start < total; start += CHUNK_ELEMENTS) {
      const out = new Float32Array(Math.min(CHUNK_ELEMENTS, total - start));
      fillNormal(out, key, start, std);
      yield out;
    }
    return;
  }
  // Transposed: output row r (an input feature) gathers column r of the torch matrix.
  const [rows, cols] = spec.shape;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / rows));
  for (let c0 = 0; c0 < cols; c0 += rowsPerChunk) {
    const c1 = Math.min(cols, c0 + rowsPerChunk);
    const out = new Float32Array((c1 - c0) * rows);
    let k = 0;
    for (let c = c0; c < c1; c++) {
      for (let r = 0; r < rows; r++) out[k++] = normalAt(key, r * cols + c) * std;
    }
    yield out;
  }
}

/**
 * A whole parameter as float32 (torch layout) — for small tensors and tests only.
 *
 * @param spec The parameter.
 * @param options Seed and standard deviation.
 * @returns All values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightValues } from "./weights.ts";
 * const v = weightValues({ name: "n", shape: [4], init: "ones" }, { seed: 0, std: 0.02 });
 * assert(v.every((x) => x === 1));
 * ```
 */
export function weightValues(
  spec: ParameterSpec,
  options: { seed: number; std: number; transposed?: boolean },
): Float32Array {
  const total = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(total);
  let offset = 0;
  for (const chunk of weightChunks(spec, options)) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function hash32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

function streamKey(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return hash32(hash32(seed >>> 0) ^ (h >>> 0) ^ Math.floor(seed / 2 ** 32));
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** Standard normal number `index` of stream `key` (Box–Muller over a counter-based hash). */
function normalAt(key: number, index: number): number {
  const pair = Math.floor(index / 2);
  const a = hash32(key ^ hash32(pair));
  const b = hash32(a ^ 0x68e31da4);
  const r = Math.sqrt(-2 * Math.log((a + 1) * INV_2_32));
  const t = TWO_PI * b * INV_2_32;
  return index % 2 === 0 ? r * Math.cos(t) : r * Math.sin(t);
}

function fillNormal(out: Float32Array, key: number, start: number, std: number): void {
  let k = 0;
  let index = start;
  if (index % 2 === 1 && k < out.length) out[k++] = normalAt(key, index++) * std;
  while (k + 1 < out.length) {
    const pair = index / 2;
    const a = hash32(key ^ hash32(pair));
    const b = hash32(a ^ 0x68e31da4);
    const r = Math.sqrt(-2 * Math.log((a + 1) * INV_2_32)) * std;
    const t = TWO_PI * b * INV_2_32;
    out[k++] = r * Math.cos(t);
    out[k++] = r * Math.sin(t);
    index += 2;
  }
  if (k < out.length) out[k] = normalAt(key, index) * std;
}
