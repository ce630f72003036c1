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

/** Per-mime display metadata, e.g. `{"image/png": {width: 589, height: 362}}`. */
export type DisplayMetadata = Record<string, Record<string, unknown>>;

/** A displayable that also carries metadata (the kernel's last-expression path drops it). */
export interface RichDisplayable extends Displayable {
  /** Metadata to send with the bundle (`display_data`'s `metadata`). */
  metadata: DisplayMetadata;
}

/** What a Jupyter `display_data` message carries. */
export interface DisplayContent {
  /** The mime bundle. */
  data: MimeBundle;
  /** Per-mime metadata (`{}` when the displayable has none). */
  metadata: DisplayMetadata;
}

/**
 * The `display_data` content of a displayable: its bundle and, for a
 * {@linkcode RichDisplayable}, its metadata.
 *
 * @param display Anything with `[Symbol.for("Jupyter.display")]`.
 * @returns `{ data, metadata }`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayContent, JUPYTER_DISPLAY } from "./display.ts";
 * const c = displayContent({ [JUPYTER_DISPLAY]: () => ({ "text/plain": "x" }) });
 * assert.deepEqual(c, { data: { "text/plain": "x" }, metadata: {} });
 * ```
 */
export function displayContent(display: Displayable): DisplayContent {
  const metadata = (display as Partial<RichDisplayable>).metadata ?? {};
  return { data: display[JUPYTER_DISPLAY](), metadata };
}

/** Options of {@linkcode chartDisplay}. */
export interface ChartDisplayOptions {
  /** Widest a chart may be, CSS pixels (a notebook output column). @default 900 */
  maxWidth?: number;
}

/**
 * Width and height of a rendered SVG, from its root element (0 × 0 when absent).
 *
 * @param svg An SVG document.
 * @returns The size in CSS pixels.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { svgSize } from "./display.ts";
 * assert.deepEqual(svgSize('<svg class="marks" width="589" height="362">'), { width: 589, height: 362 });
 * ```
 */
export function svgSize(svg: string): { width: number; height: number } {
  const m = svg.match(/<svg[^>]*?\swidth="([\d.]+)"[^>]*?\sheight="([\d.]+)"/);
  return { width: Number(m?.[1] ?? 0), height: Number(m?.[2] ?? 0) };
}

/**
 * A chart sized for a notebook column: a faceted (multi-panel) spec gets its legends below the
 * panels and, when still wider than `maxWidth`, narrower panels; a single view keeps its design
 * size. Returns the display spec and its rendering.
 *
 * @param spec A Vega-Lite v5 spec with inline data.
 * @param maxWidth Widest allowed, CSS pixels.
 * @returns The fitted spec, its SVG and PNG (scale 2) and its size in CSS pixels.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitChart } from "./display.ts";
 * const chart = await fitChart({
 *   data: { values: [{ x: 1, y: 2 }] },
 *   mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * assert(chart.width > 0 && chart.width <= 900 && chart.svg.startsWith("<svg"));
 * ```
 */
export async function fitChart(spec: VegaLiteSpec, maxWidth = 900): Promise<
  { spec: VegaLiteSpec; svg: string; png: Uint8Array; width: number; height: number }
> {
  const s = spec as unknown as Record<string, unknown>;
  let fitted = spec;
  let rendered = await renderSpec(fitted);
  let size = svgSize(rendered.svg);
  const inner = s.spec as Record<string, unknown> | undefined;
  const facet = s.facet as { column?: { field?: string } } | undefined;
  if (facet && inner && size.width > maxWidth) {
    const config = (s.config ?? {}) as Record<string, unknown>;
    const legend = (config.legend ?? {}) as Record<string, unknown>;
    const withLegend = (panel: number) =>
      ({
        ...s,
        config: { ...config, legend: { ...legend, orient: "bottom", direction: "horizontal" } },
        spec: { ...inner, width: panel },
      }) as unknown as VegaLiteSpec;
    const values = (s.data as { values?: Record<string, unknown>[] })?.values ?? [];
    const field = facet.column?.field;
    const columns = field ? Math.max(1, new Set(values.map((v) => v[field])).size) : 1;
    let panel = typeof inner.width === "number" ? inner.width : 380;
    for (let i = 0; i < 3 && size.width > maxWidth; i++) {
      if (i > 0) panel = Math.max(120, panel - Math.ceil((size.width - maxWidth) / columns));
      fitted = withLegend(panel);
      rendered = await renderSpec(fitted);
      size = svgSize(rendered.svg);
    }
  }
  return { spec: fitted, ...rendered, ...size };
}

/**
 * Renders a chart and wraps it for display: `application/vnd.vegalite.v5+json` (interactive in
 * JupyterLab), `image/svg+xml` and `image/png` (base64) fallbacks, and metadata giving both
 * images their design size in CSS pixels (the PNG is rendered at scale 2), so no viewer stretches
 * or shrinks them by guesswork. Charts wider than `maxWidth` are fitted first
 * ({@linkcode fitChart}); a single view's Vega-Lite spec uses `autosize: fit` at that size.
 *
 * @param spec A Vega-Lite v5 spec with inline data.
 * @param options Widest allowed width.
 * @returns A displayable with metadata (show it with `Deno.jupyter.broadcast("display_data",
 * displayContent(d))` to keep the metadata; as a cell's last expression the metadata is dropped).
 * @example
 * ```ts ignore
 * import { chartDisplay, tokensPerSVsLengthSpec } from "../lib/mod.ts";
 * await chartDisplay(tokensPerSVsLengthSpec(data));
 * ```
 */
export async function chartDisplay(
  spec: VegaLiteSpec,
  options: ChartDisplayOptions = {},
): Promise<RichDisplayable> {
  const fitted = await fitChart(spec, options.maxWidth ?? 900);
  const s = fitted.spec as unknown as Record<string, unknown>;
  const single = s.facet === undefined && s.concat === undefined && s.hconcat === undefined &&
    s.vconcat === undefined && s.repeat === undefined;
  const interactive = single && typeof s.width === "number"
    ? { ...s, width: fitted.width, height: fitted.height, autosize: FIT }
    : s;
  const size = { width: fitted.width, height: fitted.height };
  const bundle: MimeBundle = {
    "application/vnd.vegalite.v5+json": interactive,
    "image/svg+xml": fitted.svg,
    "image/png": Buffer.from(fitted.png).toString("base64"),
  };
  return {
    [JUPYTER_DISPLAY]: () => bundle,
    metadata: { "image/png": size, "image/svg+xml": size },
  };
}

/**
 * Vega-Lite autosize of interactive single views: the whole chart (axes, legend, title) fits its
 * design width × height, the same box as the SVG/PNG. (`width: "container"` renders 0 px wide in
 * JupyterLab 4.6's Vega renderer, so the container's width is not used.)
 */
const FIT = { type: "fit", contains: "padding" } as const;

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
