/**
 * Comparing two sets of runs (two commits, or two jobs) metric by metric, like asv or Bencher:
 * runs are matched by configuration (model, dtype, device, cache, batch, prompt and new tokens),
 * their raw samples pooled per side, and a metric is called `better` or `worse` only when the
 * difference is significant (Mann–Whitney U or Welch's t, two-sided, `alpha`) **and** at least
 * `minEffect` of the baseline (10 % by default). Otherwise it is `same`, or `inconclusive` when
 * the samples are too few for the test to ever reach `alpha`.
 *
 * @module
 */
import type { RunRecord, RunSamples } from "./schema.ts";
import { type SignificanceTest, twoSampleTest } from "./significance.ts";
import { MIN_EFFECT } from "../analysis/compare.ts";

/** The metrics compared, and which direction is better. */
export const METRICS: Readonly<Record<keyof RunSamples, "higher" | "lower">> = Object.freeze({
  decode_tokens_per_s: "higher",
  prefill_ms: "lower",
  total_ms: "lower",
});

/** What a comparison reads of a run. */
export type ComparableRun = Pick<
  RunRecord,
  | "model"
  | "dtype"
  | "device"
  | "use_cache"
  | "batch"
  | "prompt_tokens"
  | "max_new_tokens"
  | "samples"
>;

/** A metric's verdict. */
export type Verdict = "better" | "worse" | "same" | "inconclusive";

/** Options of {@linkcode compareRuns}. */
export interface CompareOptions {
  /** The test. @default "mwu" */
  test?: SignificanceTest;
  /** Smallest relative change that counts. @default 0.1 */
  minEffect?: number;
  /** Significance level. @default 0.05 */
  alpha?: number;
}

/** One metric of one configuration. */
export interface MetricComparison {
  /** Configuration key (`model dtype device cache=on batch=1 prompt=16 new=4`). */
  config: string;
  /** The metric. */
  metric: keyof RunSamples;
  /** Samples of A and B. */
  nA: number;
  /** Samples of B. */
  nB: number;
  /** Median of A (mwu) or mean of A (welch). */
  centerA: number;
  /** Median or mean of B. */
  centerB: number;
  /** (B − A) / A. */
  change: number;
  /** Two-sided p-value, or `null` when the test could not run. */
  p: number | null;
  /** The verdict for B against A. */
  verdict: Verdict;
  /** Why, in words. */
  note: string;
}

/** The result of {@linkcode compareRuns}. */
export interface Comparison {
  /** One entry per configuration present on both sides and metric with samples on both. */
  metrics: MetricComparison[];
  /** Configurations only on one side. */
  unmatched: { side: "A" | "B"; config: string }[];
  /** Whether any metric got worse. */
  regression: boolean;
}

/**
 * The configuration key runs are matched by.
 *
 * @param run A run.
 * @returns The key.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configKey } from "./compare.ts";
 * assert.equal(
 *   configKey({ model: "m", dtype: "q4", device: "cpu", use_cache: true, batch: 1,
 *     prompt_tokens: 16, max_new_tokens: 4 }),
 *   "m q4 cpu cache=on batch=1 prompt=16 new=4",
 * );
 * ```
 */
export function configKey(run: Omit<ComparableRun, "samples">): string {
  return `${run.model} ${run.dtype} ${run.device} cache=${run.use_cache ? "on" : "off"} ` +
    `batch=${run.batch} prompt=${run.prompt_tokens} new=${run.max_new_tokens}`;
}

/**
 * Compares runs B against baseline runs A.
 *
 * @param a Baseline runs.
 * @param b New runs.
 * @param options Test, minimum effect, alpha.
 * @returns Per configuration and metric, the verdict; `regression` when any got worse.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareRuns } from "./compare.ts";
 * const run = (tps: number[]) => ({
 *   model: "m", dtype: "q4", device: "cpu", use_cache: true, batch: 1, prompt_tokens: 16,
 *   max_new_tokens: 4, samples: { decode_tokens_per_s: tps, prefill_ms: [], total_ms: [] },
 * });
 * const slower = compareRuns([run([100, 101, 99, 100, 102])], [run([80, 81, 79, 80, 82])]);
 * assert(slower.regression && slower.metrics[0]!.verdict === "worse");
 * const noise = compareRuns([run([100, 101, 99, 100, 102])], [run([98, 99, 97, 98, 100])]);
 * assert(!noise.regression); // significant but under 10 %
 * ```
 */
