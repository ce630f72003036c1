/**
 * The embedding figure: texts/s against batch size, one line per device × dtype (the ORT loop
 * solid, transformers.js's pipeline dashed), rendered by the report layer's shared Vega-Lite →
 * SVG → PNG step and written as `<stem>.vl.json`, `.svg`, `.png`.
 *
 * @module
 */
import {
  type BuiltFigure,
  FONT_FAMILY,
  renderSpec,
  type VegaLiteSpec,
  writeFigures,
} from "../report/mod.ts";
import type { EmbedRow } from "./schema.ts";

/** File stem of the figure, relative to the output directory. */
export const EMBED_FIGURE_STEM = "embeddings_texts_per_s_vs_batch";

/**
 * The Vega-Lite spec of texts/s vs batch size (log₂ x axis) from cell rows; error rows are left
 * out, and a grid with no ok row gives a spec that says so.
 *
 * @param rows Cell rows of one model and sequence length.
 * @returns A Vega-Lite v5 spec with the data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedThroughputSpec } from "./figure.ts";
 * const spec = embedThroughputSpec([]) as { title: { text: string } };
 * assert(spec.title.text.startsWith("Embedding throughput"));
 * ```
 */
export function embedThroughputSpec(rows: readonly EmbedRow[]): VegaLiteSpec {
  const ok = rows.filter((r) => r.status === "ok" && r.texts_per_s !== null);
  const models = [...new Set(rows.map((r) => r.model))].join(", ");
  const seqs = [...new Set(rows.map((r) => r.seq_len))].join(", ");
  const title = {
    text: "Embedding throughput vs batch size",
    subtitle: [
      `${models || "no rows"} · ${seqs || "?"} tokens per text`,
      "texts/s over the measured batches, tokenisation to normalised embeddings",
      "solid: this project's ORT loop · dashed: transformers.js feature-extraction pipeline",
    ],
  };
  const config = {
    font: FONT_FAMILY,
    background: "white",
    padding: 12,
    title: { fontSize: 15, anchor: "start", subtitleFontSize: 11, subtitleColor: "#555" },
    axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  };
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 420,
    height: 280,
    config,
  };
  if (ok.length === 0) {
    return {
      ...base,
      data: { values: [{ message: "no successful cell to plot" }] },
      mark: { type: "text", fontSize: 16, color: "#666" },
      encoding: { text: { field: "message", type: "nominal" } },
    } as unknown as VegaLiteSpec;
  }
  const values = ok.map((r) => ({
    series: `${r.device} · ${r.dtype}`,
    engine: r.engine,
    batch: r.batch,
    texts_per_s: r.texts_per_s,
    tokens_per_s: r.tokens_per_s,
    batch_p50_ms: r.batch_p50_ms,
  }));
  const batches = [...new Set(ok.map((r) => r.batch))].sort((a, b) => a - b);
  return {
    ...base,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "batch",
        type: "quantitative",
        title: "batch size (texts)",
        scale: { type: "log", base: 2, nice: false, padding: 12 },
        axis: { values: batches, format: "d" },
      },
      y: { field: "texts_per_s", type: "quantitative", title: "texts/s", scale: { zero: true } },
      color: { field: "series", type: "nominal", title: "device · dtype" },
      strokeDash: {
        field: "engine",
        type: "nominal",
        title: "engine",
        scale: { domain: ["ort", "transformers.js"], range: [[1, 0], [6, 4]] },
        legend: null,
      },
      tooltip: [
        { field: "series", title: "device · dtype" },
        { field: "engine" },
        { field: "batch" },
        { field: "texts_per_s", format: ".1f" },
        { field: "tokens_per_s", format: ".0f" },
        { field: "batch_p50_ms", title: "p50 ms/batch", format: ".1f" },
      ],
    },
  } as unknown as VegaLiteSpec;
}

/**
 * Renders the figure and writes its three files under `outDir`.
 *
 * @param rows Cell rows.
 * @param outDir Output directory.
 * @returns The paths written.
 * @example
 * ```ts ignore
 * import { writeEmbedFigure } from "./figure.ts";
 * await writeEmbedFigure(rows, "runs/embed");
 * ```
 */
export async function writeEmbedFigure(
  rows: readonly EmbedRow[],
  outDir: string,
): Promise<string[]> {
  const spec = embedThroughputSpec(rows);
  const figure: BuiltFigure = { stem: EMBED_FIGURE_STEM, spec, ...(await renderSpec(spec)) };
  return await writeFigures([figure], outDir);
}
