/**
 * Student's t distribution at any level: its CDF (through the regularised incomplete beta
 * function) and its quantile (by bisection on the CDF). The interval arithmetic of lib/analysis
 * needs quantiles other than 0.975 once several comparisons share one 95 % family (Bonferroni).
 *
 * @module
 */

const LANCZOS = [
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error below 1e-13). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i + 1);
  const t = z + LANCZOS.length - 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - (a + b) * x / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/**
 * Regularised incomplete beta I_x(a, b) (the two-sided t test's p is I_{ν/(ν+t²)}(ν/2, 1/2)).
 *
 * @param x Where, in [0, 1].
 * @param a Shape a > 0.
 * @param b Shape b > 0.
 * @returns I_x(a, b).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { incompleteBeta } from "./student_t.ts";
 * assert.ok(Math.abs(incompleteBeta(0.5, 2, 2) - 0.5) < 1e-12);
 * ```
 */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? front * betaFraction(a, b, x) / a
    : 1 - front * betaFraction(b, a, 1 - x) / b;
}

/**
 * P(T ≤ t) for Student's t with `df` degrees of freedom.
 *
 * @param t The point.
 * @param df Degrees of freedom, > 0.
 * @returns The probability.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { studentTCdf } from "./student_t.ts";
 * assert(Math.abs(studentTCdf(0, 5) - 0.5) < 1e-12);
 * assert(Math.abs(studentTCdf(2.570582, 5) - 0.975) < 1e-6);
 * ```
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: 'df' must be positive, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `p` quantile of Student's t with `df` degrees of freedom (bisection on
 * {@linkcode studentTCdf}, to 1e-10).
 *
 * @param p Probability in (0, 1).
 * @param df Degrees of freedom, > 0.
 * @returns t such that P(T ≤ t) = p.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { studentTQuantile } from "./student_t.ts";
 * assert(Math.abs(studentTQuantile(0.975, 4) - 2.776445) < 1e-5);
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: 'p' must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: 'df' must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
