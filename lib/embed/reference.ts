/**
 * A plain TypeScript float64 forward pass of a built encoder, straight from `model.safetensors`
 * and `config.json` — independent of the ONNX graph, so tests check the graph against it.
 * It follows Hugging Face's `BertModel` (absolute positions, post-LayerNorm residuals, exact erf
 * GELU, padding keys excluded from the softmax).
 *
 * @module
 */
import { join } from "node:path";
import { readSafetensors } from "../model/safetensors.ts";
import type { EncoderConfig } from "./presets.ts";

/** An encoder loaded for {@linkcode referenceEncode}. */
export interface EncoderReference {
  /** Configuration from `config.json`. */
  config: EncoderConfig;
  /** Parameters as float64, torch layout, by Hugging Face name. */
  weights: Map<string, Float64Array>;
}

/**
 * Loads an encoder directory (small models only: all in memory).
 *
 * @param dir A directory written by `buildEncoder`.
 * @returns The configuration and float64 weights.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureEncoder } from "./build.ts";
 * import { loadEncoderReference } from "./reference.ts";
 * const ref = loadEncoderReference(await ensureEncoder("minilm-tiny"));
 * assert(ref.weights.has("embeddings.word_embeddings.weight"));
 * ```
 */
export function loadEncoderReference(dir: string): EncoderReference {
  const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json"))) as EncoderConfig;
  const weights = new Map<string, Float64Array>();
  for (const [name, t] of readSafetensors(join(dir, "model.safetensors"))) {
    weights.set(name, Float64Array.from(t.data));
  }
  return { config, weights };
}

/** One sequence for {@linkcode referenceEncode}. */
export interface ReferenceInput {
  /** Token ids. */
  ids: readonly number[];
  /** Attention mask (1 = real token, 0 = padding). @default all ones */
  mask?: readonly number[];
  /** Token type ids. @default all zeros */
  typeIds?: readonly number[];
}

/**
 * The last hidden state of one sequence in float64.
 *
 * @param model A loaded encoder.
 * @param input Ids, optional mask and token types (same length).
 * @returns `[ids.length, hidden_size]`, row-major.
 * @throws {RangeError} for an id outside the vocabulary, mismatched lengths, or a sequence longer
 * than the positions.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureEncoder } from "./build.ts";
 * import { loadEncoderReference, referenceEncode } from "./reference.ts";
 * const ref = loadEncoderReference(await ensureEncoder("minilm-tiny"));
 * assert(referenceEncode(ref, { ids: [101, 200, 102] }).length === 3 * 64);
 * ```
 */
