/**
 * GPTQ (Frantar et al., 2022, "GPTQ: Accurate Post-Training Quantization for Generative
 * Pre-trained Transformers") for the `MatMulNBits` 4-bit format of {@linkcode quantizeQ4}: the
 * same blocks of `blockSize` rows of K, the same asymmetric scale and zero point per (column,
 * block) computed from the block's min and max, the same packing — only the codes differ. Rows of
 * B (input features) are quantised in order; each row's rounding error is spread over the rows
 * not yet quantised, weighted by the inverse of the layer's input Hessian `H = XᵀX`, so the
 * layer's output on the calibration inputs moves as little as possible. A block's scale and zero
 * point are chosen when the block is reached, from the already-updated weights (GPTQ's
 * `groupsize` without activation reordering, which this format cannot express).
 *
 * @module
 */
import { checkBlockSize, type Q4Weights } from "./q4.ts";
import { roundHalfAway } from "./_round.ts";

/** Options of {@linkcode quantizeQ4Gptq}. */
export interface GptqOptions {
  /** Rows of K per block (a power of two ≥ 16). @default 32 */
  blockSize?: number;
  /** Dampening added to H's diagonal, as a fraction of its mean diagonal. @default 0.01 */
  damp?: number;
  /** Tensor name used in error messages. @default "weights" */
  name?: string;
}

/**
 * Quantises a float32 `[K, N]` weight (row-major, a MatMul's B) to 4 bits with GPTQ.
 *
 * @param weights `K * N` values, row-major (not modified).
 * @param hessian `K * K` values of `XᵀX` over the calibration inputs X `[tokens, K]` (any
 * positive scale), row-major.
 * @param shape `[K, N]`.
 * @param options Block size, dampening.
 * @returns Packed weights, float32 scales and zero points in `MatMulNBits` layout.
 * @throws {RangeError} when sizes do not match or K is not a multiple of the block size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizeQ4Gptq } from "./gptq.ts";
 * import { quantizeQ4 } from "./q4.ts";
 * const w = Float32Array.from({ length: 32 * 4 }, (_, i) => Math.sin(i * 0.7));
 * const identity = new Float64Array(32 * 32).map((_, i) => (i % 33 === 0 ? 1 : 0));
 * // With uncorrelated inputs there is no error to spread: GPTQ equals round-to-nearest.
 * assert.deepEqual(quantizeQ4Gptq(w, identity, [32, 4]).packed, quantizeQ4(w, [32, 4]).packed);
 * ```
 */
