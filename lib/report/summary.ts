/**
 * Turns raw runs into one row per benchmark cell (`benchmarks/summary.csv`), with polars doing
 * every statistic.
 *
 * @module
 */
import pl from "nodejs-polars";
import { DTYPES } from "../dtypes.ts";
import { studentTQuantile975 } from "../measure/_student_t.ts";
import { minSamplesForPercentile } from "../measure/stats.ts";
import { NOISY_CV } from "../measure/run_checks.ts";

/** Columns that identify a summary row. */
export const SUMMARY_KEYS = [
  "model",
  "dtype",
  "device",
  "use_cache",
  "context_tokens",
  "batch",
] as const;

/**
 * Metrics summarised with mean, std, p50, p95, p99 and CI95 half-width over a cell's runs. A
 * percentile is blank (null) unless the cell has the runs to support it (at least one run above
 * it: p50 ≥ 2 runs, p95 ≥ 20, p99 ≥ 100); `runs` beside it says how many there were.
 */
export const SUMMARY_METRICS = ["decode_tokens_per_s", "prefill_ms", "total_ms"] as const;

/** One of {@linkcode SUMMARY_METRICS}. */
export type SummaryMetric = typeof SUMMARY_METRICS[number];

const STATS = ["mean", "std", "p50", "p95", "p99", "ci95"] as const;

/** Column order of `summary.csv`. */
export const SUMMARY_FIELDS: readonly string[] = Object.freeze([
  ...SUMMARY_KEYS,
  "runs",
  ...SUMMARY_METRICS.flatMap((m) => STATS.map((s) => `${m}_${s}`)),
  "token_p50_ms_mean",
  "peak_rss_bytes_max",
  "peak_vram_bytes_max",
  "decode_tokens_per_s_pooled",
  "decode_tokens_per_s_cv",
  "prefill_ms_cv",
  "noisy",
  "rss_baseline_bytes_max",
  "peak_rss_increase_bytes_max",
  "load1_before_max",
  "load1_after_max",
  "weights",
]);

/**
 * One benchmark cell's summary: `runs` ok runs; for each metric `<metric>_<stat>`; the CI95
 * half-width is t(0.975, n − 1) · std / √n (Student's t, as `summarize` in lib/measure computes it);
 * `null` where undefined (one run).
 */
export interface SummaryRow {
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device asked for. */
  device: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Prompt length in tokens. */
  context_tokens: number;
  /** Sequences per run. */
  batch: number;
  /** Ok runs in the cell. */
  runs: number;
  /** Mean decode tokens/s. */
  decode_tokens_per_s_mean: number | null;
  /** Sample standard deviation of decode tokens/s. */
  decode_tokens_per_s_std: number | null;
  /** Median decode tokens/s. */
  decode_tokens_per_s_p50: number | null;
  /** 95th percentile of decode tokens/s. */
  decode_tokens_per_s_p95: number | null;
  /** 99th percentile of decode tokens/s. */
  decode_tokens_per_s_p99: number | null;
  /** CI95 half-width of the mean decode tokens/s. */
  decode_tokens_per_s_ci95: number | null;
  /** Mean prefill, ms. */
  prefill_ms_mean: number | null;
  /** Std of prefill, ms. */
  prefill_ms_std: number | null;
  /** Median prefill, ms. */
  prefill_ms_p50: number | null;
  /** p95 prefill, ms. */
  prefill_ms_p95: number | null;
  /** p99 prefill, ms. */
  prefill_ms_p99: number | null;
  /** CI95 half-width of the mean prefill, ms. */
  prefill_ms_ci95: number | null;
  /** Mean total latency, ms. */
  total_ms_mean: number | null;
  /** Std of total latency, ms. */
  total_ms_std: number | null;
  /** Median total latency, ms. */
  total_ms_p50: number | null;
  /** p95 total latency, ms. */
  total_ms_p95: number | null;
  /** p99 total latency, ms. */
  total_ms_p99: number | null;
  /** CI95 half-width of the mean total latency, ms. */
  total_ms_ci95: number | null;
  /** Mean of the per-run median per-token decode latency, ms. */
  token_p50_ms_mean: number | null;
  /** Largest peak RSS of the cell, bytes. */
  peak_rss_bytes_max: number | null;
  /** Largest peak GPU memory of the cell, bytes (null without a GPU reading). */
  peak_vram_bytes_max: number | null;
  /**
   * Decode tokens of all runs ÷ their decode time: Σ (new_tokens − 1) · batch ÷ Σ decode_ms, in
   * tokens/s (pooled, not a mean of per-run rates); null without decode steps.
   */
  decode_tokens_per_s_pooled: number | null;
  /** Coefficient of variation of per-run decode tokens/s (std ÷ mean); null below two runs. */
  decode_tokens_per_s_cv: number | null;
  /** Coefficient of variation of per-run prefill ms; null below two runs. */
  prefill_ms_cv: number | null;
  /** Whether either coefficient of variation is above {@linkcode NOISY_CV} (20 %). */
  noisy: boolean;
  /** RSS of the cell's fresh worker with the model loaded, before the warmups, bytes. */
  rss_baseline_bytes_max: number | null;
  /** Peak RSS over the measured runs minus that baseline: what the cell itself added, bytes. */
  peak_rss_increase_bytes_max: number | null;
  /** Highest 1-minute load average read just before a run of the cell's worker. */
  load1_before_max: number | null;
  /** Highest 1-minute load average read just after. */
  load1_after_max: number | null;
  /** `random`, `trained`, or empty when the rows do not say. */
  weights: string;
}

