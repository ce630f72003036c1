/**
 * The roofline view of decoding: effective read bandwidth of a decode step (the bytes it must
 * read — weights as stored plus the KV cache — ÷ its time) against context length, per dtype,
 * with the machine's measured read bandwidth drawn as the bound. A memory-bound decode sits near
 * the line; a curve far below it is limited by something else (per-operator dispatch, copies,
 * compute), which more bandwidth would not help. The bound is recovered from each cell's own
 * `effective_gb_s / bandwidth_fraction` (the probe's figure that sweep recorded).
 *
 * @module
 */
import { cellData, contextX, dtypeColor, emptyFigure, manySetups, title, wrap } from "./_figure.ts";
import { compareDtypes, displayLabel } from "./_util.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";
import type { SummaryRow } from "./summary.ts";

const HEADING = "Decode against the memory bound";

/** The bound (GB/s) the cells' fractions imply: the median of effective ÷ fraction. */
export function impliedBoundGbS(summary: readonly SummaryRow[]): number | null {
  const bounds = summary
    .filter((r) => (r.effective_gb_s_mean ?? 0) > 0 && (r.bandwidth_fraction_mean ?? 0) > 0)
    .map((r) => r.effective_gb_s_mean! / r.bandwidth_fraction_mean!)
    .sort((a, b) => a - b);
  if (bounds.length === 0) return null;
  const mid = Math.floor(bounds.length / 2);
  return bounds.length % 2 === 1 ? bounds[mid]! : (bounds[mid - 1]! + bounds[mid]!) / 2;
}

/**
 * Why the roofline figure is not drawn: results without the roofline columns (written before
 * they existed, or every cell failed), else null.
 *
 * @param data Report tables.
 * @returns The reason, or null to draw the figure.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rooflineSkipReason } from "./roofline.ts";
 * import type { ReportData } from "./report_data.ts";
 * assert(rooflineSkipReason({ summary: [] } as unknown as ReportData) !== null);
 * ```
 */
export function rooflineSkipReason(data: ReportData): string | null {
  return data.summary.some((r) => r.use_cache && (r.effective_gb_s_mean ?? 0) > 0)
    ? null
    : "no decode cell with bytes_per_token / effective_gb_s (results older than those columns)";
}

/**
 * Vega-Lite spec of effective GB/s vs context, KV cache on, the measured bound as a rule
 * (`figures/roofline`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline (an empty figure when no row has the roofline columns).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData } from "./mod.ts";
 * import { rooflineSpec } from "./roofline.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = rooflineSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no decode cell"));
 * ```
 */
export function rooflineSpec(data: ReportData): VegaLiteSpec {
  const cached = data.summary.filter((r) => r.use_cache);
  const values = cellData(cached, ["effective_gb_s_mean", "bytes_per_token_mean"])
    .filter((v) => typeof v.effective_gb_s_mean === "number" && v.effective_gb_s_mean > 0);
  if (values.length === 0) {
    return emptyFigure(HEADING, "no decode cell with bytes per token (older results?)");
  }
  const bound = impliedBoundGbS(cached);
  const subtitle = bound === null
    ? "effective GB/s = bytes a decode step must read ÷ its time; no bandwidth probe recorded"
    : `effective GB/s = bytes a decode step must read (weights as stored + KV cache) ÷ its ` +
      `time; dashed: the machine's measured read bandwidth, ${bound.toFixed(2)} GB/s`;
  const line = {
    mark: { type: "line", point: true },
    encoding: {
      x: contextX(values.map((v) => v.context_tokens)),
      y: {
        field: "effective_gb_s_mean",
        type: "quantitative",
        title: "effective read bandwidth, GB/s",
        scale: { zero: true },
      },
      color: dtypeColor(values.map((v) => v.dtype)),
      tooltip: [
        { field: "dtype_label", title: "dtype" },
        { field: "context_tokens", title: "context" },
        { field: "effective_gb_s_mean", title: "GB/s", format: ".2f" },
        { field: "bytes_per_token_mean", title: "bytes per step", format: ",.0f" },
      ],
    },
  };
  const layers: Record<string, unknown>[] = [line];
  if (bound !== null) {
    layers.push({
      data: { values: [{ bound }] },
      mark: { type: "rule", strokeDash: [6, 4], color: "#444" },
      encoding: { y: { field: "bound", type: "quantitative" } },
    });
  }
  return wrap(
    { layer: layers },
    {
      values,
      title: title(HEADING, subtitle),
      ...(manySetups(values) ? { column: { field: "setup", title: null } } : {}),
    },
  );
}

/**
 * One line per (model, dtype) for report.md: bytes a decode step reads and how close to the bound
 * it ran, at the smallest and largest context measured with the cache on (smallest batch).
 *
 * @param summary Summary rows.
 * @returns Lines (empty when no row has the roofline columns).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rooflineLines } from "./roofline.ts";
 * assert.deepEqual(rooflineLines([]), []);
 * ```
 */
export function rooflineLines(summary: readonly SummaryRow[]): string[] {
  const cells = summary.filter((r) =>
    r.use_cache && (r.effective_gb_s_mean ?? 0) > 0 && (r.bytes_per_token_mean ?? 0) > 0
  );
  if (cells.length === 0) return [];
  const minBatch = Math.min(...cells.map((r) => r.batch));
  const groups = Map.groupBy(
    cells.filter((r) => r.batch === minBatch),
    (r) => `${r.model}\u0000${r.dtype}\u0000${r.device}`,
  );
  const many = new Set(cells.map((r) => r.model)).size > 1;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
  const at = (r: SummaryRow) =>
    `${r.context_tokens} tokens: ${mb(r.bytes_per_token_mean!)} per step at ${
      r.effective_gb_s_mean!.toFixed(2)
    } GB/s${
      r.bandwidth_fraction_mean == null
        ? ""
        : ` (${(100 * r.bandwidth_fraction_mean).toFixed(0)} % of the bound)`
    }`;
  return [...groups.values()]
    .sort((a, b) => compareDtypes(a[0]!.dtype, b[0]!.dtype))
    .map((rows) => {
      const sorted = rows.toSorted((a, b) => a.context_tokens - b.context_tokens);
      const first = sorted[0]!, last = sorted[sorted.length - 1]!;
      const label = `${many ? `\`${first.model}\` ` : ""}${displayLabel(first.dtype)}`;
      return `${label}: ${at(first)}${last === first ? "" : `; ${at(last)}`}`;
    });
}
