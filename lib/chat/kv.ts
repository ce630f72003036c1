/**
 * A decoder's KV cache as the engine passes it between graph runs: the `present.*` tensors of one
 * run (layer order key, value, key, …), each `[batch, kv_heads, seq, head_dim]` on the CPU. This
 * module measures them and cuts them back along the sequence axis, which is how a conversation
 * drops everything after the longest common prefix.
 *
 * @module
 */
import * as ort from "onnxruntime-node";

/** `past_key_values.*` / `present.*` tensors in layer order (key, value, key, …). */
export type KvTensors = readonly ort.Tensor[];

/**
 * Positions held by a KV cache (the sequence axis of its first tensor).
 *
 * @param past The tensors.
 * @returns The length, 0 for an empty list.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { kvLength } from "./kv.ts";
 * const t = new ort.Tensor("float32", new Float32Array(2 * 3 * 4), [1, 2, 3, 4]);
 * assert.equal(kvLength([t, t]), 3);
 * ```
 */
export function kvLength(past: KvTensors): number {
  return past.length === 0 ? 0 : Number(past[0]!.dims[2]);
}

/**
 * Bytes held by a KV cache's tensors (element size × elements, all layers).
 *
 * @param past The tensors.
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { kvBytes } from "./kv.ts";
 * const t = new ort.Tensor("float32", new Float32Array(24), [1, 2, 3, 4]);
 * assert.equal(kvBytes([t, t]), 2 * 24 * 4);
 * ```
 */
export function kvBytes(past: KvTensors): number {
  let bytes = 0;
  for (const t of past) bytes += (t.data as ArrayBufferView).byteLength;
  return bytes;
}

/**
 * The first `length` positions of a KV cache: a copy of each tensor cut along the sequence axis
 * (axis 2 of `[batch, kv_heads, seq, head_dim]`). With `length` equal to the cache's length the
 * tensors themselves are returned (no copy).
 *
 * @param past CPU tensors, float32 or float16.
 * @param length Positions to keep, `0 ≤ length ≤ kvLength(past)`.
 * @returns The cut tensors.
 * @throws {RangeError} naming `length` when it is outside the cache; `TypeError` for a tensor
 * that is not on the CPU.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { sliceKv } from "./kv.ts";
 * // [1 batch, 1 head, 3 positions, 2 dims]: positions (0,1), (2,3), (4,5).
 * const t = new ort.Tensor("float32", Float32Array.from([0, 1, 2, 3, 4, 5]), [1, 1, 3, 2]);
 * const [cut] = sliceKv([t], 2);
 * assert.deepEqual(Array.from(cut!.data as Float32Array), [0, 1, 2, 3]);
 * assert.deepEqual(cut!.dims, [1, 1, 2, 2]);
 * ```
 */
export function sliceKv(past: KvTensors, length: number): ort.Tensor[] {
  const have = kvLength(past);
  if (!Number.isInteger(length) || length < 0 || length > have) {
    throw new RangeError(
      `Cannot cut the KV cache: 'length' must be an integer in 0..${have}, got ${length}`,
    );
  }
  if (length === have) return [...past];
  return past.map((tensor) => {
    if (tensor.location !== "cpu") {
      throw new TypeError(
        `Cannot cut the KV cache: tensors must be on the CPU, got '${tensor.location}'`,
      );
    }
    const [batch, heads, seq, dim] = tensor.dims.map(Number) as [number, number, number, number];
    const src = tensor.data as Float32Array | Uint16Array;
    const Ctor = src.constructor as new (n: number) => Float32Array | Uint16Array;
    const out = new Ctor(batch * heads * length * dim);
    const rowIn = seq * dim;
    const rowOut = length * dim;
    for (let r = 0; r < batch * heads; r++) {
      out.set(src.subarray(r * rowIn, r * rowIn + rowOut), r * rowOut);
    }
    return new ort.Tensor(tensor.type as "float32", out as Float32Array, [
      batch,
      heads,
      length,
      dim,
    ]);
  });
}

/**
 * Length of the longest common prefix of two token sequences.
 *
 * @param a Token ids.
 * @param b Token ids.
 * @returns How many leading ids are equal.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commonPrefixLength } from "./kv.ts";
 * assert.equal(commonPrefixLength([1, 2, 3, 4], [1, 2, 9]), 2);
 * ```
 */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
