/**
 * One row per benchmark cell (`benchmarks/summary.csv`): the decode rate and its interval come
 * from lib/analysis (pooled over repetitions, interval from rounds); prefill and total latency
 * are summarised by lib/measure's `summarize`. This file only groups rows and lays out columns.
 *
 * @module
 */
import pl from "nodejs-polars";
import { DTYPES } from "../dtypes.ts";
import { byRound, cellRate } from "../analysis/mod.ts";
import type { BenchRow } from "../results/schema.ts";
import { summarize, supportedPercentile } from "../measure/stats.ts";
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
 * Latency metrics summarised with mean, std, p50, p95, p99 over a cell's runs and the CI95
 * half-width of the mean from rounds (one mean per round; null below two rounds). A percentile is blank (null) unless the cell has the runs to support it (at least one
 * run above it: p50 ≥ 2 runs, p95 ≥ 20, p99 ≥ 100); `runs` beside it says how many there were.
 * Decode speed is not among them: it has one statistic, the pooled rate with its interval from
 * rounds.
 */
export const SUMMARY_METRICS = ["prefill_ms", "total_ms"] as const;

/** One of {@linkcode SUMMARY_METRICS}. */
export type SummaryMetric = typeof SUMMARY_METRICS[number];

const STATS = ["mean", "std", "p50", "p95", "p99", "ci95"] as const;

