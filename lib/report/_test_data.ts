/**
 * Private test helper: report tables from the synthetic fixture. Never re-exported.
 *
 * @module
 */
import { type FixtureOptions, syntheticPerplexity, syntheticResultsCsv } from "./_fixture.ts";
import { toFrame } from "../results/table.ts";
import { type ReportData, reportData } from "./report_data.ts";
import { parsePerplexityCsv, parseResultsCsv } from "./results_table.ts";

/** Reason of the skipped perplexity rows `testData({ perplexity: "skipped" })` makes. */
export const SKIP_REASON = "no WikiText-2 text";

/**
 * Report tables of the synthetic grid; `perplexity: false` leaves perplexity out, `"skipped"`
 * writes every perplexity row as skipped.
 */
export function testData(
  options: FixtureOptions & {
    perplexity?: boolean | "skipped";
    q4Delta?: number;
    /** Weights recorded in every perplexity row (the bench rows leave it empty). */
    weights?: string;
  } = {},
): ReportData {
  const { perplexity = true, q4Delta, weights, ...grid } = options;
  const rows = syntheticPerplexity(grid.models, q4Delta).map((r) => ({
    ...(perplexity === "skipped"
      ? { ...r, status: "skipped" as const, error: SKIP_REASON, ppl: null, delta_ppl_pct: null }
      : r),
    ...(weights === undefined ? {} : { weights }),
  }));
  return reportData(
    parseResultsCsv(syntheticResultsCsv(grid)),
    perplexity === false
      ? null
      : parsePerplexityCsv(toFrame("perplexity", rows).writeCSV().toString()),
  );
}
