/**
 * Text widths from a TrueType font's advance widths (the `cmap`, `hmtx`, `hhea` and `head`
 * tables), so vega can lay out labels without a canvas; and the DejaVu Sans files the renderer
 * uses.
 *
 * @module
 */

/** Directory of the DejaVu fonts (Debian package `fonts-dejavu-core`). */
export const DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu";

/** DejaVu Sans regular and bold, the only fonts figures use. */
export const DEJAVU_SANS_FILES: Readonly<{ regular: string; bold: string }> = Object.freeze({
  regular: `${DEJAVU_DIR}/DejaVuSans.ttf`,
  bold: `${DEJAVU_DIR}/DejaVuSans-Bold.ttf`,
});

/** The font family name every figure sets in its config. */
export const FONT_FAMILY = "DejaVu Sans";

/** Advance widths of one font. */
export interface FontMetrics {
  /** Width of `text` at `fontSize` pixels, without kerning. */
  width(text: string, fontSize: number): number;
}

/**
 * Parses a TrueType font's advance widths (cmap formats 4 and 12).
 *
 * @param bytes The `.ttf` file.
 * @returns Metrics that measure text widths.
 * @example
 * ```ts ignore
 * import { parseFontMetrics, DEJAVU_SANS_FILES } from "./font_metrics.ts";
 * const m = parseFontMetrics(Deno.readFileSync(DEJAVU_SANS_FILES.regular));
 * console.log(m.width("tokens/s", 11));
 * ```
 */
export function parseFontMetrics(bytes: Uint8Array): FontMetrics {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = view.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
    tables.set(tag, view.getUint32(rec + 8));
  }
  const table = (tag: string): number => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new SyntaxError(`Cannot read font: no '${tag}' table`);
    return offset;
  };
  const unitsPerEm = view.getUint16(table("head") + 18);
  const numberOfHMetrics = view.getUint16(table("hhea") + 34);
  const hmtx = table("hmtx");
  const advance = (glyph: number): number =>
    view.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));
  const glyphOf = cmapLookup(view, table("cmap"));
  const cache = new Map<number, number>();
  return {
    width(text: string, fontSize: number): number {
      let units = 0;
      for (const ch of text) {
        const code = ch.codePointAt(0)!;
        let w = cache.get(code);
        if (w === undefined) {
          w = advance(glyphOf(code));
          cache.set(code, w);
        }
        units += w;
      }
      return units * fontSize / unitsPerEm;
    },
  };
}

function cmapLookup(view: DataView, cmap: number): (code: number) => number {
  const count = view.getUint16(cmap + 2);
  let best: { format: number; offset: number } | undefined;
  for (let i = 0; i < count; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = view.getUint16(rec);
    const encoding = view.getUint16(rec + 2);
    const offset = cmap + view.getUint32(rec + 4);
    const format = view.getUint16(offset);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode || (format !== 4 && format !== 12)) continue;
    if (best === undefined || format === 12) best = { format, offset };
  }
  if (best === undefined) throw new SyntaxError("Cannot read font: no Unicode cmap (format 4/12)");
  const { format, offset } = best;
  if (format === 12) {
    const groups = view.getUint32(offset + 12);
    return (code) => {
      for (let g = 0; g < groups; g++) {
        const rec = offset + 16 + 12 * g;
        const start = view.getUint32(rec);
        if (code >= start && code <= view.getUint32(rec + 4)) {
          return view.getUint32(rec + 8) + code - start;
        }
      }
      return 0;
    };
  }
  const segX2 = view.getUint16(offset + 6);
  const ends = offset + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const rangeOffsets = deltas + segX2;
  return (code) => {
    if (code > 0xffff) return 0;
    for (let s = 0; s < segX2; s += 2) {
      if (code > view.getUint16(ends + s)) continue;
      const start = view.getUint16(starts + s);
      if (code < start) return 0;
      const delta = view.getUint16(deltas + s);
      const ro = view.getUint16(rangeOffsets + s);
      if (ro === 0) return (code + delta) & 0xffff;
      const glyph = view.getUint16(rangeOffsets + s + ro + 2 * (code - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

/**
 * Reads a font file, failing with a one-line error that names the Debian package when absent.
 *
 * @param path The `.ttf` path.
 * @returns The file's bytes.
 * @example
 * ```ts ignore
 * import { readFontFile, DEJAVU_SANS_FILES } from "./font_metrics.ts";
 * const bytes = readFontFile(DEJAVU_SANS_FILES.regular);
 * ```
 */
export function readFontFile(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot render figures: font '${path}' is missing; install the Debian package fonts-dejavu-core`,
      );
    }
    throw error;
  }
}