/** Column order of `summary.csv`. */
export const SUMMARY_FIELDS: readonly string[] = Object.freeze([
  ...SUMMARY_KEYS,
  "runs",
  "rounds",
  "new_tokens_max",
  "decode_tokens_per_s_pooled",
  "decode_tokens_per_s_ci95_low",
  "decode_tokens_per_s_ci95_high",
  ...SUMMARY_METRICS.flatMap((m) => STATS.map((s) => `${m}_${s}`)),
  "token_p50_ms_mean",
  "peak_rss_bytes_max",
  "peak_vram_bytes_max",
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
 * One benchmark cell's summary: `runs` ok runs in `rounds` rounds; for each latency metric
 * `<metric>_<stat>` (CI95 half-width t(0.975, k − 1) · s / √k over the k round means, `null`
 * below two rounds);
 * the decode rate pooled with its interval from rounds (see lib/analysis/cell.ts).
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
  /** Rounds the runs came from (1 in files written before rounds existed). */
  rounds: number;
  /** Most tokens one run generated per sequence (runs decode for a time floor, so it varies). */
  new_tokens_max: number;
  /**
   * Decode tokens of all runs ÷ their decode time: Σ (new_tokens − 1) · batch ÷ Σ decode_ms, in
   * tokens/s (pooled, not a mean of per-run rates); null without decode steps. The only decode
   * speed any output prints for a cell.
   */
  decode_tokens_per_s_pooled: number | null;
  /** Lower bound of its 95 % interval from rounds; null below two rounds. */
  decode_tokens_per_s_ci95_low: number | null;
  /** Upper bound of its 95 % interval from rounds; null below two rounds. */
  decode_tokens_per_s_ci95_high: number | null;
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
  /** CI95 half-width of the mean prefill from rounds, ms. */
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
  /** CI95 half-width of the mean total latency from rounds, ms. */
  total_ms_ci95: number | null;
  /** Mean of the per-run median per-token decode latency, ms. */
  token_p50_ms_mean: number | null;
  /** Largest peak RSS of the cell, bytes. */
  peak_rss_bytes_max: number | null;
  /** Largest peak GPU memory of the cell, bytes (null without a GPU reading). */
  peak_vram_bytes_max: number | null;
  /**
   * Coefficient of variation of per-run decode tokens/s (std ÷ mean), a noise diagnostic of the
   * repetitions, not a speed; null below two runs.
   */
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

/** A results row as the summary reads it (the A/A control's `replica` is optional). */
export type SummaryInput = BenchRow & { round?: number | null; replica?: number | null };

/**
 * The ok rows of a typed results frame as records, without the A/A control's rows (a second
 * worker of the baseline arm, reported as the block's A/A ratio, never as a cell).
 *
 * @param results A frame from `readResultsCsv` / `parseResultsCsv`.
 * @returns The rows every cell statistic is computed from.
 */
export function okRows(results: pl.DataFrame): SummaryInput[] {
  return (results.toRecords() as unknown as SummaryInput[])
    .filter((r) => r.status === "ok" && (r.replica ?? 0) === 0);
}

/**
 * One summary row per (model, dtype, device, use_cache, context_tokens, batch), sorted by model,
 * dtype (DTYPES order), device, cache (on first), context and batch.
 *
 * @param rows Ok rows (see {@linkcode okRows}).
 * @returns The summary rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeRows } from "./summary.ts";
 * assert.equal(summarizeRows([]).length, 0);
 * ```
 */
export function summarizeRows(rows: readonly SummaryInput[]): SummaryRow[] {
  const cells = new Map<string, SummaryInput[]>();
  for (const row of rows) {
    const key = SUMMARY_KEYS.map((k) => String(row[k])).join("\u0000");
    const list = cells.get(key);
    if (list) list.push(row);
    else cells.set(key, [row]);
  }
  return [...cells.values()].map(summarizeCell).sort(compareCells);
}

function summarizeCell(rows: SummaryInput[]): SummaryRow {
  const first = rows[0]!;
  const rate = cellRate(rows);
  const numbers = (f: keyof SummaryInput) =>
    rows.map((r) => r[f]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const max = (f: keyof SummaryInput) => {
    const xs = numbers(f);
    return xs.length === 0 ? null : Math.max(...xs);
  };
  const mean = (f: keyof SummaryInput) => {
    const xs = numbers(f);
    return xs.length === 0 ? null : summarize(xs).mean;
  };
  const cv = (f: keyof SummaryInput) => {
    const xs = numbers(f);
    if (xs.length < 2) return null;
    const s = summarize(xs);
    return s.mean === 0 ? null : s.std / Math.abs(s.mean);
  };
  const latency: Record<string, number | null> = {};
  for (const m of SUMMARY_METRICS) {
    const xs = numbers(m);
    const s = xs.length === 0 ? null : summarize(xs);
    latency[`${m}_mean`] = s?.mean ?? null;
    latency[`${m}_std`] = s === null || s.count < 2 ? null : s.std;
    latency[`${m}_p50`] = s === null ? null : supportedPercentile(s, "p50");
    latency[`${m}_p95`] = s === null ? null : supportedPercentile(s, "p95");
    latency[`${m}_p99`] = s === null ? null : supportedPercentile(s, "p99");
    latency[`${m}_ci95`] = roundsHalfWidth(rows, m);
  }
  const decodeCv = cv("decode_tokens_per_s");
  const prefillCv = cv("prefill_ms");
  const weights = rows.map((r) => r.weights ?? "").sort().at(-1) ?? "";
  return {
    model: first.model,
    dtype: first.dtype,
    device: first.device,
    use_cache: first.use_cache,
    context_tokens: first.context_tokens,
    batch: first.batch,
    runs: rows.length,
    rounds: byRound(rows).size,
    new_tokens_max: Math.max(...rows.map((r) => r.new_tokens)),
    decode_tokens_per_s_pooled: rate.decode_tokens_per_s,
    decode_tokens_per_s_ci95_low: rate.ci95?.[0] ?? null,
    decode_tokens_per_s_ci95_high: rate.ci95?.[1] ?? null,
    ...(latency as Pick<SummaryRow, `${SummaryMetric}_${typeof STATS[number]}`>),
    token_p50_ms_mean: mean("token_p50_ms"),
    peak_rss_bytes_max: max("peak_rss_bytes"),
    peak_vram_bytes_max: max("peak_vram_bytes"),
    decode_tokens_per_s_cv: decodeCv,
    prefill_ms_cv: prefillCv,
    noisy: (decodeCv ?? 0) > NOISY_CV || (prefillCv ?? 0) > NOISY_CV,
    rss_baseline_bytes_max: max("rss_baseline_bytes"),
    peak_rss_increase_bytes_max: max("peak_rss_increase_bytes"),
    load1_before_max: max("load1_before"),
    load1_after_max: max("load1_after"),
    weights,
  };
}

/**
 * Half width of the 95 % interval of a latency's mean from rounds: each round's mean, then
 * `t(0.975, k − 1) · s / √k` over the k round means; null below two rounds.
 */
function roundsHalfWidth(rows: readonly SummaryInput[], metric: SummaryMetric): number | null {
  const means: number[] = [];
  for (const group of byRound(rows).values()) {
    const xs = group.map((r) => r[metric]).filter((v): v is number =>
      typeof v === "number" && Number.isFinite(v)
    );
    if (xs.length > 0) means.push(summarize(xs).mean);
  }
  return means.length < 2 ? null : summarize(means).ci95HalfWidth;
}

function dtypeRank(dtype: string): number {
  const i = (DTYPES as readonly string[]).indexOf(dtype);
  return i < 0 ? DTYPES.length : i;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareCells(a: SummaryRow, b: SummaryRow): number {
  return compareText(a.model, b.model) || dtypeRank(a.dtype) - dtypeRank(b.dtype) ||
    compareText(a.dtype, b.dtype) || compareText(a.device, b.device) ||
    Number(b.use_cache) - Number(a.use_cache) || a.context_tokens - b.context_tokens ||
    a.batch - b.batch;
}

const INTEGER_FIELDS = new Set(["context_tokens", "batch", "runs", "rounds", "new_tokens_max"]);
const TEXT_FIELDS = new Set(["model", "dtype", "device", "weights"]);
const BOOLEAN_FIELDS = new Set(["use_cache", "noisy"]);

/**
 * The summary rows as a polars frame (what `summary.csv` holds), columns in `SUMMARY_FIELDS`
 * order, counts and lengths as integers.
 *
 * @param rows From {@linkcode summarizeRows}.
 * @returns The frame.
 */
export function summaryFrame(rows: readonly SummaryRow[]): pl.DataFrame {
  return pl.DataFrame(SUMMARY_FIELDS.map((f) => {
    const values = rows.map((r) => (r as unknown as Record<string, unknown>)[f] ?? null);
    const dtype = INTEGER_FIELDS.has(f)
      ? pl.Int64
      : TEXT_FIELDS.has(f)
      ? pl.Utf8
      : BOOLEAN_FIELDS.has(f)
      ? pl.Bool
      : pl.Float64;
    return pl.Series(f, values, dtype);
  }));
}

/**
 * Aggregates the ok rows of a typed results frame into the summary frame (see
 * {@linkcode summarizeRows}).
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
  return summaryFrame(summarizeRows(okRows(results)));
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
