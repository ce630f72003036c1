/**
 * Sentence embeddings from token embeddings as sentence-transformers computes them for
 * all-MiniLM-L6-v2: `Pooling(pooling_mode_mean_tokens=True)` — the sum of the masked token
 * vectors over `max(Σ mask, 1e-9)` — then `Normalize()` — `x / max(‖x‖₂, 1e-12)`
 * (`torch.nn.functional.normalize`). Sums run in float64.
 *
 * @module
 */

/** Shape of a `last_hidden_state` tensor. */
export interface HiddenDims {
  /** Sequences. */
  batch: number;
  /** Tokens per sequence (padded). */
  sequence: number;
  /** Width of a token vector. */
  hidden: number;
}

/**
 * Mean of the token vectors of each sequence over its unmasked tokens (sentence-transformers'
 * mean pooling).
 *
 * @param hidden `[batch, sequence, hidden]`, row-major.
 * @param mask `[batch, sequence]`: 1 for a real token, 0 for padding (numbers or bigints).
 * @param dims The shape.
 * @returns `[batch, hidden]` as float32.
 * @throws {RangeError} when the lengths do not match `dims`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanPool } from "./pooling.ts";
 * // One sequence of two real tokens and one pad token, hidden size 2.
 * const pooled = meanPool(Float32Array.of(1, 2, 3, 4, 100, 100), [1, 1, 0], {
 *   batch: 1, sequence: 3, hidden: 2,
 * });
 * assert.deepEqual([...pooled], [2, 3]);
 * ```
 */
export function meanPool(
  hidden: ArrayLike<number>,
  mask: ArrayLike<number | bigint>,
  dims: HiddenDims,
): Float32Array {
  const { batch, sequence, hidden: h } = dims;
  if (hidden.length !== batch * sequence * h || mask.length !== batch * sequence) {
    throw new RangeError(
      `meanPool: expected ${batch * sequence * h} hidden values and ${batch * sequence} mask ` +
        `values, got ${hidden.length} and ${mask.length}`,
    );
  }
  const out = new Float32Array(batch * h);
  const acc = new Float64Array(h);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < sequence; t++) {
      const m = Number(mask[b * sequence + t]);
      if (m === 0) continue;
      count += m;
      const base = (b * sequence + t) * h;
      for (let j = 0; j < h; j++) acc[j]! += hidden[base + j]! * m;
    }
    const denom = Math.max(count, 1e-9);
    for (let j = 0; j < h; j++) out[b * h + j] = acc[j]! / denom;
  }
  return out;
}

/**
 * Scales each row to unit L2 norm (`torch.nn.functional.normalize(x, p=2, dim=1)`: a zero row
 * stays zero).
 *
 * @param vectors `[rows, width]`, row-major.
 * @param width Row width.
 * @returns A new `[rows, width]` float32 array.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l2Normalize } from "./pooling.ts";
 * assert.deepEqual([...l2Normalize(Float32Array.of(3, 4), 2)], [0.6000000238418579, 0.800000011920929]);
 * ```
 */
export function l2Normalize(vectors: ArrayLike<number>, width: number): Float32Array {
  if (!Number.isInteger(width) || width <= 0 || vectors.length % width !== 0) {
    throw new RangeError(
      `l2Normalize: 'width' must divide ${vectors.length} values, got ${width}`,
    );
  }
  const out = new Float32Array(vectors.length);
  for (let r = 0; r < vectors.length / width; r++) {
    let sq = 0;
    for (let j = 0; j < width; j++) sq += vectors[r * width + j]! ** 2;
    const norm = Math.max(Math.sqrt(sq), 1e-12);
    for (let j = 0; j < width; j++) out[r * width + j] = vectors[r * width + j]! / norm;
  }
  return out;
}

/**
 * Sentence embeddings: mean pooling then L2 normalisation.
 *
 * @param hidden `[batch, sequence, hidden]` token embeddings.
 * @param mask `[batch, sequence]` attention mask.
 * @param dims The shape.
 * @returns `[batch, hidden]` unit vectors.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sentenceEmbeddings } from "./pooling.ts";
 * const e = sentenceEmbeddings(Float32Array.of(3, 0, 0, 4), [1, 1], { batch: 1, sequence: 2, hidden: 2 });
 * assert(Math.abs(e[0]! ** 2 + e[1]! ** 2 - 1) < 1e-6);
 * ```
 */
export function sentenceEmbeddings(
  hidden: ArrayLike<number>,
  mask: ArrayLike<number | bigint>,
  dims: HiddenDims,
): Float32Array {
  return l2Normalize(meanPool(hidden, mask, dims), dims.hidden);
}

/**
 * Cosine similarity of row `row` of two `[rows, width]` arrays, in float64.
 *
 * @param a First array.
 * @param b Second array.
 * @param width Row width.
 * @param row Row index. @default 0
 * @returns The cosine in [-1, 1] (0 when either row is zero).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosineSimilarity } from "./pooling.ts";
 * assert(cosineSimilarity([1, 0], [0, 2], 2) === 0);
 * assert(cosineSimilarity([1, 1], [2, 2], 2) > 0.9999999);
 * ```
 */
export function cosineSimilarity(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  width: number,
  row = 0,
): number {
  let dot = 0, na = 0, nb = 0;
  const o = row * width;
  for (let j = 0; j < width; j++) {
    const x = a[o + j]!, y = b[o + j]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
