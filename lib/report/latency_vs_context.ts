/**
 * Figure: mean total latency (prefill + decode) against context length per dtype and cache mode.
 *
 * @module
 */
import { curvesByContext } from "./_figure.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

/**
 * Vega-Lite spec of total latency vs context (`benchmarks/latency_vs_context`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latencyVsContextSpec, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = latencyVsContextSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function latencyVsContextSpec(data: ReportData): VegaLiteSpec {
  return curvesByContext(data.summary, {
    heading: "Total latency by context length",
    // Cache-off cells may generate fewer tokens (max_new_tokens_no_cache): said, since their
    // totals then look faster at short contexts.
    subtitle: "prefill + decode of all the tokens a cell generates (solid: KV cache on, dashed: " +
      "off); cache-off cells may generate fewer, so short contexts can look faster without it",
    field: "total_ms_mean",
    spreadField: "total_ms_p95",
    tooltipTitles: ["mean ms", "p95 ms"],
    format: ".1f",
    yTitle: "total latency, ms (mean, log scale)",
    yScale: { nice: false, padding: 12 },
  });
}
