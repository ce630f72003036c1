/**
 * Figure: peak memory by context length and dtype, one panel per cache mode — GPU memory (VRAM)
 * when the CSV has it, else the process's peak RSS, and the title says which.
 *
 * @module
 */
import { cellData, dtypeColor, emptyFigure, manySetups, title, wrap } from "./_figure.ts";
import { BYTES_PER_GB } from "./_util.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

/**
 * Vega-Lite spec of peak memory by length and dtype (`benchmarks/memory_footprint`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryFootprintSpec, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = memoryFootprintSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function memoryFootprintSpec(data: ReportData): VegaLiteSpec {
  const vram = data.summary.some((r) => r.peak_vram_bytes_max !== null);
  const field = vram ? "peak_vram_bytes_max" : "peak_rss_bytes_max";
  const heading = vram
    ? "Peak GPU memory (VRAM) by context length"
    : "Peak process memory (RSS; no GPU memory measured) by context length";
  const values = cellData(data.summary, [field])
    .filter((v) => typeof v[field] === "number")
    .map((v) => ({ ...v, memory_gb: Number(v[field]) / BYTES_PER_GB }));
  if (values.length === 0) return emptyFigure(heading, "no benchmark runs");
  const contexts = [...new Set(values.map((v) => v.context_tokens))].sort((a, b) => a - b);
  return wrap(
    {
      mark: { type: "bar" },
      encoding: {
        x: {
          field: "context_tokens",
          type: "ordinal",
          title: "context (prompt tokens)",
          sort: contexts,
          axis: { labelAngle: 0 },
        },
        xOffset: {
          field: "dtype_label",
          type: "nominal",
          sort: dtypeColor(values.map((v) => v.dtype)).scale.domain,
        },
        y: { field: "memory_gb", type: "quantitative", title: `peak ${vram ? "VRAM" : "RSS"}, GB` },
        color: dtypeColor(values.map((v) => v.dtype)),
        tooltip: [
          { field: "dtype_label", title: "dtype" },
          { field: "cache" },
          { field: "context_tokens", title: "context" },
          { field: "memory_gb", title: "GB", format: ".3f" },
        ],
      },
    },
    {
      values,
      title: title(
        heading,
        "peak over the measured runs of each cell, each cell in its own fresh worker (loaded " +
          "model included, warmups excluded); 1 GB = 10⁹ bytes",
      ),
      column: { field: "cache", title: null, sort: ["KV cache on", "KV cache off"] },
      ...(manySetups(values) ? { row: { field: "setup", title: null } } : {}),
    },
  );
}
