/**
 * The summary a CLI prints for a handful of back-to-back samples of a positive quantity (a
 * latency, a rate): only the percentiles the sample count supports (p50 from 2 samples, p90 from
 * 10, p95 from 20, p99 from 100; null below) and a 95 % interval that cannot go below zero: a t
 * interval of the mean of the logs, `exp(m ± t(0.975, n − 1) · s / √n)` around the geometric
 * mean. Back-to-back samples share one machine state, so the interval describes those runs, not
 * a difference between settings: comparisons go through `compare` and rounds.
 *
 * @module
 */
import { summarize, supportedPercentile } from "../measure/stats.ts";
import { studentTQuantile } from "./student_t.ts";

/** The summary of positive samples. */
export interface SampleSummary {
  /** Samples. */
  count: number;
  /** Arithmetic mean. */
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one sample. */
  std: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Median; null below 2 samples. */
  p50: number | null;
  /** 90th percentile; null below 10 samples. */
  p90: number | null;
  /** 95th percentile; null below 20 samples. */
  p95: number | null;
  /** 99th percentile; null below 100 samples. */
  p99: number | null;
  /** Lower bound of the log-scale 95 % interval; null below 2 samples or with a sample ≤ 0. */
  ci95Low: number | null;
  /** Upper bound. */
  ci95High: number | null;
}

/**
 * Summarises positive samples (see the module doc).
 *
 * @param samples Finite numbers (at least one).
 * @returns Count, mean, std, extremes, supported percentiles and a positive interval.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeSamples } from "./samples.ts";
 * const s = summarizeSamples([10, 30]);
 * assert.equal(s.p90, null);
 * assert(s.ci95Low! > 0 && s.ci95High! > 30);
 * ```
 */
export function summarizeSamples(samples: readonly number[]): SampleSummary {
  const s = summarize(samples);
  let ci95Low: number | null = null;
  let ci95High: number | null = null;
  if (s.count >= 2 && samples.every((x) => x > 0)) {
    const logs = summarize(samples.map(Math.log));
    const half = studentTQuantile(0.975, s.count - 1) * logs.std / Math.sqrt(s.count);
    ci95Low = Math.exp(logs.mean - half);
    ci95High = Math.exp(logs.mean + half);
  }
  return {
    count: s.count,
    mean: s.mean,
    std: s.std,
    min: s.min,
    max: s.max,
    p50: supportedPercentile(s, "p50"),
    p90: supportedPercentile(s, "p90"),
    p95: supportedPercentile(s, "p95"),
    p99: supportedPercentile(s, "p99"),
    ci95Low,
    ci95High,
  };
}