export function quantizeQ4Gptq(
  weights: Float32Array,
  hessian: Float64Array,
  shape: readonly [number, number],
  options: GptqOptions = {},
): Q4Weights {
  const [k, n] = shape;
  const blockSize = checkBlockSize(options.blockSize ?? 32);
  const name = options.name ?? "weights";
  if (weights.length !== k * n || hessian.length !== k * k) {
    throw new RangeError(
      `'${name}': ${weights.length} weights and ${hessian.length} Hessian values do not fit [${k}, ${n}]`,
    );
  }
  if (k % blockSize !== 0) {
    throw new RangeError(
      `Cannot quantize '${name}' [${k}, ${n}] to 4 bits: in-features ${k} is not a multiple of ` +
        `blockSize ${blockSize}`,
    );
  }
  const w = Float64Array.from(weights);
  const h = Float64Array.from(hessian);
  // Inputs that never fire carry no information: their weights are zeroed (GPTQ's dead columns).
  for (let i = 0; i < k; i++) {
    if (h[i * k + i] === 0) {
      h[i * k + i] = 1;
      w.fill(0, i * n, (i + 1) * n);
    }
  }
  let mean = 0;
  for (let i = 0; i < k; i++) mean += h[i * k + i]!;
  const damp = (options.damp ?? 0.01) * (mean / k);
  for (let i = 0; i < k; i++) h[i * k + i]! += damp;
  const hinv = upperCholeskyOfInverse(h, k, name);

  const nBlocks = k / blockSize;
  const blob = blockSize / 2;
  const zpPerCol = Math.ceil(nBlocks / 2);
  const packed = new Uint8Array(n * nBlocks * blob);
  const scales = new Float32Array(n * nBlocks);
  const zeroPoints = new Uint8Array(n * zpPerCol);
  const f = Math.fround;
  const recip = new Float32Array(n);
  const zps = new Float32Array(n);
  const err = new Float64Array(n);
  for (let row = 0; row < k; row++) {
    const b = Math.floor(row / blockSize);
    const r = row % blockSize;
    if (r === 0) {
      // The block's scale and zero point, exactly as round-to-nearest computes them (float32).
      for (let col = 0; col < n; col++) {
        let lo = f(w[row * n + col]!), hi = lo;
        for (let i = 1; i < blockSize; i++) {
          const v = f(w[(row + i) * n + col]!);
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        const min = Math.min(lo, 0);
        const max = Math.max(hi, 0);
        const scale = f(f(max - min) / 15);
        const zpf = scale !== 0 ? f(0 - f(min / scale)) : min;
        const zp = zpf < 0 ? 0 : zpf > 15 ? 15 : roundHalfAway(zpf);
        zps[col] = zp;
        zeroPoints[col * zpPerCol + (b >> 1)]! |= (b & 1) ? zp << 4 : zp;
        scales[col * nBlocks + b] = scale;
        recip[col] = scale ? f(1 / scale) : 0;
      }
    }
    const d = hinv[row * k + row]!;
    const shift = (r & 1) * 4;
    const byte = b * blob + (r >> 1);
    for (let col = 0; col < n; col++) {
      const value = w[row * n + col]!;
      const v = f(f(value) * recip[col]!);
      const x = f(v + zps[col]!);
      const r0 = Math.floor(x + 0.5);
      const q = x < 0 ? 0 : r0 > 15 ? 15 : r0;
      packed[col * nBlocks * blob + byte]! |= q << shift;
      const dq = f(scales[col * nBlocks + b]! * (q - zps[col]!));
      err[col] = (value - dq) / d;
    }
    // Spread the error over the rows not yet quantised: W[j] -= err · Hinv[row, j].
    for (let j = row + 1; j < k; j++) {
      const factor = hinv[row * k + j]!;
      if (factor === 0) continue;
      const base = j * n;
      for (let col = 0; col < n; col++) w[base + col]! -= err[col]! * factor;
    }
  }
  return {
    k,
    n,
    bits: 4,
    blockSize,
    symmetric: false,
    scaleType: "float32",
    packed,
    scales,
    zeroPoints,
  };
}

/** U with Uᵀ U = H⁻¹ (upper Cholesky factor of the inverse), as GPTQ uses it. */
function upperCholeskyOfInverse(h: Float64Array, k: number, name: string): Float64Array {
  // H = L Lᵀ.
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = h[i * k + j]!;
      for (let p = 0; p < j; p++) sum -= l[i * k + p]! * l[j * k + p]!;
      if (i === j) {
        if (!(sum > 0)) {
          throw new RangeError(`GPTQ: the Hessian of '${name}' is not positive definite`);
        }
        l[i * k + i] = Math.sqrt(sum);
      } else l[i * k + j] = sum / l[j * k + j]!;
    }
  }
  // L⁻¹ (lower triangular), then H⁻¹ = L⁻ᵀ L⁻¹.
  const li = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    li[i * k + i] = 1 / l[i * k + i]!;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let p = j; p < i; p++) sum += l[i * k + p]! * li[p * k + j]!;
      li[i * k + j] = -sum / l[i * k + i]!;
    }
  }
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let p = i; p < k; p++) sum += li[p * k + i]! * li[p * k + j]!;
      inv[i * k + j] = sum;
      inv[j * k + i] = sum;
    }
  }
  // H⁻¹ = Uᵀ U with U upper: U = (chol_lower(H⁻¹))ᵀ.
  const u = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = inv[i * k + j]!;
      for (let p = 0; p < j; p++) sum -= u[p * k + i]! * u[p * k + j]!;
      if (i === j) {
        if (!(sum > 0)) {
          throw new RangeError(`GPTQ: the inverse Hessian of '${name}' is not positive definite`);
        }
        u[i * k + i] = Math.sqrt(sum);
      } else u[j * k + i] = sum / u[j * k + j]!;
    }
  }
  return u;
}
