/**
 * What the notebook shows, built from a run's results: Markdown answers that also carry HTML (so
 * they render where Markdown outputs are shown as source), charts sized for the output column,
 * the perplexity table, links to the saved files relative to the notebook, and `showWith()` to
 * send a display with its metadata.
 *
 * @module
 */
import { relative, resolve } from "node:path";
import {
  chartDisplay,
  type Displayable,
  displayContent,
  JUPYTER_DISPLAY,
  type RichDisplayable,
} from "../report/display.ts";
import { reportMarkdown } from "../report/report_document.ts";
import { randomWeightModels } from "../report/verdicts.ts";
import { markdownHtml } from "./markdown_html.ts";
import { type JupyterBroadcaster, unsupportedKind } from "./progress_display.ts";
import { notebookFolder, type NotebookResults } from "./session.ts";

/**
 * A Markdown display: `text/html` (rendered here), `text/markdown` and `text/plain`. JupyterLab
 * shows the HTML, trusted or not; the classic Notebook shows HTML where it would show untrusted
 * Markdown as source.
 *
 * @param text Markdown.
 * @returns A displayable object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownDisplay } from "./notebook_displays.ts";
 * import { JUPYTER_DISPLAY } from "../report/display.ts";
 * const bundle = markdownDisplay("**hi**")[JUPYTER_DISPLAY]();
 * assert.equal(bundle["text/markdown"], "**hi**");
 * assert.equal(bundle["text/html"], "<p><strong>hi</strong></p>");
 * ```
 */
