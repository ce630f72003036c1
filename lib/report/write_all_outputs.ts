/**
 * The one entry the sweep and both CLIs call: from `results.csv` (+ `perplexity.csv`) to
 * `benchmarks/summary.csv`, every figure (`.vl.json`, `.svg`, `.png`) and the reports in
 * `metrics/`.
 *
 * @module
 */
import { comparisonTable } from "./comparison_table.ts";
import { buildFigures, writeFigures } from "./figures.ts";
import { finalReport, finalReportJson } from "./final_report.ts";
import { loadReportData } from "./report_data.ts";
import { reportHtml, reportMarkdown } from "./report_document.ts";
import { commitStaged, stagingDir } from "./_staged.ts";
import { runHealth, telemetryFigures } from "./run_outputs.ts";

/** Options of {@linkcode writeAllOutputs}. */
export interface WriteAllOutputsOptions {
  /** Path of `results.csv`. */
  resultsCsv: string;
  /** Path of `perplexity.csv`; null or absent when no perplexity was measured. @default null */
  perplexityCsv?: string | null;
  /** Output root: files go to `<outDir>/benchmarks`, `/figures`, `/metrics`. */
  outDir: string;
  /** `all` (summary, figures, reports) or `figures` (summary and figures only). @default "all" */
  parts?: "all" | "figures";
}

/**
 * Rebuilds every deliverable from the CSVs, all or nothing: every file is written to a staging
 * directory under `outDir`, then moved into place once every destination proved writable.
 *
 * @param options The CSV paths, the output root and which parts to write.
 * @returns The paths written, in order.
 * @example
 * ```ts ignore
 * import { writeAllOutputs } from "./write_all_outputs.ts";
 * const { files } = await writeAllOutputs({
 *   resultsCsv: "benchmarks/results.csv",
 *   perplexityCsv: "benchmarks/perplexity.csv",
 *   outDir: ".",
 * });
 * ```
 */
export async function writeAllOutputs(
  options: WriteAllOutputsOptions,
): Promise<{ files: string[] }> {
  const data = await loadReportData({
    resultsCsv: options.resultsCsv,
    perplexityCsv: options.perplexityCsv ?? null,
  });
  // Everything goes to a staging directory first, then into place in one step: a run that
  // fails (an unwritable figures/ directory, a rendering error) leaves the old outputs whole.
  const stage = await stagingDir(options.outDir);
  const staged: string[] = [];
  try {
    await Deno.mkdir(`${stage}/benchmarks`, { recursive: true });
    const summaryCsv = `${stage}/benchmarks/summary.csv`;
    data.summaryFrame.writeCSV(summaryCsv);
    staged.push(summaryCsv);
    const figures = await buildFigures(data);
    figures.push(...await telemetryFigures(options.resultsCsv));
    staged.push(...await writeFigures(figures, stage));
    if ((options.parts ?? "all") === "all") {
      const report = finalReport(data);
      const inputs = { data, report, table: comparisonTable(data), figures };
      const metrics = `${stage}/metrics`;
      await Deno.mkdir(metrics, { recursive: true });
      // Warnings, tokens per joule and the pre-flight's verdicts (provenance) beside the numbers.
      const health = await runHealth(options.resultsCsv);
      await Deno.writeTextFile(
        `${metrics}/final_report.json`,
        JSON.stringify({ ...JSON.parse(finalReportJson(report)), ...health.json }, null, 2) + "\n",
      );
      const conversations = await conversationSection(
        `${options.outDir}/benchmarks/conversations`,
      );
      await Deno.writeTextFile(
        `${metrics}/report.md`,
        reportMarkdown(inputs) + health.markdown + conversations,
      );
      await Deno.writeTextFile(`${metrics}/report.html`, reportHtml(inputs));
      staged.push(`${metrics}/final_report.json`, `${metrics}/report.md`, `${metrics}/report.html`);
    }
  } catch (error) {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    throw error;
  }
  return { files: await commitStaged(stage, options.outDir, staged) };
}

/**
 * The optional conversation pass's summaries (`benchmarks/conversations/<job>/chat_summary.md`,
 * written by `lib/chat`) as a report section with their figures, or "" when there are none.
 * Read as text: the report does not depend on lib/chat.
 */
async function conversationSection(dir: string): Promise<string> {
  const jobs: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) jobs.push(entry.name);
  } catch {
    return "";
  }
  const parts: string[] = [];
  for (const job of jobs.sort()) {
    const md = await Deno.readTextFile(`${dir}/${job}/chat_summary.md`).catch(() => null);
    if (md === null) continue;
    const body = md.replace(/^# .*\n/, "").trim();
    const figure = `../benchmarks/conversations/${job}/chat_ttft_per_turn.png`;
    parts.push(`### ${job}\n\n${body}\n\n![chat_ttft_per_turn](${figure})`);
  }
  return parts.length === 0
    ? ""
    : `\n## Conversations: prefix-cache reuse\n\n${parts.join("\n\n")}\n`;
}
