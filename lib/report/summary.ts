/**
 * Turns raw runs into one row per benchmark cell (`benchmarks/summary.csv`), with polars doing
 * every statistic.
 *
 * @module
 */
import pl from "nodejs-polars";
import { DTYPES } from "../dtypes.ts";
import { studentTQuantile975 } from "../measure/_student_t.ts";

/** Columns that identify a summary row. */
export const SUMMARY_KEYS = [
  "model",
  "dtype",
  "device",
  "use_cache",
  "context_tokens",
  "batch",
] as const;

/** Metrics summarised with mean, std, p50, p95, p99 and CI95 half-width. */
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
  aggs.push(
    pl.col("token_p50_ms").mean().alias("token_p50_ms_mean"),
    pl.col("peak_rss_bytes").max().alias("peak_rss_bytes_max"),
    pl.col("peak_vram_bytes").max().alias("peak_vram_bytes_max"),
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
