/**
 * Figure: mean total latency (prefill + decode) against context length per dtype and cache mode.
 *
 * @module
 */
import {
  cellData,
  contextX,
  dtypeColor,
  emptyFigure,
  LEGEND_PICK,
  manySetups,
  PICK_OPACITY,
  title,
  wrap,
} from "./_figure.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

/**
 * Vega-Lite spec of total latency vs context (`benchmarks/latency_vs_context`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import { latencyVsContextSpec, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = latencyVsContextSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * console.assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function latencyVsContextSpec(data: ReportData): VegaLiteSpec {
  const heading = "Total latency by context length";
  const values = cellData(data.summary, ["total_ms_mean", "total_ms_p95"])
    .filter((v) => typeof v.total_ms_mean === "number" && v.total_ms_mean > 0);
  if (values.length === 0) return emptyFigure(heading, "no benchmark runs");
  return wrap(
    {
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          params: LEGEND_PICK,
          encoding: {
            strokeDash: {
              field: "cache",
              type: "nominal",
              title: "KV cache",
              sort: ["KV cache on", "KV cache off"],
              legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 500 },
            },
          },
        },
        { mark: { type: "point", filled: true, size: 45 } },
      ],
      encoding: {
        x: contextX(values.map((v) => v.context_tokens)),
        y: {
          field: "total_ms_mean",
          type: "quantitative",
          title: "total latency, ms (mean, log scale)",
          scale: { type: "log" },
        },
        color: dtypeColor(values.map((v) => v.dtype)),
        opacity: PICK_OPACITY,
        tooltip: [
          { field: "dtype_label", title: "dtype" },
          { field: "cache" },
          { field: "context_tokens", title: "context" },
          { field: "total_ms_mean", title: "mean ms", format: ".1f" },
          { field: "total_ms_p95", title: "p95 ms", format: ".1f" },
        ],
      },
    },
    {
      values,
      title: title(
        heading,
        "prefill + decode of every generated token; solid: KV cache on, dashed: off",
      ),
      ...(manySetups(values) ? { column: { field: "setup", title: null } } : {}),
    },
  );
}
