/**
 * Figure: the coloured comparison table of dtypes (rect + text layers), each column coloured by
 * how good its value is within its setup (green best, red worst).
 *
 * @module
 */
import { CONFIG, emptyFigure, SCHEMA, title } from "./_figure.ts";
import { fmt } from "./_util.ts";
import { scoreColor } from "./_table_html.ts";
import { comparisonTable } from "./comparison_table.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

/**
 * Vega-Lite spec of the comparison table (`benchmarks/summary_table`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData, summaryTableSpec } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = summaryTableSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no benchmark runs"));
 * ```
 */
export function summaryTableSpec(data: ReportData): VegaLiteSpec {
  const heading = "Comparison of dtypes";
  const table = comparisonTable(data);
  if (table.rows.length === 0) return emptyFigure(heading, "no benchmark runs");
  const values = table.rows.flatMap((row) =>
    table.columns.map((column) => ({
      setup: row.setup,
      row: row.label,
      column: column.title,
      text: fmt(row[column.key], column.digits),
      fill: scoreColor(row.scores[column.key]),
    }))
  );
  const columns = table.columns.map((c) => c.title);
  const y = { field: "row", type: "nominal", sort: null, title: null };
  const x = { field: "column", type: "nominal", sort: columns, title: null };
  const inner = {
    width: { step: 150 },
    height: { step: 34 },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 2 },
        encoding: {
          x: {
            ...x,
            axis: {
              orient: "top",
              labelAngle: 0,
              labelFontWeight: "bold",
              labelLimit: 148,
              domain: false,
              ticks: false,
            },
          },
          y: {
            ...y,
            axis: { labelFontWeight: "bold", domain: false, ticks: false, labelPadding: 8 },
          },
          color: { field: "fill", type: "nominal", scale: null },
        },
      },
      {
        mark: { type: "text", fontSize: 13, color: "#111" },
        encoding: { x, y, text: { field: "text" } },
      },
    ],
  };
  const top = {
    $schema: SCHEMA,
    title: title(
      heading,
      "colour per column: green = best of the model's dtypes, red = worst; grey = not measured",
    ),
    data: { values },
    config: { ...CONFIG, view: { stroke: null } },
  };
  if (!table.manySetups) return { ...top, ...inner } as unknown as VegaLiteSpec;
  const setups = [...new Set(table.rows.map((r) => r.setup))];
  return {
    ...top,
    vconcat: setups.map((setup) => ({
      title: { text: setup, fontSize: 13, anchor: "start", subtitle: "" },
      transform: [{ filter: { field: "setup", equal: setup } }],
      ...inner,
    })),
    spacing: 24,
  } as unknown as VegaLiteSpec;
}
