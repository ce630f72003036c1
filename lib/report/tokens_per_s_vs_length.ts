/**
 * Figure: mean decode tokens/s against context length, a curve per dtype, cache on solid and off
 * dashed.
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
 * Vega-Lite spec of decode tokens/s vs context (`figures/tokens_per_s_vs_length`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import { parseResultsCsv, reportData, tokensPerSVsLengthSpec } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = tokensPerSVsLengthSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * console.assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function tokensPerSVsLengthSpec(data: ReportData): VegaLiteSpec {
  const heading = "Decode throughput by context length";
  const values = cellData(data.summary, ["decode_tokens_per_s_mean", "decode_tokens_per_s_ci95"])
    .filter((v) =>
      typeof v.decode_tokens_per_s_mean === "number" && v.decode_tokens_per_s_mean > 0
    );
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
          field: "decode_tokens_per_s_mean",
          type: "quantitative",
          title: "decode tokens/s (mean, log scale)",
          scale: { type: "log" },
        },
        color: dtypeColor(values.map((v) => v.dtype)),
        opacity: PICK_OPACITY,
        tooltip: [
          { field: "dtype_label", title: "dtype" },
          { field: "cache" },
          { field: "context_tokens", title: "context" },
          { field: "decode_tokens_per_s_mean", title: "tokens/s", format: ".2f" },
          { field: "decode_tokens_per_s_ci95", title: "± CI95", format: ".2f" },
        ],
      },
    },
    {
      values,
      title: title(heading, "a curve per dtype; solid: KV cache on, dashed: off"),
      ...(manySetups(values) ? { column: { field: "setup", title: null } } : {}),
    },
  );
}
