/**
 * One summary of raw samples: count, mean, sample standard deviation, extremes, percentiles and a
 * 95 % confidence interval of the mean. Plain TypeScript on purpose: the engine summarises ten
 * numbers per cell in the hot process, where loading polars' native addon would cost more than the
 * arithmetic.
 *
 * Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7, the default
 * of numpy `percentile`, polars `quantile(…, "linear")` and R `quantile`): the p-th percentile of
 * sorted `x[0..n-1]` sits at rank `h = (n − 1) · p / 100`, and equals
 * `x[⌊h⌋] + (h − ⌊h⌋) · (x[⌊h⌋+1] − x[⌊h⌋])`.
 *
 * @module
 */
import { studentTQuantile975 } from "./_student_t.ts";

/** The summary of a list of samples; every field is in the samples' unit. */
export interface Summary {
  /** Number of samples. */
  count: number;
  /** Arithmetic mean. */
  mean: number;
  /** Sample standard deviation (divisor n − 1); 0 for a single sample. */
  std: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Median (linear interpolation). */
  p50: number;
  /** 90th percentile (linear interpolation). */
  p90: number;
  /** 95th percentile (linear interpolation). */
  p95: number;
  /** 99th percentile (linear interpolation). */
  p99: number;
  /**
   * Half width of the 95 % confidence interval of the mean, `t(0.975, n − 1) · std / √n`
   * (Student's t); `null` for fewer than two samples.
   */
  ci95HalfWidth: number | null;
  /** Lower bound of the 95 % confidence interval of the mean; `null` below two samples. */
  ci95Low: number | null;
  /** Upper bound of the 95 % confidence interval of the mean; `null` below two samples. */
  ci95High: number | null;
}

/**
 * Summarises raw samples (the only place the project turns samples into statistics).
 *
 * @param samples Finite numbers, in any order (not modified).
 * @returns Count, mean, sample std, min, max, p50/p90/p95/p99 and the CI95 of the mean.
 * @throws {RangeError} when `samples` is empty or holds a non-finite number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarize } from "./stats.ts";
 * const s = summarize([1, 2, 3, 4]);
 * assert(s.mean === 2.5 && s.p50 === 2.5 && s.max === 4);
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) throw new RangeError("Cannot summarize: 'samples' is empty");
  const sorted = Float64Array.from(samples);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(sorted[i]!)) {
      throw new RangeError(`Cannot summarize: 'samples[${i}]' is not finite, got ${sorted[i]}`);
    }
  }
  sorted.sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  const half = n > 1 ? studentTQuantile975(n - 1) * std / Math.sqrt(n) : null;
  return {
    count: n,
    mean,
    std,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    ci95HalfWidth: half,
    ci95Low: half === null ? null : mean - half,
    ci95High: half === null ? null : mean + half,
  };
}

/**
 * Fewest samples for which a percentile is reported: at least one sample must lie above it
 * (`⌈1 / (1 − q)⌉`), so p50 needs 2 samples, p90 10, p95 20 and p99 100. Below that the
 * "percentile" is an interpolation between the largest samples, not a tail.
 *
 * @param q The quantile in (0, 1), e.g. 0.95.
 * @returns The sample count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minSamplesForPercentile } from "./stats.ts";
 * assert.deepEqual([0.5, 0.9, 0.95, 0.99].map(minSamplesForPercentile), [2, 10, 20, 100]);
 * ```
 */
export function minSamplesForPercentile(q: number): number {
  if (!(q > 0 && q < 1)) {
    throw new RangeError(`Cannot size a percentile: 'q' must be in (0, 1), got ${q}`);
  }
  return Math.ceil(1 / (1 - q) - 1e-9);
}

/**
 * A percentile of a summary, or `null` when its sample count does not support it
 * ({@linkcode minSamplesForPercentile}).
 *
 * @param summary A summary from {@linkcode summarize}.
 * @param which `p50`, `p90`, `p95` or `p99`.
 * @returns The percentile or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { supportedPercentile, summarize } from "./stats.ts";
 * assert.equal(supportedPercentile(summarize([1, 2, 3, 4, 5]), "p95"), null);
 * assert.equal(supportedPercentile(summarize([1, 2, 3, 4, 5]), "p50"), 3);
 * ```
 */
export function supportedPercentile(
  summary: Summary,
  which: "p50" | "p90" | "p95" | "p99",
): number | null {
  const q = Number(which.slice(1)) / 100;
  return summary.count >= minSamplesForPercentile(q) ? summary[which] : null;
}

function percentileOfSorted(sorted: Float64Array, p: number): number {
  const h = (sorted.length - 1) * p / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
