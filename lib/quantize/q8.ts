/**
 * 8-bit weight quantisation per output channel, as ONNX Runtime's dynamic quantisation
 * (`quantize_dynamic`, `MatMulInteger` pattern) computes it: per column of B `[K, N]`,
 * `rmin = min(0, min w)`, `rmax = max(0, max w)`;
 *
 * - asymmetric → `uint8`, `scale = (rmax - rmin) / 255`, `zeroPoint = round(-rmin / scale)`;
 * - symmetric → `int8` in `[-127, 127]`, `scale = max|w| / 127`, `zeroPoint = 0`;
 *
 * `q = clamp(round(w / scale) + zeroPoint)` with round-half-to-even, and dequantisation
 * `w = (q - zeroPoint) * scale` (ONNX `DequantizeLinear` with `axis = 1`).
 *
 * @module
 */
import { clamp, roundHalfEven } from "./_round.ts";

/** Options of {@linkcode quantizeQ8}. */
export interface Q8Options {
  /** Symmetric int8 (zero point 0) or asymmetric uint8. @default false */
  symmetric?: boolean;
  /** Tensor name used in error messages. @default "weights" */
  name?: string;
}

/** An 8-bit quantised `[K, N]` weight with per-column scale and zero point. */
export interface Q8Weights {
  /** In-features (rows). */
  k: number;
  /** Out-features (columns). */
  n: number;
  /** `int8` codes (zero point 0) when true, `uint8` otherwise. */
  symmetric: boolean;
  /** Codes, row-major `[K, N]` like the original weight. */
  data: Int8Array | Uint8Array;
  /** Per-column scales `[N]`. */
  scales: Float32Array;
  /** Per-column zero points `[N]`, same type as `data`. */
  zeroPoints: Int8Array | Uint8Array;
}

/**
 * Quantises a float32 `[K, N]` weight to 8 bits per element, one scale per column.
 *
 * @param weights `K * N` values, row-major.
 * @param shape `[K, N]`.
 * @param options Symmetry.
 * @returns Codes, scales and zero points.
 * @throws {RangeError} when the data does not match the shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeQ8, quantizeQ8 } from "./q8.ts";
 * const w = Float32Array.from({ length: 8 }, (_, i) => i - 3.3);
 * const q = quantizeQ8(w, [4, 2]);
 * assert(Math.abs(dequantizeQ8(q)[3]! - w[3]!) <= q.scales[1]! / 2 + 1e-6);
 * ```
 */
export function quantizeQ8(
  weights: ArrayLike<number>,
  shape: readonly [number, number],
  options: Q8Options = {},
): Q8Weights {
  const [k, n] = shape;
  const symmetric = options.symmetric ?? false;
  const name = options.name ?? "weights";
  if (weights.length !== k * n) {
    throw new RangeError(
      `'${name}' has ${weights.length} values, expected [${k}, ${n}] = ${k * n}`,
    );
  }
  const f = Math.fround;
  const w = weights instanceof Float32Array ? weights : Float32Array.from(weights);
  const data = symmetric ? new Int8Array(k * n) : new Uint8Array(k * n);
  const zeroPoints = symmetric ? new Int8Array(n) : new Uint8Array(n);
  const scales = new Float32Array(n);
  const [qmin, qmax] = symmetric ? [-127, 127] : [0, 255];
  // Row-major sweeps (cache friendly): each column's range, then the codes.
  const rmin = new Float32Array(n);
  const rmax = new Float32Array(n);
  for (let row = 0; row < k; row++) {
    const base = row * n;
    for (let col = 0; col < n; col++) {
      const v = w[base + col]!;
      if (v < rmin[col]!) rmin[col] = v;
      if (v > rmax[col]!) rmax[col] = v;
    }
  }
  for (let col = 0; col < n; col++) {
    let lo = rmin[col]!;
    let hi = rmax[col]!;
    if (symmetric) {
      const absmax = Math.max(-lo, hi);
      lo = -absmax;
      hi = absmax;
    }
    let scale = f(f(hi - lo) / (qmax - qmin));
    let zp = 0;
    if (scale < 1.1754943508222875e-38) {
      scale = 1;
    } else {
      zp = roundHalfEven(f(qmin - f(lo / scale)));
    }
    scales[col] = scale;
    zeroPoints[col] = zp;
  }
  for (let row = 0; row < k; row++) {
    const base = row * n;
    for (let col = 0; col < n; col++) {
      const v = f(w[base + col]! / scales[col]!);
      data[base + col] = clamp(roundHalfEven(v) + zeroPoints[col]!, qmin, qmax);
    }
  }
  return { k, n, symmetric, data, scales, zeroPoints };
}

/**
 * Reference dequantisation of an 8-bit weight: `(q - zeroPoint) * scale` per column, in float32.
 *
 * @param q The quantised weight.
 * @returns `K * N` float32 values, row-major.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeQ8, quantizeQ8 } from "./q8.ts";
 * const q = quantizeQ8(new Float32Array([0, 1.27]), [2, 1], { symmetric: true });
 * assert(Math.abs(dequantizeQ8(q)[1]! - 1.27) < 1e-6);
 * ```
 */
export function dequantizeQ8(q: Q8Weights): Float32Array {
  const out = new Float32Array(q.k * q.n);
  for (let row = 0; row < q.k; row++) {
    for (let col = 0; col < q.n; col++) {
      const i = row * q.n + col;
      out[i] = Math.fround((q.data[i]! - q.zeroPoints[col]!) * q.scales[col]!);
    }
  }
  return out;
}
