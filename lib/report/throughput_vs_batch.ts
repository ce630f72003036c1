/**
 * Figure: decode throughput against batch size, total (all sequences) and per sequence side by
 * side, a curve per dtype (KV cache off dashed), a row per context when several. Drawn only when
 * the results hold more than one batch size ({@linkcode throughputVsBatchSkipReason}).
 *
 * @module
 */
import {
  cacheLabel,
  dtypeColor,
  emptyFigure,
  LEGEND_PICK,
  PICK_OPACITY,
  title,
  wrap,
} from "./_figure.ts";
import { displayLabel, setupsOf } from "./_util.ts";
import { batchScaling } from "./batch_scaling.ts";
import type { ReportData } from "./report_data.ts";
import type { VegaLiteSpec } from "./render.ts";

const HEADING = "Decode throughput by batch size";
const TOTAL = "total (all sequences)";
const PER_SEQ = "per sequence";

/**
 * Why `figures/throughput_vs_batch` is not drawn, or null when it is.
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The reason (one batch size only), or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData, throughputVsBatchSkipReason } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * assert.match(throughputVsBatchSkipReason(data)!, /one batch size/);
 * ```
 */
export function throughputVsBatchSkipReason(data: ReportData): string | null {
  const batches = new Set(data.summary.map((r) => r.batch));
  return batches.size > 1 ? null : `the results hold at most one batch size (${[...batches]})`;
}

/**
 * Vega-Lite spec of decode tokens/s against batch size (`figures/throughput_vs_batch`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline (an empty figure saying why without several batch sizes).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, reportData, throughputVsBatchSpec } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = throughputVsBatchSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("one batch size"));
 * ```
 */
export function throughputVsBatchSpec(data: ReportData): VegaLiteSpec {
  const skip = throughputVsBatchSkipReason(data);
  if (skip !== null) return emptyFigure(HEADING, skip);
  const setups = setupsOf(data.summary);
  const values = setups.flatMap((setup) =>
    batchScaling(
      data.summary.filter((r) => r.model === setup.model && r.device === setup.device),
    ).flatMap((e) =>
      e.points.flatMap((p) =>
        [[TOTAL, p.decode_tokens_per_s], [PER_SEQ, p.decode_tokens_per_s_per_seq]]
          .filter(([, v]) => typeof v === "number" && v > 0)
          .map(([measure, v]) => ({
            setup: setup.key,
            dtype: e.dtype,
            dtype_label: displayLabel(e.dtype),
            cache: cacheLabel(e.use_cache),
            context: `context ${e.context_tokens}${setups.length > 1 ? ` · ${setup.key}` : ""}`,
            batch: p.batch,
            measure,
            tokens_per_s: v as number,
          }))
      )
    )
  );
  if (values.length === 0) return emptyFigure(HEADING, "no decode throughput at several batches");
  const batches = [...new Set(values.map((v) => v.batch))].sort((a, b) => a - b);
  const rows = new Set(values.map((v) => v.context)).size > 1;
  const spec = wrap(
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
            },
          },
        },
        { mark: { type: "point", filled: true, size: 45 } },
      ],
      encoding: {
        x: {
          field: "batch",
          type: "quantitative",
          title: "batch size (sequences, log scale)",
          scale: { type: "log", base: 2, nice: false, padding: 12 },
          axis: { values: batches, format: "d", grid: true },
        },
        y: {
          field: "tokens_per_s",
          type: "quantitative",
          title: "decode tokens/s (mean of runs)",
          scale: { zero: true },
        },
        color: dtypeColor(values.map((v) => v.dtype)),
        opacity: PICK_OPACITY,
        tooltip: [
          { field: "dtype_label", title: "dtype" },
          { field: "cache" },
          { field: "context" },
          { field: "batch" },
          { field: "measure" },
          { field: "tokens_per_s", title: "tokens/s", format: ".1f" },
        ],
      },
    },
    {
      values,
      title: title(
        HEADING,
        "left: tokens/s of the whole batch; right: of one sequence (total ÷ batch); equal-length " +
          "prompts, greedy decoding; a curve per dtype",
      ),
      column: { field: "measure", title: null, sort: [TOTAL, PER_SEQ] },
      ...(rows ? { row: { field: "context", title: null } } : {}),
    },
  );
  // Per-sequence rates are a fraction of the totals: each panel gets its own y scale.
  return {
    ...spec,
    resolve: { axis: { x: "independent", y: "independent" }, scale: { y: "independent" } },
  };
}
