import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../testing/assert.ts";
import { comparisonTable } from "./comparison_table.ts";
import { chartDisplay, displayContent, JUPYTER_DISPLAY, svgSize, tableDisplay } from "./display.ts";
import { prefillVsDecodeSpec } from "./prefill_vs_decode.ts";
import { renderSpec } from "./render.ts";
import { pplDegradationSpec } from "./ppl_degradation.ts";
import { testData } from "./_test_data.ts";

Deno.test("chartDisplay() bundles the Vega-Lite v5 spec, SVG and base64 PNG with their size", async () => {
  const spec = pplDegradationSpec(testData());
  const display = await chartDisplay(spec);
  assertEquals(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  const { data: bundle, metadata } = displayContent(display);
  assertEquals(Object.keys(bundle).toSorted(), [
    "application/vnd.vegalite.v5+json",
    "image/png",
    "image/svg+xml",
  ]);
  const svg = String(bundle["image/svg+xml"]);
  assert(svg.startsWith("<svg"));
  const png = Buffer.from(String(bundle["image/png"]), "base64");
  assertEquals([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
  // Both images carry their design size: the SVG's, which is half the scale-2 PNG's pixels.
  const size = svgSize(svg);
  assert(size.width > 300 && size.height > 100, JSON.stringify(size));
  assertEquals(metadata["image/png"], size);
  assertEquals(metadata["image/svg+xml"], size);
  assertEquals(png.readUInt32BE(16), size.width * 2);
  // The interactive single view fits the whole chart into that size.
  const vl = bundle["application/vnd.vegalite.v5+json"] as Record<string, unknown>;
  assertEquals(vl.autosize, { type: "fit", contains: "padding" });
  assertEquals([vl.width, vl.height], [size.width, size.height]);
  assertEquals(vl.data, spec.data);
});

Deno.test("chartDisplay() fits a wide two-panel chart into 900 px with its legends below", async () => {
  const spec = prefillVsDecodeSpec(testData());
  const plain = svgSize((await renderSpec(spec)).svg);
  assert(plain.width > 900, `the design is wider than a column: ${plain.width}`);
  const display = await chartDisplay(spec);
  const { data, metadata } = displayContent(display);
  const size = svgSize(String(data["image/svg+xml"]));
  assert(size.width <= 900 && size.width > 500, `fitted width ${size.width}`);
  assertEquals(metadata["image/png"], size);
  const vl = data["application/vnd.vegalite.v5+json"] as { config: { legend: { orient: string } } };
  assertEquals(vl.config.legend.orient, "bottom");
  // The original spec (the committed figure) is untouched.
  assertEquals(
    (spec as unknown as { config: { legend: { orient?: string } } }).config.legend.orient,
    undefined,
  );
});

Deno.test("tableDisplay() bundles coloured HTML and aligned plain text", () => {
  const table = comparisonTable(testData());
  const bundle = tableDisplay(table)[JUPYTER_DISPLAY]();
  const html = String(bundle["text/html"]);
  assert(html.startsWith("<table"));
  assertEquals(html.match(/<tr>/g)?.length, 1 + table.rows.length);
  // Every value cell is coloured, best green (score 1) and worst red (score 0).
  assertEquals(
    html.match(/background-color:rgb/g)?.length,
    table.rows.length * table.columns.length,
  );
  assert(
    html.includes("background-color:rgb(130, 200, 120)") &&
      html.includes("background-color:rgb(244, 143, 121)"),
  );
  const text = String(bundle["text/plain"]).split("\n");
  assertEquals(text.length, 1 + table.rows.length);
  assert(text[0]!.startsWith("dtype") && text.at(-1)!.startsWith("4bit (q4)"));
});
