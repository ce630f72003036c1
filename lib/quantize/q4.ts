/**
 * Blockwise 4-bit (and 8-bit) weight quantisation in the exact layout of ONNX Runtime's
 * `MatMulNBits` (com.microsoft), as `MatMulNBitsQuantizer` (matmul_nbits_quantizer.py, the C++
 * `BlockwiseQuantBlock<T, block_size, bits>`) writes it:
 *
 * - B `[K, N]` is quantised column by column in blocks of `blockSize` consecutive rows of K;
 * - 4 bits: `packed` is `uint8 [N, K / blockSize, blockSize / 2]`: element `k` of a block is in
 *   byte `k >> 1`, low nibble for even `k`, high nibble for odd `k`; 8 bits: `uint8 [N,
 *   K / blockSize, blockSize]`, one code per byte;
 * - `scales` is `[N * K / blockSize]` (column-major over blocks), in the activation's float type;
 * - `zeroPoints` (asymmetric only): 4 bits `uint8 [N * ceil(nBlocks / 2)]`, two per byte, low
 *   nibble first, each column padded to whole bytes; 8 bits `uint8 [N * nBlocks]`; symmetric
 *   weights omit it (implicit zero point 8, or 128 for 8 bits).
 *
 * Dequantisation: `w = scale * (q - zeroPoint)`.
 *
 * @module
 */
import { roundHalfAway } from "./_round.ts";
import { roundToFloat16 } from "./float16.ts";

/** Options of {@linkcode quantizeQ4}. */
export interface Q4Options {
  /** Bits per weight: 4, or 8 for weight-only 8-bit `MatMulNBits`. @default 4 */
  bits?: 4 | 8;
  /** Rows of K per block (a power of two ≥ 16). @default 32 */
  blockSize?: number;
  /** Symmetric (implicit zero point 8, scale = signed max-abs / -8) or asymmetric. @default false */
  symmetric?: boolean;
  /** Float type the scales are stored in (`float16` for q4f16). @default "float32" */
  scaleType?: "float32" | "float16";
  /** Tensor name used in error messages. @default "weights" */
  name?: string;
}

/** A 4-bit quantised `[K, N]` weight in `MatMulNBits` layout. */
export interface Q4Weights {
  /** Bits per code (4 or 8). */
  bits: 4 | 8;
  /** In-features (rows of B). */
  k: number;
  /** Out-features (columns of B). */
  n: number;
  /** Rows per block. */
  blockSize: number;
  /** Whether the zero point is the implicit 8. */
  symmetric: boolean;
  /** Float type of the stored scales. */
  scaleType: "float32" | "float16";
  /** 4 bits: `uint8 [N, K / blockSize, blockSize / 2]`, two codes per byte, low nibble first;
   * 8 bits: `uint8 [N, K / blockSize, blockSize]`. */
  packed: Uint8Array;
  /** `[N * K / blockSize]` scales, as stored (already rounded to float16 for `float16`). */
  scales: Float32Array;
  /** Zero points (4 bits: `uint8 [N * ceil(nBlocks / 2)]` packed; 8 bits: `uint8 [N * nBlocks]`),
   * or `null` when symmetric. */
  zeroPoints: Uint8Array | null;
}

/**
 * Checks a 4-bit block size: a power of two ≥ 16, as `MatMulNBits` requires.
 *
 * @param blockSize The block size.
 * @returns The block size.
 * @throws {RangeError} naming the value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkBlockSize } from "./q4.ts";
 * assert(checkBlockSize(32) === 32);
 * ```
 */
export function checkBlockSize(blockSize: number): number {
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`'blockSize' must be a power of two >= 16, got ${blockSize}`);
  }
  return blockSize;
}

