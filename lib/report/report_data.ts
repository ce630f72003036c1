/**
 * Everything figures and reports read, derived from the two CSVs alone: the per-cell summary, the
 * latest ok perplexity row per (model, dtype), failed runs and the environment.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { PerplexityRow } from "../results/schema.ts";
import {
  analyzeBlocks,
  contextDrift,
  type DriftWarning,
  type ModelShape,
  type PlacedBlock,
} from "../analysis/mod.ts";
import { readPerplexityCsv, readResultsCsv } from "./results_table.ts";
import { loadModelShapes } from "./model_shapes.ts";
import { summarizeRows, summaryFrame, type SummaryInput, type SummaryRow } from "./summary.ts";

/** Failed runs, excluded from every statistic but counted. */
export interface Failures {
  /** Rows with status `error`. */
  runs: number;
  /** Distinct cells with at least one failed run. */
  cells: number;
  /** Failed runs per reason, most frequent first. */
  reasons: { reason: string; runs: number; cells: number }[];
}

/** Provenance of the measurements: each distinct value of the CSV's provenance columns. */
export interface Environment {
  /** Git commits. */
  git_commit: string[];
  /** Deno versions. */
  deno_version: string[];
  /** onnxruntime-node versions. */
  ort_version: string[];
  /** transformers.js versions. */
  transformers_version: string[];
  /** CPU / GPU names. */
  device_name: string[];
  /** Execution providers that actually ran. */
  execution_provider: string[];
  /** Earliest and latest run start (RFC 3339), or null without rows. */
  first_run: string | null;
  /** Latest run start. */
  last_run: string | null;
}

/** A (model, dtype) whose perplexity was skipped or failed and never measured ok. */
export interface PerplexityIssue {
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** `skipped` or `error`. */
  status: string;
  /** The reason from the CSV. */
  reason: string;
}

/** The tables every figure and report is a function of. */
export interface ReportData {
  /** One row per benchmark cell (ok runs only). */
  summary: SummaryRow[];
  /** The summary as a polars frame (what `summary.csv` holds). */
  summaryFrame: pl.DataFrame;
  /** Latest ok perplexity row per (model, dtype) with a PPL. */
  perplexity: PerplexityRow[];
  /** Perplexity rows skipped or failed, for (model, dtype) pairs with no ok row. */
  perplexityIssues: PerplexityIssue[];
  /** Failed runs. */
  failures: Failures;
  /** Provenance. */
  environment: Environment;
  /** Every ok run, the A/A control's included: what comparisons and blocks are computed from. */
  runs: SummaryInput[];
  /** Every block's verdicts and A/A ratio (lib/analysis). */
  blocks: PlacedBlock[];
  /** Arms that decoded faster at a longer context (lib/analysis/drift.ts). */
  drift: DriftWarning[];
  /** Shapes of the models whose configuration could be read, by model reference. */
  models: Record<string, ModelShape>;
}

/**
 * Derives the report tables from typed frames (see `parseResultsCsv`).
 *
 * @param results The results frame.
 * @param perplexity The perplexity frame, or null when none was measured.
 * @param models Shapes of the models whose configuration was read (weight and KV bytes).
 * @returns The report tables.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * assert(data.summary.length === 0 && data.perplexity.length === 0);
 * ```
 */
export function reportData(
  results: pl.DataFrame,
  perplexity: pl.DataFrame | null,
  models: Record<string, ModelShape> = {},
): ReportData {
  const runs = (results.toRecords() as unknown as SummaryInput[]).filter((r) => r.status === "ok");
  const summary = summarizeRows(runs.filter((r) => (r.replica ?? 0) === 0));
  const ok = perplexity === null ? [] : latestPerplexity(perplexity);
  return {
    summary,
    summaryFrame: summaryFrame(summary),
    runs,
    blocks: analyzeBlocks(runs),
    drift: contextDrift(summary.map((c) => ({
      ...c,
      decode_tokens_per_s: c.decode_tokens_per_s_pooled,
      ci95: c.decode_tokens_per_s_ci95_low === null || c.decode_tokens_per_s_ci95_high === null
        ? null
        : [c.decode_tokens_per_s_ci95_low, c.decode_tokens_per_s_ci95_high],
    }))),
    models,
    perplexity: ok,
    perplexityIssues: perplexity === null ? [] : perplexityIssues(perplexity, ok),
    failures: failures(results),
    environment: environment(results),
  };
}

