/**
 * The KV cache's modes and the fixed-size in-place cache. A generation keeps its cache in one of
 * three modes, picked from the graph and the device (`openKv()` in kv_runner.ts; see
 * `docs/engine.md` for what onnxruntime-node 1.30 allows and why):
 *
 * - `copy`: every step fetches `present.*` (past + new, as the Optimum layout defines it) and
 *   feeds them back as the next `past_key_values.*`. The binding copies each output into a new
 *   JS buffer, so a step moves the whole cache once more; Hub exports and `standard`/`gqa` models.
 * - `in_place`: graphs built with `attention: "in_place"` read a fixed-size cache buffer
 *   `[batch, kv_heads, max_length, head_dim]` that lives in JS memory for the whole generation
 *   (the binding feeds CPU tensors without a copy) and return only this step's keys and values
 *   (`present_new.*`, one position per step), which {@linkcode KvCache} writes into the buffer.
 *   Per step the cache is neither copied nor reallocated; unfilled slots are masked.
 * - `device`: webgpu with `present.*` kept in GPU buffers (`gpu-buffer` output location): fed
 *   back without leaving the GPU.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { type KvDtype, kvDtypeBytes } from "../runtime/tensors.ts";

/** How a generation keeps its KV cache (recorded per row as `kv_mode`). */
export const KV_MODES = ["copy", "in_place", "device"] as const;
/** One of {@linkcode KV_MODES}. */
export type KvMode = typeof KV_MODES[number];

/** Shape of a cache buffer. */
export interface KvCacheShape {
  /** Decoder layers (a key and a value buffer each). */
  layers: number;
  /** Sequences. */
  batch: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head width. */
  headDim: number;
  /** Positions the buffer holds (prompt + new tokens). */
  maxLength: number;
  /** Element type. */
  dtype: KvDtype;
}

/**
 * Bytes of a fixed-size cache: max length × layers × kv heads × head dim × element bytes × 2
 * (keys and values) × batch.
 *
 * @param shape The cache's shape.
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvCacheBytes } from "./kv_cache.ts";
 * const shape = { layers: 6, batch: 1, kvHeads: 2, headDim: 64, maxLength: 2048 };
 * assert.equal(kvCacheBytes({ ...shape, dtype: "float32" }), 12_582_912);
 * ```
 */
export function kvCacheBytes(shape: Readonly<KvCacheShape>): number {
  const element = kvDtypeBytes(shape.dtype);
  return shape.maxLength * shape.layers * shape.kvHeads * shape.headDim * element * 2 *
    shape.batch;
}

/**
 * A fixed-size KV cache in JS memory: one buffer per layer's keys and values, fed whole to an
 * `in_place` graph every step and written in place with each step's new keys and values.
 * Slots not yet written, and left padding, are 0 in the attention mask it builds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { KvCache } from "./kv_cache.ts";
 * const cache = new KvCache({ layers: 1, batch: 1, kvHeads: 1, headDim: 2, maxLength: 4, dtype: "float32" });
 * const kv = (x: number) => new ort.Tensor("float32", Float32Array.of(x, x), [1, 1, 1, 2]);
 * cache.append([kv(1), kv(2)]);
 * assert.equal(cache.length, 1);
 * assert.deepEqual(Array.from(cache.mask(1).data, Number), [1, 0, 0, 0, 1]);
 * assert.deepEqual(Array.from(cache.past()[1]!.data as Float32Array).slice(0, 2), [2, 2]);
 * ```
 */
export class KvCache {
  /** The buffer's shape. */
  readonly shape: Readonly<KvCacheShape>;
  /** Bytes of all buffers together (fixed for the cache's life). */
  readonly bytes: number;
  #length = 0;
  readonly #leftPad: readonly number[];
  readonly #bytes: Uint8Array[];
  readonly #past: ort.Tensor[];
  readonly #filled: BigInt64Array;