export function markdownDisplay(text: string): Displayable {
  const bundle = { "text/html": markdownHtml(text), "text/markdown": text, "text/plain": text };
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/**
 * One line saying what the run did: measured now or loaded, its folder, the cells and their
 * failures, with the cells the device cannot run (bf16 on most CPUs) counted apart as expected.
 *
 * @param results From `runOrLoad`.
 * @returns A Markdown display.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDisplay } from "./notebook_displays.ts";
 * import { JUPYTER_DISPLAY } from "../report/display.ts";
 * const results = {
 *   source: "ran", outDir: "/p/notebooks/run/x", resultsCsv: "/p/notebooks/run/x/benchmarks/results.csv",
 *   data: { summary: [{}, {}, {}], failures: { runs: 2, cells: 2, reasons: [
 *     { reason: "cannot load m (bf16) on cpu: Could not find an implementation for Mul(14)", runs: 2, cells: 2 },
 *   ] } },
 * } as unknown as Parameters<typeof runDisplay>[0];
 * const text = runDisplay(results, "/p/notebooks")[JUPYTER_DISPLAY]()["text/markdown"];
 * assert.equal(text, "**Measured now** in `run/x`: 3 cells, 0 failed; 2 cells of a dtype this device cannot run (recorded as unsupported).");
 * ```
 */
export function runDisplay(results: NotebookResults, from: string = notebookFolder()): Displayable {
  const reasons = results.data.failures.reasons;
  const expected = reasons.filter((r) => unsupportedKind(`x|x|x: ${r.reason}`) !== null)
    .reduce((n, r) => n + r.cells, 0);
  const failed = results.data.failures.cells - expected;
  const folder = relative(from, results.outDir).split("\\").join("/") || ".";
  return markdownDisplay(
    `**${results.source === "ran" ? "Measured now" : "Loaded"}** in \`${folder}\`: ` +
      `${results.data.summary.length} cells, ${failed} failed` +
      (expected > 0
        ? `; ${expected} cells of a dtype this device cannot run (recorded as unsupported).`
        : "."),
  );
}

/**
 * The section of the written report whose heading starts with `heading` (e.g. `"1."` for the KV
 * cache question), as a Markdown display; the numbers in it come from the results.
 *
 * @param results From `runOrLoad`.
 * @param heading Start of the section heading: `"1."`, `"2."`, `"3."`, `"Environment"`, ….
 * @returns The section (every setup's, when several models ran), or a note that it is absent.
 */
export function reportSection(results: NotebookResults, heading: string): Displayable {
  const md = reportMarkdown({
    data: results.data,
    report: results.report,
    table: results.table,
    figures: [],
  });
  const sections = md.split(/\n(?=#{2,3} )/);
  const picked = sections.filter((s) => s.replace(/^#+ /, "").startsWith(heading));
  return markdownDisplay(
    picked.length > 0 ? picked.join("\n\n") : `_No section “${heading}” in this run's report._`,
  );
}

/**
 * One of the run's figures as a chart display: the Vega-Lite v5 spec (interactive in JupyterLab)
 * with SVG and PNG fallbacks and their size metadata, fitted to a ~900 px column.
 *
 * @param results From `runOrLoad`.
 * @param stem Figure stem, e.g. `figures/tokens_per_s_vs_length` (see `FIGURES`).
 * @returns A displayable with metadata; show it with {@linkcode showWith}.
 * @throws {RangeError} naming the known stems for an unknown one.
 */
export async function figureDisplay(
  results: NotebookResults,
  stem: string,
): Promise<RichDisplayable> {
  const figure = results.figures.find((f) => f.stem === stem);
  if (!figure) {
    throw new RangeError(
      `unknown figure '${stem}' (known: ${results.figures.map((f) => f.stem).join(", ")})`,
    );
  }
  return await chartDisplay(figure.spec);
}

/**
 * The perplexity rows of the run as a Markdown table (PPL, ΔPPL, KL, top-1 per dtype).
 *
 * @param results From `runOrLoad`.
 * @returns A Markdown display (a note when no perplexity was measured).
 */
export function perplexityDisplay(results: NotebookResults): Displayable {
  const rows = results.data.perplexity;
  if (rows.length === 0) {
    return markdownDisplay(
      "_No perplexity measured (set WIKITEXT_PATH to a WikiText-2 text file to measure it)._",
    );
  }
  const num = (v: number | null, digits: number) => v === null ? "–" : v.toFixed(digits);
  const random = randomWeightModels(results.data);
  const lines = [
    ...(random.length > 0
      ? [
        `**Random weights** (${random.join(", ")}): this perplexity measures agreement between ` +
        `dtypes, not language quality, so the report gives no quality verdict for it.`,
        "",
      ]
      : []),
    "| model | dtype | PPL | ± | ΔPPL % | KL (nats) | top-1 % | scored tokens | tokens/s |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.model} | ${r.dtype} | ${num(r.ppl, 3)} | ${num(r.stderr, 3)} | ${
        num(r.delta_ppl_pct, 2)
      } | ${num(r.kl, 5)} | ${num(r.top1_agreement, 1)} | ${r.scored_tokens ?? "–"} | ${
        num(r.tokens_per_s, 0)
      } |`
    ),
  ];
  return markdownDisplay(lines.join("\n"));
}

/**
 * Links to saved files, relative to the notebook's folder (a kernel runs there), so they open in
 * Jupyter; files outside that folder keep `../` paths, which Jupyter serves when they are under
 * its root.
 *
 * @param files Absolute or cwd-relative paths.
 * @param from The notebook's folder. @default where the kernel started (see `atProjectRoot`)
 * @returns A Markdown list display.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { savedFilesDisplay } from "./notebook_displays.ts";
 * import { JUPYTER_DISPLAY } from "../report/display.ts";
 * const md = savedFilesDisplay(["/p/notebooks/run/metrics/report.html"], "/p/notebooks")[JUPYTER_DISPLAY]();
 * assert.equal(md["text/markdown"], "- [run/metrics/report.html](run/metrics/report.html)");
 * ```
 */
export function savedFilesDisplay(
  files: readonly string[],
  from: string = notebookFolder(),
): Displayable {
  const links = files.map((f) => {
    const rel = relative(from, resolve(from, f)).split("\\").join("/");
    return `- [${rel}](${encodeURI(rel)})`;
  });
  return markdownDisplay(links.length > 0 ? links.join("\n") : "_No files were written._");
}

/**
 * A `show(display)` for a notebook: sends `display_data` with the display's metadata (chart
 * sizes), which a cell's last expression cannot carry. Pass `Deno.jupyter`.
 *
 * @param jupyter Anything with `broadcast` (`Deno.jupyter`).
 * @returns `show`, accepting a display or a promise of one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showWith } from "./notebook_displays.ts";
 * import { JUPYTER_DISPLAY, type RichDisplayable } from "../report/display.ts";
 * const sent: unknown[] = [];
 * const show = showWith({ broadcast: async (_type, content) => { sent.push(content); } });
 * const chart: RichDisplayable = {
 *   [JUPYTER_DISPLAY]: () => ({ "text/plain": "x" }),
 *   metadata: { "image/png": { width: 9 } },
 * };
 * await show(chart);
 * assert.deepEqual(sent, [{ data: { "text/plain": "x" }, metadata: { "image/png": { width: 9 } } }]);
 * ```
 */
export function showWith(
  jupyter: JupyterBroadcaster,
): (display: Displayable | Promise<Displayable>) => Promise<void> {
  return async (display) => {
    const { data, metadata } = displayContent(await display);
    await jupyter.broadcast("display_data", { data, metadata });
  };
}