/**
 * Reads the CSVs and derives the report tables.
 *
 * @param paths `resultsCsv` (required), `perplexityCsv` (null or absent: none measured) and
 * `modelsRoot` (where relative model directories are found; default the working directory).
 * @returns The report tables.
 * @example
 * ```ts ignore
 * import { loadReportData } from "./report_data.ts";
 * const data = await loadReportData({ resultsCsv: "benchmarks/results.csv" });
 * ```
 */
export async function loadReportData(
  paths: { resultsCsv: string; perplexityCsv?: string | null; modelsRoot?: string },
): Promise<ReportData> {
  const results = await readResultsCsv(paths.resultsCsv);
  const perplexity = paths.perplexityCsv ? await readPerplexityCsv(paths.perplexityCsv) : null;
  const models = results.height === 0
    ? []
    : results.getColumn("model").unique().toArray() as string[];
  return reportData(results, perplexity, await loadModelShapes(models, paths.modelsRoot));
}

function latestPerplexity(df: pl.DataFrame): PerplexityRow[] {
  return df
    .filter(pl.col("status").eq(pl.lit("ok")).and(pl.col("ppl").isNotNull()))
    .sort("timestamp")
    .unique({ subset: ["model", "dtype"], keep: "last", maintainOrder: true })
    .toRecords() as unknown as PerplexityRow[];
}

function perplexityIssues(df: pl.DataFrame, ok: readonly PerplexityRow[]): PerplexityIssue[] {
  const measured = new Set(ok.map((r) => `${r.model}\u0000${r.dtype}`));
  return (df
    .filter(pl.col("status").neq(pl.lit("ok")).or(pl.col("ppl").isNull()))
    .sort("timestamp")
    .unique({ subset: ["model", "dtype"], keep: "last", maintainOrder: true })
    .toRecords() as unknown as PerplexityRow[])
    .filter((r) => !measured.has(`${r.model}\u0000${r.dtype}`))
    .map((r) => ({ model: r.model, dtype: r.dtype, status: r.status, reason: r.error }));
}

function failures(results: pl.DataFrame): Failures {
  const failed = results.filter(pl.col("status").neq(pl.lit("ok")));
  const reasons = failed.height === 0 ? [] : failed
    .withColumns(
      pl.when(pl.col("error").eq(pl.lit(""))).then(pl.lit("(no reason given)"))
        .otherwise(pl.col("error")).alias("error"),
    )
    .groupBy("error")
    .agg(pl.len().alias("runs"), pl.col("cell_id").nUnique().alias("cells"))
    .sort(["runs", "error"], [true, false])
    .toRecords()
    .map((r) => ({ reason: String(r.error), runs: Number(r.runs), cells: Number(r.cells) }));
  return {
    runs: failed.height,
    cells: failed.height === 0 ? 0 : failed.getColumn("cell_id").nUnique(),
    reasons,
  };
}

function environment(results: pl.DataFrame): Environment {
  const values = (field: string): string[] =>
    results.height === 0 ? [] : (results.select(pl.col(field).unique().sort())
      .getColumn(field).toArray() as string[]).filter((v) => v !== "");
  const times = values("timestamp");
  return {
    git_commit: values("git_commit"),
    deno_version: values("deno_version"),
    ort_version: values("ort_version"),
    transformers_version: values("transformers_version"),
    device_name: values("device_name"),
    execution_provider: values("execution_provider"),
    first_run: times[0] ?? null,
    last_run: times.at(-1) ?? null,
  };
}
