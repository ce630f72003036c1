/**
 * The telemetry figure: CPU and GPU utilisation (top) and memory (bottom) over a run's time, with
 * a rule where each cell or job starts. Built from the telemetry table alone.
 *
 * @module
 */
import type { TelemetryRow } from "../results/telemetry_table.ts";
import { CONFIG, emptyFigure, PANEL, SCHEMA, title } from "./_figure.ts";
import type { VegaLiteSpec } from "./render.ts";

const GB = 1e9;

/** The series the figure draws, by panel: [column, label]. */
const UTILISATION = [
  ["process_cpu_pct", "process CPU (% of one core)"],
  ["system_cpu_pct", "system CPU (% of all cores)"],
  ["gpu_util_pct", "GPU utilisation (%)"],
] as const;
const MEMORY = [
  ["rss_bytes", "process RSS"],
  ["gpu_used_bytes", "GPU memory (device)"],
  ["gpu_process_used_bytes", "GPU memory (this process)"],
] as const;

/**
 * The Vega-Lite spec of a run's telemetry; series that no sample has are left out (and named in
 * the subtitle), never drawn as zeros.
 *
 * @param rows Telemetry rows in time order.
 * @param heading Figure title. @default "Hardware telemetry during the run"
 * @returns The spec.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { telemetryFigure } from "./telemetry_figure.ts";
 * const spec = telemetryFigure([]) as { title: { text: string } };
 * assert(spec.title.text.includes("no telemetry"));
 * ```
 */
export function telemetryFigure(
  rows: readonly TelemetryRow[],
  heading = "Hardware telemetry during the run",
): VegaLiteSpec {
  if (rows.length === 0) return emptyFigure(`${heading}: no telemetry`, "no samples recorded");
  const long = (
    spec: readonly (readonly [keyof TelemetryRow, string])[],
    scale: number,
  ) => {
    const out: { t_s: number; series: string; value: number; cell: string }[] = [];
    for (const [column, label] of spec) {
      for (const r of rows) {
        const v = r[column];
        if (typeof v === "number") {
          out.push({ t_s: r.t_ms / 1000, series: label, value: v / scale, cell: r.cell ?? "" });
        }
      }
    }
    return out;
  };
  const util = long(UTILISATION, 1);
  const memory = long(MEMORY, GB);
  const missing = [...UTILISATION, ...MEMORY].filter(([c]) =>
    rows.every((r) => typeof r[c] !== "number")
  ).map(([, label]) => label);
  const starts: { t_s: number; cell: string }[] = [];
  rows.forEach((r, i) => {
    if (r.cell !== null && r.cell !== rows[i - 1]?.cell) {
      starts.push({ t_s: r.t_ms / 1000, cell: r.cell });
    }
  });
  const x = { field: "t_s", type: "quantitative", title: "time since start (s)" };
  const panel = (
    values: typeof util,
    yTitle: string,
    yScale: Record<string, unknown>,
  ) => ({
    width: PANEL.width * 2,
    height: 200,
    layer: [
      {
        data: { values },
        mark: { type: "line", interpolate: "step-after", strokeWidth: 1.5 },
        encoding: {
          x,
          y: { field: "value", type: "quantitative", title: yTitle, scale: yScale },
          color: {
            field: "series",
            type: "nominal",
            title: null,
            legend: { orient: "top", columns: 3 },
          },
          tooltip: [{ field: "series" }, { field: "value", format: ".2f" }, { field: "cell" }],
        },
      },
      {
        data: { values: starts },
        mark: { type: "rule", color: "#999", strokeDash: [3, 3] },
        encoding: { x, tooltip: [{ field: "cell", title: "starts" }] },
      },
    ],
  });
  return {
    $schema: SCHEMA,
    title: title(
      heading,
      `dashed lines: a cell starts (${starts.length}); sampled every ~${
        rows.length > 1 ? Math.round((rows.at(-1)!.t_ms - rows[0]!.t_ms) / (rows.length - 1)) : 0
      } ms on a worker thread` +
        (missing.length > 0 ? `; not measured here: ${missing.join(", ")}` : ""),
    ),
    vconcat: [
      panel(util, "busy (%)", { domainMin: 0 }),
      panel(memory, "memory (GB)", { zero: true }),
    ],
    resolve: { scale: { color: "independent" } },
    config: CONFIG,
  } as unknown as VegaLiteSpec;
}