export function compareRuns(
  a: readonly ComparableRun[],
  b: readonly ComparableRun[],
  options: CompareOptions = {},
): Comparison {
  const test = options.test ?? "mwu";
  const minEffect = options.minEffect ?? MIN_EFFECT;
  const alpha = options.alpha ?? 0.05;
  const pool = (runs: readonly ComparableRun[]) => {
    const map = new Map<string, RunSamples>();
    for (const run of runs) {
      const key = configKey(run);
      const s = map.get(key) ?? { decode_tokens_per_s: [], prefill_ms: [], total_ms: [] };
      for (const metric of Object.keys(METRICS) as (keyof RunSamples)[]) {
        s[metric].push(...run.samples[metric]);
      }
      map.set(key, s);
    }
    return map;
  };
  const poolA = pool(a);
  const poolB = pool(b);
  const metrics: MetricComparison[] = [];
  const unmatched: Comparison["unmatched"] = [];
  for (const key of poolA.keys()) if (!poolB.has(key)) unmatched.push({ side: "A", config: key });
  for (const [key, sb] of poolB) {
    const sa = poolA.get(key);
    if (!sa) {
      unmatched.push({ side: "B", config: key });
      continue;
    }
    for (const metric of Object.keys(METRICS) as (keyof RunSamples)[]) {
      if (sa[metric].length === 0 || sb[metric].length === 0) continue;
      metrics.push(
        compareMetric(key, metric, sa[metric], sb[metric], { test, minEffect, alpha }),
      );
    }
  }
  return { metrics, unmatched, regression: metrics.some((m) => m.verdict === "worse") };
}

function compareMetric(
  config: string,
  metric: keyof RunSamples,
  a: number[],
  b: number[],
  o: Required<CompareOptions>,
): MetricComparison {
  const center = o.test === "mwu" ? median : meanOf;
  const centerA = center(a);
  const centerB = center(b);
  const change = centerA === 0 ? 0 : (centerB - centerA) / Math.abs(centerA);
  const base = { config, metric, nA: a.length, nB: b.length, centerA, centerB, change };
  const needed = o.test === "welch" ? 2 : 1;
  if (a.length < needed || b.length < needed) {
    return {
      ...base,
      p: null,
      verdict: "inconclusive",
      note: `${o.test} needs ${needed}+ samples`,
    };
  }
  const result = twoSampleTest(o.test, a, b);
  const improved = METRICS[metric] === "higher" ? change > 0 : change < 0;
  if (result.minP > o.alpha) {
    return {
      ...base,
      p: result.p,
      verdict: "inconclusive",
      note: `too few samples: ${o.test} cannot reach p < ${o.alpha} with ${a.length} and ` +
        `${b.length} (smallest p ${result.minP.toFixed(3)}); use more runs or --test welch`,
    };
  }
  if (result.p >= o.alpha) {
    return { ...base, p: result.p, verdict: "same", note: `not significant (p ≥ ${o.alpha})` };
  }
  if (Math.abs(change) < o.minEffect) {
    return {
      ...base,
      p: result.p,
      verdict: "same",
      note: `significant but under the ${(o.minEffect * 100).toFixed(0)} % minimum effect`,
    };
  }
  return {
    ...base,
    p: result.p,
    verdict: improved ? "better" : "worse",
    note: `significant (p < ${o.alpha}) and at least ${(o.minEffect * 100).toFixed(0)} %`,
  };
}

function median(x: readonly number[]): number {
  const s = [...x].sort((p, q) => p - q);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function meanOf(x: readonly number[]): number {
  return x.reduce((s, v) => s + v, 0) / x.length;
}
