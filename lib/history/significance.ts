/**
 * Two-sample significance tests for benchmark samples: Mann–Whitney U (rank-based, exact for
 * small samples without ties, else the normal approximation with tie and continuity
 * corrections) and Welch's unequal-variance t test. Both return a two-sided p-value.
 *
 * @module
 */
import { incompleteBeta } from "../analysis/student_t.ts";

/** The tests {@linkcode twoSampleTest} runs. */
export const TESTS = ["mwu", "welch"] as const;

/** One of {@linkcode TESTS}. */
export type SignificanceTest = typeof TESTS[number];

/** Result of a two-sample test. */
export interface TestResult {
  /** The test run. */
  test: SignificanceTest;
  /** Two-sided p-value. */
  p: number;
  /** The smallest two-sided p-value these sample sizes can give (mwu); 0 for welch. */
  minP: number;
}

/**
 * Two-sided Mann–Whitney U test.
 *
 * @param a First sample (at least one value).
 * @param b Second sample (at least one value).
 * @returns The p-value and the smallest p-value possible with these sizes.
 * @throws {RangeError} when a sample is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mannWhitneyU } from "./significance.ts";
 * // Fully separated samples of 5 and 5: exact p = 2 / C(10, 5) = 2 / 252.
 * const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
 * assert(Math.abs(r.p - 2 / 252) < 1e-12);
 * ```
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): TestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("Cannot test: a sample is empty");
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))]
    .sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const r1 = all.reduce((sum, x, i) => sum + (x.g === 0 ? ranks[i]! : 0), 0);
  const u1 = r1 - n1 * (n1 + 1) / 2;
  const u = Math.min(u1, n1 * n2 - u1);
  const exactAllowed = tieTerm === 0 && n1 * n2 <= 2500;
  const minP = exactAllowed ? Math.min(1, 2 * exactCdf(n1, n2, 0)) : normalP(0, n1, n2, 0);
  if (exactAllowed) return { test: "mwu", p: Math.min(1, 2 * exactCdf(n1, n2, u)), minP };
  return { test: "mwu", p: normalP(u, n1, n2, tieTerm), minP };
}

/** P(U ≤ u) under H0, by counting rank arrangements (no ties). */
function exactCdf(n1: number, n2: number, u: number): number {
  // counts[i][j][k]: arrangements of i values of a and j of b with U = k, built row by row.
  let prev: number[][] = [];
  for (let i = 0; i <= n1; i++) {
    const row: number[][] = [];
    for (let j = 0; j <= n2; j++) {
      const cell = new Array<number>(i * j + 1).fill(0);
      if (i === 0 || j === 0) cell[0] = 1;
      else {
        // The largest value is from a (adds j to U) or from b (adds nothing).
        const fromA = prev[j]!;
        const fromB = row[j - 1]!;
        for (let k = 0; k < fromA.length; k++) cell[k + j]! += fromA[k]!;
        for (let k = 0; k < fromB.length; k++) cell[k]! += fromB[k]!;
      }
      row.push(cell);
    }
    prev = row;
  }
  const dist = prev[n2]!;
  const total = dist.reduce((s, c) => s + c, 0);
  let below = 0;
  for (let k = 0; k <= Math.floor(u); k++) below += dist[k] ?? 0;
  return below / total;
}

function normalP(u: number, n1: number, n2: number, tieTerm: number): number {
  const n = n1 + n2;
  const mean = n1 * n2 / 2;
  const variance = n1 * n2 / 12 * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return 1;
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return z <= 0 ? 1 : Math.min(1, 2 * (1 - normalCdf(z)));
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** erf by Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 -
    (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
        0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/**
 * Two-sided Welch's t test (unequal variances, Welch–Satterthwaite degrees of freedom).
 *
 * @param a First sample (at least two values).
 * @param b Second sample (at least two values).
 * @returns The p-value.
 * @throws {RangeError} when a sample has fewer than two values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { welchT } from "./significance.ts";
 * assert(welchT([10, 11, 10.5], [20, 21, 20.5]).p < 0.001);
 * assert(welchT([10, 11, 12], [10, 11, 12]).p === 1);
 * ```
 */
export function welchT(a: readonly number[], b: readonly number[]): TestResult {
  if (a.length < 2 || b.length < 2) {
    throw new RangeError(
      `Cannot run Welch's t test: each sample needs 2 values, got ${a.length} and ${b.length}`,
    );
  }
  const [m1, v1] = meanVar(a);
  const [m2, v2] = meanVar(b);
  const se2 = v1 / a.length + v2 / b.length;
  if (se2 === 0) return { test: "welch", p: m1 === m2 ? 1 : 0, minP: 0 };
  const t = (m2 - m1) / Math.sqrt(se2);
  const df = se2 ** 2 /
    ((v1 / a.length) ** 2 / (a.length - 1) + (v2 / b.length) ** 2 / (b.length - 1));
  const p = t === 0 ? 1 : incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return { test: "welch", p: Math.min(1, p), minP: 0 };
}

/**
 * Runs the named test.
 *
 * @param test `mwu` or `welch`.
 * @param a First sample.
 * @param b Second sample.
 * @returns The result.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { twoSampleTest } from "./significance.ts";
 * assert(twoSampleTest("mwu", [1, 2, 3], [1, 2, 3]).p === 1);
 * ```
 */
export function twoSampleTest(
  test: SignificanceTest,
  a: readonly number[],
  b: readonly number[],
): TestResult {
  switch (test) {
    case "mwu":
      return mannWhitneyU(a, b);
    case "welch":
      return welchT(a, b);
    default: {
      const never: never = test;
      throw new RangeError(`unknown test '${never}'`);
    }
  }
}

function meanVar(x: readonly number[]): [number, number] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  return [mean, x.reduce((s, v) => s + (v - mean) ** 2, 0) / (x.length - 1)];
}
