/**
 * Private test helper: report tables from the synthetic fixture. Never re-exported.
 *
 * @module
 */
import { type FixtureOptions, syntheticPerplexityCsv, syntheticResultsCsv } from "./_fixture.ts";
import { type ReportData, reportData } from "./report_data.ts";
import { parsePerplexityCsv, parseResultsCsv } from "./results_table.ts";

/** Report tables of the synthetic grid; `perplexity: false` leaves perplexity out. */
export function testData(
  options: FixtureOptions & { perplexity?: boolean; q4Delta?: number } = {},
): ReportData {
  const { perplexity = true, q4Delta, ...grid } = options;
  return reportData(
    parseResultsCsv(syntheticResultsCsv(grid)),
    perplexity ? parsePerplexityCsv(syntheticPerplexityCsv(grid.models, q4Delta)) : null,
  );
}
