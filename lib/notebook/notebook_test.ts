import { assert } from "../testing/assert.ts";
import { skipIf } from "../testing/skip.ts";
import { join } from "node:path";
import { executeNotebook, findNotebookPython } from "./execute.ts";
import { installKernel } from "./kernel.ts";

/** nbformat stores multi-line text outputs as lists of lines. */
const text = (v: unknown): string | null =>
  typeof v === "string" ? v : Array.isArray(v) ? v.join("") : null;

const NOTEBOOK = new URL("../../notebooks/turbo_inference.ipynb", import.meta.url).pathname;

Deno.test({
  name:
    "notebooks/turbo_inference.ipynb executes headless on the tiny preset with a table and charts",
  ignore: skipIf(
    "notebook executes headless",
    (await findNotebookPython()) === null ? "no Python with nbclient/ipykernel found" : null,
  ),
  async fn() {
    await installKernel();
    const dir = await Deno.makeTempDir();
    const out = await executeNotebook(NOTEBOOK, {
      outDir: dir,
      env: { TURBO_QUICK: "1", TURBO_OUT: join(dir, "run"), TURBO_DTYPES: "fp32,q4" },
    });
    const executed = JSON.parse(await Deno.readTextFile(out));
    const outputs = executed.cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []) as {
      data?: Record<string, unknown>;
      output_type: string;
    }[];
    assert(!outputs.some((o) => o.output_type === "error"), "no cell error");
    const streams = executed.cells.flatMap((c: { outputs?: { text?: unknown }[] }) =>
      (c.outputs ?? []).map((o) => text(o.text) ?? "")
    ).join("");
    const failed = streams.split("\n").filter((l: string) => l.includes("FAILED")).slice(0, 3);
    assert(failed.length === 0, `every cell of the quick grid ran: ${failed.join(" | ")}`);
    const charts = outputs.filter((o) =>
      o.data?.["application/vnd.vegalite.v5+json"] &&
      text(o.data["image/svg+xml"])?.includes("<svg") &&
      text(o.data["image/png"]) !== null
    );
    assert(
      charts.length >= 3,
      `at least three charts with SVG and PNG fallbacks, got ${charts.length}`,
    );
    const png = text(charts[0]!.data!["image/png"])!.trim();
    assert(atob(png.slice(0, 12)).startsWith("\x89PNG"), "PNG is base64 PNG");
    const table = outputs.find((o) => text(o.data?.["text/html"])?.includes("<table"));
    assert(table, "the comparison table is displayed as HTML");
    const answers = outputs.filter((o) =>
      /^## [123]\. /.test(text(o.data?.["text/markdown"]) ?? "")
    );
    assert(answers.length === 3, `one section per question, got ${answers.length}`);
  },
});
