import { assert, assertEquals } from "../testing/assert.ts";
import { skipIf } from "../testing/skip.ts";
import { join } from "node:path";
import { executeNotebook, findNotebookPython } from "./execute.ts";

/** nbformat stores multi-line text outputs as lists of lines. */
const text = (v: unknown): string | null =>
  typeof v === "string" ? v : Array.isArray(v) ? v.join("") : null;

const NOTEBOOK = new URL("../../notebooks/turbo_inference.ipynb", import.meta.url).pathname;

interface Output {
  output_type: string;
  name?: string;
  text?: unknown;
  data?: Record<string, unknown>;
  metadata?: Record<string, { width?: number; height?: number }>;
}

Deno.test({
  name:
    "notebooks/turbo_inference.ipynb executes headless on the tiny preset: table, sized charts, HTML answers, one progress display",
  ignore: skipIf(
    "notebook executes headless",
    (await findNotebookPython()) === null ? "no Python with nbclient/ipykernel found" : null,
  ),
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = await executeNotebook(NOTEBOOK, {
      outDir: dir,
      env: { TURBO_QUICK: "1", TURBO_OUT: join(dir, "run"), TURBO_DTYPES: "fp32,q4" },
    });
    const executed = JSON.parse(await Deno.readTextFile(out));
    const cells = executed.cells as { cell_type: string; source: string[]; outputs?: Output[] }[];
    const outputs = cells.flatMap((c) => c.outputs ?? []);
    assert(!outputs.some((o) => o.output_type === "error"), "no cell error");
    // Progress is an in-place display, not stderr lines a reader takes for errors.
    const stderr = outputs.filter((o) => o.output_type === "stream" && o.name === "stderr");
    assertEquals(stderr.map((o) => text(o.text)), [], "no stderr output");
    const progress = outputs.filter((o) => text(o.data?.["text/plain"])?.startsWith("sweep '"));
    assertEquals(progress.length, 2, "one progress display per sweep (run and live demo)");
    assert(text(progress[0]!.data!["text/plain"])!.includes("100%"), "the final state is shown");
    const failed = progress.flatMap((o) => text(o.data!["text/plain"])!.split("\n"))
      .filter((l) => l.startsWith("failed:"));
    assertEquals(failed, [], "every cell of the quick grid ran");
    // The first code cell says how long Run all takes and how to switch to quick mode.
    const first = outputs[0]!;
    assert(/Run all\*\* with these parameters/.test(text(first.data?.["text/markdown"]) ?? ""));
    assert(text(first.data?.["text/markdown"])!.includes("TURBO_QUICK"));
    // Charts: Vega-Lite + SVG + PNG, each image with its design size, none wider than 900 px.
    const charts = outputs.filter((o) =>
      o.data?.["application/vnd.vegalite.v5+json"] &&
      text(o.data["image/svg+xml"])?.includes("<svg") &&
      text(o.data["image/png"]) !== null
    );
    assert(charts.length >= 6, `every chart with SVG and PNG fallbacks, got ${charts.length}`);
    for (const chart of charts) {
      const size = chart.metadata?.["image/png"];
      assert(size?.width && size.height, "PNG size metadata");
      assert(size.width <= 900, `chart fits a 900 px column: ${size.width}`);
      assertEquals(chart.metadata?.["image/svg+xml"], size);
    }
    const png = text(charts[0]!.data!["image/png"])!.trim();
    assert(atob(png.slice(0, 12)).startsWith("\x89PNG"), "PNG is base64 PNG");
    const table = outputs.find((o) => text(o.data?.["text/html"])?.includes("<table"));
    assert(table, "the comparison table is displayed as HTML");
    assert(text(table.data!["text/html"])!.includes("background-color:rgb("), "coloured cells");
    // The three answers carry HTML (headings, bold) beside their Markdown.
    const answers = outputs.filter((o) =>
      /^## [123]\. /.test(text(o.data?.["text/markdown"]) ?? "")
    );
    assertEquals(answers.length, 3, "one section per question");
    const html = answers.map((a) => text(a.data!["text/html"]) ?? "");
    for (const h of html) assert(/^<h2>[123]\. /.test(h), h.slice(0, 80));
    assert(html.join("").includes("<strong>"), "bold numbers");
    assert(html.join("").includes("<table>"), "a table");
    // Saved files: links relative to the notebook's folder.
    const saved = text(outputs.at(-1)!.data?.["text/markdown"]) ?? "";
    assert(saved.includes("metrics/report.html"), saved.slice(0, 200));
    assert(!/\]\(\//.test(saved), "no absolute links");
  },
});
