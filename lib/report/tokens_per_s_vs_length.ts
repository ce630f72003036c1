/**
 * Figure: pooled decode tokens/s against context length, a curve per dtype, cache on solid and off
 * dashed.
 *
 * @module
 */
import { curvesByContext } from "./_figure.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

/**
 * Vega-Lite spec of decode tokens/s vs context (`figures/tokens_per_s_vs_length`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData, tokensPerSVsLengthSpec } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = tokensPerSVsLengthSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function tokensPerSVsLengthSpec(data: ReportData): VegaLiteSpec {
  return curvesByContext(data.summary, {
    heading: "Decode throughput by context length",
    subtitle: "a curve per dtype; solid: KV cache on, dashed: off",
    field: "decode_tokens_per_s_pooled",
    spreadField: "decode_tokens_per_s_ci95_low",
    tooltipTitles: ["tokens/s", "CI95 low"],
    moreTooltip: [{ field: "decode_tokens_per_s_ci95_high", title: "CI95 high" }],
    format: ".2f",
    yTitle: "decode tokens/s (pooled, log scale)",
    // A "nice" log domain rounds up to the next power of ten: an empty top third.
    yScale: { nice: false, padding: 12 },
  });
}
