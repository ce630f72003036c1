/**
 * The one rendering step every figure shares: Vega-Lite spec → vega (headless, text measured with
 * DejaVu Sans's real advance widths) → SVG → PNG with resvg, using the same font.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import {
  DEJAVU_SANS_FILES,
  FONT_FAMILY,
  type FontMetrics,
  parseFontMetrics,
  readFontFile,
} from "./font_metrics.ts";

/** A Vega-Lite v5 spec (vega-lite 5.23.0's `TopLevelSpec`). */
export type VegaLiteSpec = TopLevelSpec;

/** A rendered figure. */
export interface RenderedFigure {
  /** The SVG document. */
  svg: string;
  /** The PNG file's bytes. */
  png: Uint8Array;
}

/** Options of {@linkcode renderSpec}. */
export interface RenderOptions {
  /** PNG pixels per SVG pixel. @default 2 */
  scale?: number;
}

let fonts: { regular: FontMetrics; bold: FontMetrics } | undefined;

/**
 * Makes vega measure text with DejaVu Sans (regular or bold) instead of its estimate; runs once.
 *
 * @returns Nothing; vega's global `textMetrics.width` is replaced.
 * @example
 * ```ts ignore
 * import { installTextMetrics } from "./render.ts";
 * installTextMetrics();
 * ```
 */
export function installTextMetrics(): void {
  if (fonts) return;
  fonts = {
    regular: parseFontMetrics(readFontFile(DEJAVU_SANS_FILES.regular)),
    bold: parseFontMetrics(readFontFile(DEJAVU_SANS_FILES.bold)),
  };
  const metrics = fonts;
  // vega's hook for text metrics (vega-scenegraph `textMetrics`, untyped in vega's .d.ts).
  const { textMetrics } = vega as unknown as {
    textMetrics: { width: (item: Record<string, unknown>, text: unknown) => number };
  };
  textMetrics.width = (item, text) => {
    const value = text === null || text === undefined ? "" : String(text).trim();
    const size = item.fontSize === null || item.fontSize === undefined
      ? 11
      : Number(item.fontSize) || 0;
    const weight = item.fontWeight;
    const bold = weight === "bold" || weight === "bolder" || Number(weight) >= 600;
    return (bold ? metrics.bold : metrics.regular).width(value, size);
  };
}

/**
 * Compiles a Vega-Lite spec to vega and renders it to SVG (headless view) and PNG (resvg with
 * DejaVu Sans, system fonts off, white background).
 *
 * @param spec A Vega-Lite v5 spec with inline data.
 * @param options PNG scale.
 * @returns The SVG text and PNG bytes.
 * @example
 * ```ts ignore
 * import { renderSpec } from "./render.ts";
 * const { svg, png } = await renderSpec({
 *   data: { values: [{ x: 1, y: 2 }] },
 *   mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * ```
 */
export async function renderSpec(
  spec: VegaLiteSpec,
  options: RenderOptions = {},
): Promise<RenderedFigure> {
  installTextMetrics();
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: options.scale ?? 2 },
    font: {
      fontFiles: [DEJAVU_SANS_FILES.regular, DEJAVU_SANS_FILES.bold],
      loadSystemFonts: false,
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
  });
  const png = resvg.render().asPng();
  return { svg, png: new Uint8Array(png) };
}