/**
 * Aggregates the ok rows of a typed results frame into one row per (model, dtype, device,
 * use_cache, context_tokens, batch), sorted by model, dtype (DTYPES order), device, cache
 * (on first), context and batch.
 *
 * @param results A frame from `readResultsCsv` / `parseResultsCsv`.
 * @returns The summary frame, columns in `SUMMARY_FIELDS` order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, summarizeRuns } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const df = summarizeRuns(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"));
 * assert(df.height === 0);
 * ```
 */
export function summarizeRuns(results: pl.DataFrame): pl.DataFrame {
  const aggs = [pl.len().alias("runs")];
  for (const m of SUMMARY_METRICS) {
    const c = pl.col(m);
    aggs.push(
      c.mean().alias(`${m}_mean`),
      c.std().alias(`${m}_std`),
      c.quantile(0.5, "linear").alias(`${m}_p50`),
      c.quantile(0.95, "linear").alias(`${m}_p95`),
      c.quantile(0.99, "linear").alias(`${m}_p99`),
    );
  }
  const decoding = pl.col("new_tokens").gtEq(2).and(pl.col("decode_ms").isNotNull());
  aggs.push(
    pl.col("token_p50_ms").mean().alias("token_p50_ms_mean"),
    pl.col("peak_rss_bytes").max().alias("peak_rss_bytes_max"),
    pl.col("peak_vram_bytes").max().alias("peak_vram_bytes_max"),
    pl.when(decoding).then(pl.col("new_tokens").sub(1).mul(pl.col("batch"))).otherwise(pl.lit(0))
      .sum().alias("_decode_tokens"),
    pl.when(decoding).then(pl.col("decode_ms")).otherwise(pl.lit(0)).sum().alias("_decode_ms"),
    pl.col("rss_baseline_bytes").max().alias("rss_baseline_bytes_max"),
    pl.col("peak_rss_increase_bytes").max().alias("peak_rss_increase_bytes_max"),
    pl.col("load1_before").max().alias("load1_before_max"),
    pl.col("load1_after").max().alias("load1_after_max"),
    pl.col("weights").max().alias("weights"),
  );
  const ranks = pl.DataFrame({
    dtype: [...DTYPES],
    _dtype_rank: DTYPES.map((_, i) => i),
  });
  const grouped = results
    .filter(pl.col("status").eq(pl.lit("ok")))
    .groupBy([...SUMMARY_KEYS])
    .agg(...aggs);
  // CI95 half-width of the mean: t(0.975, n − 1) · std / √n, the t quantile joined per run count.
  const counts = [...new Set(grouped.getColumn("runs").toArray() as number[])];
  const tTable = pl.DataFrame([
    pl.Series("runs", counts, grouped.getColumn("runs").dtype),
    pl.Series("_t975", counts.map((n) => n > 1 ? studentTQuantile975(n - 1) : null), pl.Float64),
  ]);
  return grouped
    .join(tTable, { on: "runs", how: "left" })
    .withColumns(
      ...SUMMARY_METRICS.map((m) =>
        pl.col(`${m}_std`).mul(pl.col("_t975")).div(pl.col("runs").cast(pl.Float64).pow(0.5))
          .alias(`${m}_ci95`)
      ),
    )
    .withColumns(
      pl.when(pl.col("_decode_ms").gt(0))
        .then(pl.col("_decode_tokens").cast(pl.Float64).div(pl.col("_decode_ms")).mul(1000))
        .otherwise(pl.lit(null)).alias("decode_tokens_per_s_pooled"),
      ...(["decode_tokens_per_s", "prefill_ms"] as const).map((m) =>
        pl.when(pl.col("runs").gtEq(2).and(pl.col(`${m}_mean`).neq(0)))
          .then(pl.col(`${m}_std`).div(pl.col(`${m}_mean`).abs()))
          .otherwise(pl.lit(null)).alias(`${m}_cv`)
      ),
      // A percentile needs at least one run above it (minSamplesForPercentile in lib/measure).
      ...SUMMARY_METRICS.flatMap((m) =>
        ([["p50", 0.5], ["p95", 0.95], ["p99", 0.99]] as const).map(([stat, q]) =>
          pl.when(pl.col("runs").gtEq(minSamplesForPercentile(q)))
            .then(pl.col(`${m}_${stat}`)).otherwise(pl.lit(null)).alias(`${m}_${stat}`)
        )
      ),
    )
    .withColumns(
      pl.col("decode_tokens_per_s_cv").gt(NOISY_CV).fillNull(false)
        .or(pl.col("prefill_ms_cv").gt(NOISY_CV).fillNull(false)).alias("noisy"),
      pl.col("weights").fillNull(""),
    )
    .join(ranks, { on: "dtype", how: "left" })
    .withColumns(pl.col("_dtype_rank").fillNull(DTYPES.length))
    .sort(
      ["model", "_dtype_rank", "dtype", "device", "use_cache", "context_tokens", "batch"],
      [false, false, false, false, true, false, false],
    )
    // Counts and lengths are integers in summary.csv ("2048", not "2048.0").
    .withColumns(...["context_tokens", "batch", "runs"].map((c) => pl.col(c).cast(pl.Int64)))
    .select(...SUMMARY_FIELDS.map((f) => pl.col(f)));
}

/**
 * The summary frame as typed records.
 *
 * @param summary A frame from {@linkcode summarizeRuns}.
 * @returns One record per cell.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, summarizeRuns, summaryRecords } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * assert(summaryRecords(summarizeRuns(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"))).length === 0);
 * ```
 */
export function summaryRecords(summary: pl.DataFrame): SummaryRow[] {
  return summary.toRecords() as unknown as SummaryRow[];
}