/**
 * Quantises a float32 `[K, N]` weight (row-major, as a MatMul's B) to 4 bits per element with
 * ONNX Runtime's round-to-nearest blockwise algorithm.
 *
 * @param weights `K * N` values, row-major.
 * @param shape `[K, N]`.
 * @param options Block size, symmetry, scale type.
 * @returns The packed weights, scales and zero points.
 * @throws {RangeError} when K is not a multiple of the block size (naming tensor and dims) or the
 * data does not match the shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeQ4, quantizeQ4 } from "./q4.ts";
 * const w = Float32Array.from({ length: 32 * 2 }, (_, i) => Math.sin(i));
 * const q = quantizeQ4(w, [32, 2]);
 * assert(q.packed.length === 32 && q.scales.length === 2);
 * assert(Math.abs(dequantizeQ4(q)[5]! - w[5]!) <= q.scales[1]! / 2 + 1e-6);
 * ```
 */
export function quantizeQ4(
  weights: ArrayLike<number>,
  shape: readonly [number, number],
  options: Q4Options = {},
): Q4Weights {
  const [k, n] = shape;
  const bits = options.bits ?? 4;
  if (bits !== 4 && bits !== 8) throw new RangeError(`'bits' must be 4 or 8, got ${bits}`);
  const levels = (1 << bits) - 1; // 15 or 255
  const mid = 1 << (bits - 1); // 8 or 128: the symmetric zero point
  const blockSize = checkBlockSize(options.blockSize ?? 32);
  const symmetric = options.symmetric ?? false;
  const scaleType = options.scaleType ?? "float32";
  const name = options.name ?? "weights";
  if (weights.length !== k * n) {
    throw new RangeError(
      `'${name}' has ${weights.length} values, expected [${k}, ${n}] = ${k * n}`,
    );
  }
  if (k % blockSize !== 0) {
    throw new RangeError(
      `Cannot quantize '${name}' [${k}, ${n}] to ${bits} bits: in-features ${k} is not a multiple of ` +
        `blockSize ${blockSize}`,
    );
  }
  const nBlocks = k / blockSize;
  const blob = bits === 4 ? blockSize / 2 : blockSize;
  const zpPerCol = bits === 4 ? Math.ceil(nBlocks / 2) : nBlocks;
  const packed = new Uint8Array(n * nBlocks * blob);
  const rawScales = new Float32Array(n * nBlocks);
  const zeroPoints = symmetric ? null : new Uint8Array(n * zpPerCol);
  const w = weights instanceof Float32Array ? weights : Float32Array.from(weights);
  const f = Math.fround;
  // Row-major sweeps (cache friendly): per block, one pass for each column's range, one for codes.
  const lo = new Float32Array(n); // symmetric: |max|; asymmetric: min
  const hi = new Float32Array(n); // symmetric: signed value of largest |v|; asymmetric: max
  const recip = new Float32Array(n);
  const zps = new Float32Array(n);
  for (let b = 0; b < nBlocks; b++) {
    const row0 = b * blockSize;
    if (symmetric) {
      lo.fill(0);
      hi.fill(0);
    } else {
      lo.set(w.subarray(row0 * n, row0 * n + n));
      hi.set(lo);
    }
    for (let r = 0; r < blockSize; r++) {
      const base = (row0 + r) * n;
      for (let col = 0; col < n; col++) {
        const v = w[base + col]!;
        if (symmetric) {
          if (lo[col]! < Math.abs(v)) {
            lo[col] = Math.abs(v);
            hi[col] = v;
          }
        } else {
          if (v < lo[col]!) lo[col] = v;
          if (v > hi[col]!) hi[col] = v;
        }
      }
    }
    for (let col = 0; col < n; col++) {
      let scale: number;
      if (symmetric) {
        scale = f(hi[col]! / -mid);
        zps[col] = mid;
      } else {
        const min = Math.min(lo[col]!, 0);
        const max = Math.max(hi[col]!, 0);
        scale = f(f(max - min) / levels);
        const zpf = scale !== 0 ? f(0 - f(min / scale)) : min;
        const zp = zpf < 0 ? 0 : zpf > levels ? levels : roundHalfAway(zpf);
        zps[col] = zp;
        if (bits === 8) zeroPoints![col * zpPerCol + b] = zp;
        else zeroPoints![col * zpPerCol + (b >> 1)]! |= (b & 1) ? zp << 4 : zp;
      }
      rawScales[col * nBlocks + b] = scale;
      recip[col] = scale ? f(1 / scale) : 0;
    }
    for (let r = 0; r < blockSize; r++) {
      const base = (row0 + r) * n;
      const shift = bits === 4 ? (r & 1) * 4 : 0;
      const byte = b * blob + (bits === 4 ? r >> 1 : r);
      for (let col = 0; col < n; col++) {
        const v = f(w[base + col]! * recip[col]!);
        // Symmetric: truncation of v + mid + 0.5 (round half up); asymmetric: roundf(v + zp),
        // which for the non-negative values that survive the clamp is floor(x + 0.5).
        const x = symmetric ? f(v + mid + 0.5) : f(v + zps[col]!);
        const r0 = symmetric ? Math.trunc(x) : Math.floor(x + 0.5);
        const q = x < 0 ? 0 : r0 > levels ? levels : r0;
        packed[col * nBlocks * blob + byte]! |= q << shift;
      }
    }
  }
  const scales = scaleType === "float16" ? roundToFloat16(rawScales) : rawScales;
  return { bits, k, n, blockSize, symmetric, scaleType, packed, scales, zeroPoints };
}

