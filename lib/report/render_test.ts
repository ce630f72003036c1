import { assert, assertAlmostEquals } from "../testing/assert.ts";
import { DEJAVU_SANS_FILES, parseFontMetrics } from "./font_metrics.ts";
import { renderSpec } from "./render.ts";
import { summaryTableSpec } from "./summary_table.ts";
import { testData } from "./_test_data.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

Deno.test("renderSpec() produces an SVG document and a PNG at twice its size", async () => {
  const { svg, png } = await renderSpec(summaryTableSpec(testData()));
  assert(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"));
  assert(svg.includes("DejaVu Sans"), "the SVG names the font");
  assert(svg.includes("4bit (q4)"), "the SVG holds the labels");
  assert(PNG_SIGNATURE.every((b, i) => png[i] === b), "PNG signature");
  assert(png.length > 10_000, `PNG of ${png.length} bytes is non-trivial`);
  const view = new DataView(png.buffer, png.byteOffset);
  const svgWidth = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)![1]);
  assertAlmostEquals(view.getUint32(16), svgWidth * 2, 2);
});

Deno.test("parseFontMetrics() measures DejaVu Sans advance widths", () => {
  const regular = parseFontMetrics(Deno.readFileSync(DEJAVU_SANS_FILES.regular));
  const bold = parseFontMetrics(Deno.readFileSync(DEJAVU_SANS_FILES.bold));
  assert(regular.width("WWW", 11) > regular.width("iii", 11));
  assertAlmostEquals(regular.width("tokens/s", 22), 2 * regular.width("tokens/s", 11), 1e-9);
  assert(bold.width("tokens/s", 11) > regular.width("tokens/s", 11));
  assertAlmostEquals(regular.width("", 11), 0);
  // DejaVu Sans's space advances 651 of 2048 units per em.
  assertAlmostEquals(regular.width(" ", 2048), 651, 1e-9);
  assert(regular.width("Δ", 11) > 0, "a non-ASCII glyph is found");
});
