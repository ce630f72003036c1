/**
 * Tensor helpers the engine needs, typed by dtype: int64 ids, attention masks, position ids and
 * empty KV-cache tensors.
 *
 * @module
 */
import * as ort from "onnxruntime-node";

/** Element types a KV cache can have. */
export type KvDtype = "float32" | "float16";

/**
 * Bytes per element of a KV cache of this type.
 *
 * @param dtype The cache's element type.
 * @returns 2 for float16, 4 for float32.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvDtypeBytes } from "./tensors.ts";
 * assert(kvDtypeBytes("float16") === 2 && kvDtypeBytes("float32") === 4);
 * ```
 */
export function kvDtypeBytes(dtype: KvDtype): number {
  return dtype === "float16" ? 2 : 4;
}

/**
 * An int64 tensor `[batch, seq]` from rows of token ids (all rows the same length).
 *
 * @param rows Token ids per batch row.
 * @returns An `int64` tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { int64Tensor } from "./tensors.ts";
 * const t = int64Tensor([[1, 2, 3]]);
 * assert(t.dims.join() === "1,3" && t.type === "int64");
 * ```
 */
export function int64Tensor(rows: readonly (readonly number[])[]): ort.Tensor {
  const batch = rows.length;
  const seq = rows[0]?.length ?? 0;
  const data = new BigInt64Array(batch * seq);
  rows.forEach((row, b) => {
    if (row.length !== seq) {
      throw new RangeError(`int64Tensor: row ${b} has ${row.length} ids, expected ${seq}`);
    }
    for (let i = 0; i < seq; i++) data[b * seq + i] = BigInt(row[i]!);
  });
  return new ort.Tensor("int64", data, [batch, seq]);
}

/**
 * An int64 tensor `[batch, length]` filled with one value (an all-ones attention mask).
 *
 * @param batch Rows.
 * @param length Columns.
 * @param value The fill value. @default 1
 * @returns An `int64` tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filledInt64 } from "./tensors.ts";
 * assert(filledInt64(2, 3).data.length === 6);
 * ```
 */
export function filledInt64(batch: number, length: number, value = 1): ort.Tensor {
  return new ort.Tensor("int64", new BigInt64Array(batch * length).fill(BigInt(value)), [
    batch,
    length,
  ]);
}

/**
 * Position ids `[batch, seq]` for positions `start … start+seq-1`, per row offset by that row's
 * left padding (positions of padding tokens are 0, as Hugging Face computes them from the mask).
 *
 * @param batch Rows.
 * @param seq Columns (new tokens in this step).
 * @param start Position of the first new token in an unpadded row.
 * @param leftPad Padding tokens per row. @default all 0
 * @returns An `int64` tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positionIds } from "./tensors.ts";
 * assert(Array.from(positionIds(1, 3, 2).data, Number).join() === "2,3,4");
 * ```
 */
export function positionIds(
  batch: number,
  seq: number,
  start: number,
  leftPad: readonly number[] = [],
): ort.Tensor {
  const data = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    const pad = leftPad[b] ?? 0;
    for (let i = 0; i < seq; i++) data[b * seq + i] = BigInt(Math.max(0, start + i - pad));
  }
  return new ort.Tensor("int64", data, [batch, seq]);
}

/**
 * An attention mask `[batch, length]`: 0 for each row's left padding, 1 elsewhere.
 *
 * @param batch Rows.
 * @param length Total columns (past + new).
 * @param leftPad Padding tokens per row. @default all 0
 * @returns An `int64` tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attentionMask } from "./tensors.ts";
 * assert(Array.from(attentionMask(1, 3, [1]).data, Number).join() === "0,1,1");
 * ```
 */
export function attentionMask(
  batch: number,
  length: number,
  leftPad: readonly number[] = [],
): ort.Tensor {
  const data = new BigInt64Array(batch * length).fill(1n);
  for (let b = 0; b < batch; b++) {
    const pad = leftPad[b] ?? 0;
    for (let i = 0; i < pad; i++) data[b * length + i] = 0n;
  }
  return new ort.Tensor("int64", data, [batch, length]);
}

/**
 * An empty KV-cache tensor `[batch, kvHeads, 0, headDim]` in the model's KV dtype: the `past`
 * of a first step, and of every step when the cache is off.
 *
 * @param dtype `float32` or `float16`.
 * @param batch Batch size.
 * @param kvHeads Key/value heads.
 * @param headDim Head dimension.
 * @returns A tensor with no elements.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyKv } from "./tensors.ts";
 * assert(emptyKv("float16", 1, 2, 8).dims.join() === "1,2,0,8");
 * ```
 */
export function emptyKv(
  dtype: KvDtype,
  batch: number,
  kvHeads: number,
  headDim: number,
): ort.Tensor {
  const dims = [batch, kvHeads, 0, headDim];
  switch (dtype) {
    case "float32":
      return new ort.Tensor("float32", new Float32Array(0), dims);
    case "float16":
      return new ort.Tensor("float16", new Uint16Array(0), dims);
    default: {
      const never: never = dtype;
      throw new TypeError(`emptyKv: unknown dtype ${never}`);
    }
  }
}

/**
 * Reads a float tensor's elements as numbers (float16 decoded), for tests and small outputs.
 *
 * @param tensor A `float32` or `float16` tensor on the CPU.
 * @returns A `Float32Array` (a view when the tensor is already float32).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { toFloat32 } from "./tensors.ts";
 * const t = new ort.Tensor("float16", new Uint16Array([0x3c00]), [1]);
 * assert(toFloat32(t)[0] === 1);
 * ```
 */
export function toFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === "float32") return tensor.data as Float32Array;
  if (tensor.type !== "float16") {
    throw new TypeError(`toFloat32: expected a float32 or float16 tensor, got ${tensor.type}`);
  }
  const data = tensor.data as unknown as ArrayLike<number> & ArrayBufferView;
  if (data instanceof Uint16Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = halfToFloat(data[i]!);
    return out;
  }
  return Float32Array.from(data);
}

/**
 * Decodes one IEEE-754 half-precision value from its 16 bits.
 *
 * @param bits The raw bits.
 * @returns The value as a number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { halfToFloat } from "./tensors.ts";
 * assert(halfToFloat(0xc000) === -2);
 * ```
 */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
