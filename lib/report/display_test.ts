import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../testing/assert.ts";
import { comparisonTable } from "./comparison_table.ts";
import { chartDisplay, JUPYTER_DISPLAY, tableDisplay } from "./display.ts";
import { pplDegradationSpec } from "./ppl_degradation.ts";
import { testData } from "./_test_data.ts";

Deno.test("chartDisplay() bundles the Vega-Lite v5 spec, SVG and base64 PNG", async () => {
  const spec = pplDegradationSpec(testData());
  const display = await chartDisplay(spec);
  assertEquals(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  const bundle = display[JUPYTER_DISPLAY]();
  assertEquals(Object.keys(bundle).toSorted(), [
    "application/vnd.vegalite.v5+json",
    "image/png",
    "image/svg+xml",
  ]);
  assertEquals(bundle["application/vnd.vegalite.v5+json"], spec);
  assert(String(bundle["image/svg+xml"]).startsWith("<svg"));
  const png = Buffer.from(String(bundle["image/png"]), "base64");
  assertEquals([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(""), "PNG");
});

Deno.test("tableDisplay() bundles coloured HTML and aligned plain text", () => {
  const table = comparisonTable(testData());
  const bundle = tableDisplay(table)[JUPYTER_DISPLAY]();
  const html = String(bundle["text/html"]);
  assert(html.startsWith("<table"));
  assertEquals(html.match(/<tr>/g)?.length, 1 + table.rows.length);
  // Every value cell is coloured, best green (score 1) and worst red (score 0).
  assertEquals(html.match(/background:rgb/g)?.length, table.rows.length * table.columns.length);
  assert(
    html.includes("background:rgb(130, 200, 120)") &&
      html.includes("background:rgb(244, 143, 121)"),
  );
  const text = String(bundle["text/plain"]).split("\n");
  assertEquals(text.length, 1 + table.rows.length);
  assert(text[0]!.startsWith("dtype") && text.at(-1)!.startsWith("4bit (q4)"));
});
