/**
 * Figure: prefill latency and per-token decode latency against context length (log scales), per
 * dtype, one panel per cache mode — with the cache the decode line stays flat.
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

/** What each curve is: a run's prefill, and a run's median decode step, both averaged over runs. */
const PHASES = ["prefill (ms)", "decode (median ms / token)"];

/**
 * Vega-Lite spec of prefill ms and decode ms/token vs context (`figures/prefill_vs_decode`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, prefillVsDecodeSpec, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = prefillVsDecodeSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function prefillVsDecodeSpec(data: ReportData): VegaLiteSpec {
  const heading = "Prefill vs decode latency by context length";
  const cells = cellData(data.summary, ["prefill_ms_mean", "token_p50_ms_mean"]);
  const values = cells.flatMap((c) => [
    { ...c, phase: PHASES[0], ms: c.prefill_ms_mean },
    { ...c, phase: PHASES[1], ms: c.token_p50_ms_mean },
  ]).filter((v) => typeof v.ms === "number" && v.ms > 0);
  if (values.length === 0) return emptyFigure(heading, "no benchmark runs");
  const encoding = {
    x: contextX(values.map((v) => v.context_tokens)),
    y: {
      field: "ms",
      type: "quantitative",
      title: "milliseconds (mean of the runs, log scale)",
      scale: { type: "log" },
    },
    color: dtypeColor(values.map((v) => v.dtype)),
    opacity: PICK_OPACITY,
    tooltip: [
      { field: "dtype_label", title: "dtype" },
      { field: "cache" },
      { field: "context_tokens", title: "context" },
      { field: "phase" },
      { field: "ms", format: ".2f" },
    ],
  };
  return wrap(
    {
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          params: LEGEND_PICK,
          encoding: {
            strokeDash: {
              field: "phase",
              type: "nominal",
              title: "phase",
              sort: PHASES,
              legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolSize: 500 },
            },
          },
        },
        {
          mark: { type: "point", filled: true, size: 45 },
          encoding: { shape: { field: "phase", type: "nominal", sort: PHASES, legend: null } },
        },
      ],
      encoding,
    },
    {
      values,
      title: title(
        heading,
        "solid: prefill (prompt → first token); dashed: decode per token (each run's median " +
          "step); both the mean of the runs",
      ),
      column: { field: "cache", title: null, sort: ["KV cache on", "KV cache off"] },
      ...(manySetups(values) ? { row: { field: "setup", title: null } } : {}),
    },
  );
}