export function referenceEncode(model: EncoderReference, input: ReferenceInput): Float64Array {
  const c = model.config;
  const n = input.ids.length;
  const h = c.hidden_size;
  const heads = c.num_attention_heads;
  const d = h / heads;
  const mask = input.mask ?? new Array<number>(n).fill(1);
  const types = input.typeIds ?? new Array<number>(n).fill(0);
  if (mask.length !== n || types.length !== n) {
    throw new RangeError(
      `referenceEncode: 'mask' (${mask.length}) and 'typeIds' (${types.length}) must have ${n} entries`,
    );
  }
  if (n > c.max_position_embeddings) {
    throw new RangeError(
      `referenceEncode: ${n} tokens exceed max_position_embeddings ${c.max_position_embeddings}`,
    );
  }
  const w = (name: string): Float64Array => {
    const t = model.weights.get(name);
    if (!t) throw new TypeError(`referenceEncode: model.safetensors has no '${name}'`);
    return t;
  };
  const word = w("embeddings.word_embeddings.weight");
  const pos = w("embeddings.position_embeddings.weight");
  const type = w("embeddings.token_type_embeddings.weight");
  let x: Float64Array = new Float64Array(n * h);
  for (let t = 0; t < n; t++) {
    const id = input.ids[t]!;
    if (!Number.isInteger(id) || id < 0 || id >= c.vocab_size) {
      throw new RangeError(
        `referenceEncode: 'ids[${t}]' must be in [0, ${c.vocab_size}), got ${id}`,
      );
    }
    const tt = types[t]!;
    for (let j = 0; j < h; j++) {
      x[t * h + j] = word[id * h + j]! + pos[t * h + j]! + type[tt * h + j]!;
    }
  }
  x = layerNorm(x, n, h, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), c);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    const lin = (input: Float64Array, name: string, out: number, inp: number) =>
      linear(input, n, inp, out, w(`${name}.weight`), w(`${name}.bias`));
    const q = lin(x, `${p}.attention.self.query`, h, h);
    const k = lin(x, `${p}.attention.self.key`, h, h);
    const v = lin(x, `${p}.attention.self.value`, h, h);
    const ctx = new Float64Array(n * h);
    const scores = new Float64Array(n);
    for (let head = 0; head < heads; head++) {
      const o = head * d;
      for (let a = 0; a < n; a++) {
        let max = -Infinity;
        for (let b = 0; b < n; b++) {
          if (mask[b] === 0) {
            scores[b] = -Infinity;
            continue;
          }
          let s = 0;
          for (let j = 0; j < d; j++) s += q[a * h + o + j]! * k[b * h + o + j]!;
          scores[b] = s * scale;
          if (scores[b]! > max) max = scores[b]!;
        }
        let sum = 0;
        for (let b = 0; b < n; b++) {
          scores[b] = mask[b] === 0 ? 0 : Math.exp(scores[b]! - max);
          sum += scores[b]!;
        }
        for (let b = 0; b < n; b++) {
          const pr = scores[b]! / sum;
          if (pr === 0) continue;
          for (let j = 0; j < d; j++) ctx[a * h + o + j]! += pr * v[b * h + o + j]!;
        }
      }
    }
    const attn = lin(ctx, `${p}.attention.output.dense`, h, h);
    for (let j = 0; j < n * h; j++) attn[j]! += x[j]!;
    const hNorm = layerNorm(
      attn,
      n,
      h,
      w(`${p}.attention.output.LayerNorm.weight`),
      w(`${p}.attention.output.LayerNorm.bias`),
      c,
    );
    const inter = lin(hNorm, `${p}.intermediate.dense`, c.intermediate_size, h);
    for (let j = 0; j < inter.length; j++) {
      const u = inter[j]!;
      inter[j] = 0.5 * u * (1 + erf(u / Math.SQRT2));
    }
    const out = lin(inter, `${p}.output.dense`, h, c.intermediate_size);
    for (let j = 0; j < n * h; j++) out[j]! += hNorm[j]!;
    x = layerNorm(out, n, h, w(`${p}.output.LayerNorm.weight`), w(`${p}.output.LayerNorm.bias`), c);
  }
  return x;
}

/** `x [n, inp] · Wᵀ + b` with torch `W [out, inp]`. */
function linear(
  x: Float64Array,
  n: number,
  inp: number,
  out: number,
  weight: Float64Array,
  bias: Float64Array,
): Float64Array {
  const y = new Float64Array(n * out);
  for (let t = 0; t < n; t++) {
    for (let o = 0; o < out; o++) {
      let s = bias[o]!;
      for (let i = 0; i < inp; i++) s += x[t * inp + i]! * weight[o * inp + i]!;
      y[t * out + o] = s;
    }
  }
  return y;
}

function layerNorm(
  x: Float64Array,
  n: number,
  h: number,
  gamma: Float64Array,
  beta: Float64Array,
  c: EncoderConfig,
): Float64Array {
  const y = new Float64Array(n * h);
  for (let t = 0; t < n; t++) {
    let mean = 0;
    for (let j = 0; j < h; j++) mean += x[t * h + j]!;
    mean /= h;
    let variance = 0;
    for (let j = 0; j < h; j++) variance += (x[t * h + j]! - mean) ** 2;
    variance /= h;
    const inv = 1 / Math.sqrt(variance + c.layer_norm_eps);
    for (let j = 0; j < h; j++) y[t * h + j] = (x[t * h + j]! - mean) * inv * gamma[j]! + beta[j]!;
  }
  return y;
}

/**
 * The error function to ~1e-15: its Maclaurin series below |x| = 2.5, else 1 − erfc(x) with erfc
 * from its continued fraction (modified Lentz). Abramowitz–Stegun 7.1.26 (1.5e-7) is too coarse
 * for a float64 reference.
 */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (-1)^k x^(2k+1) / (k! (2k+1)); converges fast here.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let k = 1; k < 200; k++) {
      term *= -x2 / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc(x) by its continued fraction (Lentz), accurate for x ≥ 2.5.
  let f = ax;
  let cVal = ax;
  let dVal = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    dVal = ax + a * dVal;
    dVal = dVal === 0 ? 1e-300 : 1 / dVal;
    cVal = ax + a / cVal;
    const delta = cVal * dVal;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}
