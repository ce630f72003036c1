/**
 * A constant tensor whose bytes are produced on demand, so that a rewritten model can be written
 * one tensor at a time (read, convert, write, forget) without holding all weights in memory.
 *
 * @module
 */

/** An initializer whose metadata is known now and whose bytes are loaded when written. */
export interface LazyTensor {
  /** Tensor name in the graph. */
  readonly name: string;
  /** ONNX `TensorProto.DataType` code (1 = float32, 10 = float16, 2 = uint8…). */
  readonly dataType: number;
  /** Shape. */
  readonly dims: readonly number[];
  /** Size of the little-endian raw data in bytes. */
  readonly byteLength: number;
  /** Produces the raw little-endian bytes (exactly `byteLength` of them). */
  load(): Promise<Uint8Array>;
}

/**
 * A lazy tensor over bytes already in memory.
 *
 * @param name Tensor name.
 * @param dataType ONNX data type code.
 * @param dims Shape.
 * @param data Raw data (a typed array is viewed as bytes, not copied).
 * @returns A {@linkcode LazyTensor} that returns these bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lazyTensor } from "./lazy_tensor.ts";
 * const t = lazyTensor("w", 1, [2], new Float32Array([1, 2]));
 * assert(t.byteLength === 8);
 * ```
 */
export function lazyTensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  data: ArrayBufferView,
): LazyTensor {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    name,
    dataType,
    dims: [...dims],
    byteLength: bytes.byteLength,
    load: () => Promise.resolve(bytes),
  };
}

/**
 * Shares one expensive computation between several lazy tensors (a quantised weight and its
 * scales and zero points): computed on the first load, released after the last of `uses` loads.
 *
 * @param uses How many loads will happen.
 * @param compute The computation.
 * @returns A function returning the shared result.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedLoad } from "./lazy_tensor.ts";
 * let calls = 0;
 * const get = sharedLoad(2, () => Promise.resolve(++calls));
 * await get();
 * await get();
 * assert(calls === 1);
 * ```
 */
export function sharedLoad<T>(uses: number, compute: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let left = uses;
  return () => {
    pending ??= compute();
    const result = pending;
    if (--left <= 0) {
      pending = undefined;
      left = uses;
    }
    return result;
  };
}