  /**
   * Allocates the buffers (zero-filled, so masked slots hold finite values).
   *
   * @param shape Layers, batch, heads, head width, max length, element type.
   * @param leftPad Padding tokens at the start of each row (masked out). @default all 0
   * @throws {RangeError} when a dimension is not a positive integer.
   */
  constructor(shape: Readonly<KvCacheShape>, leftPad: readonly number[] = []) {
    for (const key of ["layers", "batch", "kvHeads", "headDim", "maxLength"] as const) {
      const v = shape[key];
      if (!Number.isInteger(v) || v <= 0) {
        throw new RangeError(
          `Cannot create KV cache: '${key}' must be a positive integer, got ${v}`,
        );
      }
    }
    this.shape = Object.freeze({ ...shape });
    this.bytes = kvCacheBytes(shape);
    this.#leftPad = leftPad;
    const { layers, batch, kvHeads, headDim, maxLength, dtype } = shape;
    const dims = [batch, kvHeads, maxLength, headDim];
    const elements = batch * kvHeads * maxLength * headDim;
    this.#bytes = [];
    this.#past = [];
    for (let i = 0; i < layers * 2; i++) {
      const data = dtype === "float16" ? new Uint16Array(elements) : new Float32Array(elements);
      this.#bytes.push(new Uint8Array(data.buffer));
      this.#past.push(new ort.Tensor(dtype, data, dims));
    }
    this.#filled = new BigInt64Array(batch * maxLength);
  }

  /** Positions written so far (the same for every row; padding included). */
  get length(): number {
    return this.#length;
  }

  /**
   * The cache as `past_key_values.*` feeds, in layer order (key, value, key, …): the whole
   * buffers, `[batch, kv_heads, max_length, head_dim]`, the same tensors every step.
   *
   * @returns One tensor per buffer.
   */
  past(): readonly ort.Tensor[] {
    return this.#past;
  }

  /**
   * The attention mask `[batch, max_length + newTokens]` of a step that adds `newTokens`: 1 for
   * written, unpadded slots and for the new tokens, 0 for padding and unwritten slots.
   *
   * @param newTokens Tokens of the step.
   * @returns An `int64` tensor.
   */
  mask(newTokens: number): ort.Tensor {
    const { batch, maxLength } = this.shape;
    const width = maxLength + newTokens;
    const data = new BigInt64Array(batch * width);
    for (let b = 0; b < batch; b++) {
      data.set(this.#filled.subarray(b * maxLength, (b + 1) * maxLength), b * width);
      data.fill(1n, b * width + maxLength, (b + 1) * width);
    }
    return new ort.Tensor("int64", data, [batch, width]);
  }

  /**
   * Writes one step's keys and values (`[batch, kv_heads, S, head_dim]` each, layer order) at
   * positions `length … length + S − 1`, and advances `length` by S.
   *
   * @param present This step's keys and values (`present_new.*`), on the CPU.
   * @throws {RangeError} when the step would pass `maxLength` or the tensors do not fit.
   */
  append(present: readonly ort.Tensor[]): void {
    const { batch, kvHeads, headDim, maxLength, layers } = this.shape;
    if (present.length !== layers * 2) {
      throw new RangeError(
        `KvCache.append: expected ${
          layers * 2
        } tensors (key and value per layer), got ${present.length}`,
      );
    }
    const steps = present[0]!.dims[2] ?? 0;
    if (this.#length + steps > maxLength) {
      throw new RangeError(
        `KvCache.append: ${this.#length} + ${steps} positions exceed the cache's maxLength ${maxLength}`,
      );
    }
    const element = kvDtypeBytes(this.shape.dtype);
    const rowBytes = steps * headDim * element;
    for (let i = 0; i < present.length; i++) {
      const tensor = present[i]!;
      const src = tensor.data as unknown as ArrayBufferView;
      const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      if (bytes.byteLength !== batch * kvHeads * rowBytes) {
        throw new RangeError(
          `KvCache.append: tensor ${i} has ${bytes.byteLength} bytes, expected ${
            batch * kvHeads * rowBytes
          } ([${batch}, ${kvHeads}, ${steps}, ${headDim}] × ${element})`,
        );
      }
      const dst = this.#bytes[i]!;
      for (let row = 0; row < batch * kvHeads; row++) {
        const at = (row * maxLength + this.#length) * headDim * element;
        dst.set(bytes.subarray(row * rowBytes, (row + 1) * rowBytes), at);
      }
    }
    for (let b = 0; b < batch; b++) {
      const pad = this.#leftPad[b] ?? 0;
      for (let p = this.#length; p < this.#length + steps; p++) {
        this.#filled[b * maxLength + p] = p < pad ? 0n : 1n;
      }
    }
    this.#length += steps;
  }
}
