/**
 * Notebook display helpers: objects whose `[Symbol.for("Jupyter.display")]()` returns a mime
 * bundle, so Deno's Jupyter kernel shows them. Charts carry the Vega-Lite v5 spec (interactive)
 * plus SVG and PNG fallbacks; the comparison table carries coloured HTML and plain text. lib/ never
 * calls `Deno.jupyter` itself.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { tableCells, tableHtml, tableText } from "./_table_html.ts";
import type { ComparisonTable } from "./comparison_table.ts";
import { renderSpec, type VegaLiteSpec } from "./render.ts";

/** The symbol Deno's Jupyter kernel calls to get a mime bundle. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display") as never;

/** A mime bundle: mime type → content (text, JSON, or base64 for images). */
export type MimeBundle = Record<string, unknown>;

/** Something the Jupyter kernel can display. */
export interface Displayable {
  /** Returns the mime bundle. */
  [JUPYTER_DISPLAY](): MimeBundle;
}

/**
 * Renders a chart once and wraps it for display: `application/vnd.vegalite.v5+json`,
 * `image/svg+xml` and `image/png` (base64).
 *
 * @param spec A Vega-Lite v5 spec with inline data.
 * @returns A displayable object (pass it as a cell's last expression or to `Deno.jupyter.display`).
 * @example
 * ```ts ignore
 * import { chartDisplay, tokensPerSVsLengthSpec } from "../lib/mod.ts";
 * await chartDisplay(tokensPerSVsLengthSpec(data));
 * ```
 */
export async function chartDisplay(spec: VegaLiteSpec): Promise<Displayable> {
  const { svg, png } = await renderSpec(spec);
  const bundle: MimeBundle = {
    "application/vnd.vegalite.v5+json": spec,
    "image/svg+xml": svg,
    "image/png": Buffer.from(png).toString("base64"),
  };
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/**
 * Wraps the comparison table for display: `text/html` with coloured cells and `text/plain`.
 *
 * @param table From `comparisonTable`.
 * @returns A displayable object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, JUPYTER_DISPLAY, parseResultsCsv, reportData, tableDisplay } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const table = comparisonTable(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * const bundle = tableDisplay(table)[JUPYTER_DISPLAY]();
 * assert(typeof bundle["text/html"] === "string" && typeof bundle["text/plain"] === "string");
 * ```
 */
export function tableDisplay(table: ComparisonTable): Displayable {
  const bundle: MimeBundle = {
    "text/html": tableHtml(table),
    "text/plain": tableText(tableCells(table)),
  };
  return { [JUPYTER_DISPLAY]: () => bundle };
}