/**
 * The code and zero point of element `(row, col)` of a 4- or 8-bit quantised weight.
 *
 * @param q The quantised weight.
 * @param row Row in K.
 * @param col Column in N.
 * @returns `{ code, zeroPoint, scale }` of that element.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { q4Element, quantizeQ4 } from "./q4.ts";
 * const q = quantizeQ4(new Float32Array(16).fill(1), [16, 1], { blockSize: 16, symmetric: true });
 * assert(q4Element(q, 3, 0).code === 0 && q4Element(q, 3, 0).zeroPoint === 8);
 * ```
 */
export function q4Element(
  q: Q4Weights,
  row: number,
  col: number,
): { code: number; zeroPoint: number; scale: number } {
  const nBlocks = q.k / q.blockSize;
  const b = Math.floor(row / q.blockSize);
  const r = row % q.blockSize;
  if (q.bits === 8) {
    const code = q.packed[(col * nBlocks + b) * q.blockSize + r]!;
    const zeroPoint = q.zeroPoints ? q.zeroPoints[col * nBlocks + b]! : 128;
    return { code, zeroPoint, scale: q.scales[col * nBlocks + b]! };
  }
  const byte = q.packed[(col * nBlocks + b) * (q.blockSize / 2) + (r >> 1)]!;
  const code = (r & 1) ? byte >> 4 : byte & 0xf;
  let zeroPoint = 8;
  if (q.zeroPoints) {
    const zb = q.zeroPoints[col * Math.ceil(nBlocks / 2) + (b >> 1)]!;
    zeroPoint = (b & 1) ? zb >> 4 : zb & 0xf;
  }
  return { code, zeroPoint, scale: q.scales[col * nBlocks + b]! };
}

/**
 * Reference dequantisation of a 4- or 8-bit weight: `scale * (q - zeroPoint)` in float32, laid out
 * back as row-major `[K, N]`.
 *
 * @param q The quantised weight.
 * @returns `K * N` float32 values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeQ4, quantizeQ4 } from "./q4.ts";
 * const w = new Float32Array(16).fill(-2);
 * assert(dequantizeQ4(quantizeQ4(w, [16, 1], { blockSize: 16 }))[0] === -2);
 * ```
 */
export function dequantizeQ4(q: Q4Weights): Float32Array {
  const out = new Float32Array(q.k * q.n);
  for (let row = 0; row < q.k; row++) {
    for (let col = 0; col < q.n; col++) {
      const { code, zeroPoint, scale } = q4Element(q, row, col);
      out[row * q.n + col] = Math.fround(scale * (code - zeroPoint));
    }
  }
  return out;
}
