import assert from "node:assert/strict";
import { mannWhitneyU, twoSampleTest, welchT } from "./significance.ts";

// Reference p-values from SciPy 1.17 (scipy.stats.ttest_ind(equal_var=False), mannwhitneyu).
const close = (a: number, b: number, tol = 1e-6) =>
  assert(Math.abs(a - b) < tol, `${a} is not ${b} (±${tol})`);

Deno.test("welchT() matches SciPy's ttest_ind(equal_var=False)", () => {
  close(welchT([1, 2, 3, 4, 5], [2, 4, 6, 8, 11]).p, 0.11499016052991898);
  close(welchT([10, 11, 12, 13], [15, 16, 14, 18]).p, 0.008512863131378173);
});

Deno.test("mannWhitneyU() matches SciPy: exact without ties, normal approximation with ties", () => {
  close(mannWhitneyU([1, 3, 5, 7], [2, 4, 6, 8, 9, 10]).p, 0.2571428571428571);
  // Ties (2, 4): tie-corrected normal approximation with continuity correction.
  close(mannWhitneyU([1, 2, 3, 4, 5], [2, 4, 6, 8, 11]).p, 0.14123816388881966, 1e-6);
});

Deno.test("mannWhitneyU() says how small p can get: 3 vs 3 samples never reach 0.05", () => {
  const r = mannWhitneyU([1, 2, 3], [4, 5, 6]);
  close(r.minP, 0.1);
  close(r.p, 0.1);
});

Deno.test("twoSampleTest() rejects samples too small for Welch", () => {
  assert.throws(() => twoSampleTest("welch", [1], [2, 3]), /2 values/);
  assert.throws(() => mannWhitneyU([], [1]), /empty/);
});
