/**
 * `metrics/report.md` and the self-contained `metrics/report.html`: the brief's three questions
 * (KV-cache gain in decoding; is 4-bit worth it; the sweet spot) answered with numbers from the
 * results, then the comparison table, the figures, the environment and the failures. One list of
 * blocks, two renderers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { tableCells, tableHtml, tableMarkdown } from "./_table_html.ts";
import { escapeHtml, fmt } from "./_util.ts";
import type { ComparisonTable } from "./comparison_table.ts";
import type { FinalReport } from "./final_report.ts";
import { NOISY_CV_PCT } from "./verdicts.ts";
import { DELTA_PPL_BUDGET_PCT } from "../analysis/mod.ts";
import type { ReportData } from "./report_data.ts";
import {
  batchScalingBlocks,
  type Block,
  cacheAnswer,
  fourBitAnswer,
  memoryBlocks,
  speedVerdictBlocks,
  sweetSpotAnswer,
} from "./_report_answers.ts";

/** A figure the report shows: its path stem (e.g. `figures/ppl_degradation`) and PNG bytes. */
export interface ReportFigure {
  /** Path stem relative to the output root. */
  stem: string;
  /** PNG bytes (embedded in the HTML). */
  png: Uint8Array;
}

/** What the report is made of. */
export interface ReportInputs {
  /** The report tables. */
  data: ReportData;
  /** From `finalReport`. */
  report: FinalReport;
  /** From `comparisonTable`. */
  table: ComparisonTable;
  /** Rendered figures, in display order. */
  figures: readonly ReportFigure[];
}

/**
 * The report as Markdown; figures are linked relative to `metrics/` (`../figures/…png`).
 *
 * @param inputs Tables, final report, comparison table and figures.
 * @returns Markdown text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, finalReport, parseResultsCsv, reportData, reportMarkdown } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * const md = reportMarkdown({ data, report: finalReport(data), table: comparisonTable(data), figures: [] });
 * assert(md.startsWith("# Turbo Inference"));
 * ```
 */
export function reportMarkdown(inputs: ReportInputs): string {
  return blocks(inputs).map((b) => {
    switch (b.kind) {
      case "h":
        return `${"#".repeat(b.level)} ${b.text}`;
      case "p":
        return b.text;
      case "list":
        return b.items.map((i) => `- ${i}`).join("\n");
      case "table":
        return tableMarkdown(b.rows);
      case "comparison":
        return tableMarkdown(tableCells(inputs.table));
      case "figure":
        return `![${b.stem}](../${b.stem}.png)`;
      default:
        return unreachable(b);
    }
  }).join("\n\n") + "\n";
}

/**
 * The report as one self-contained HTML page (figures embedded as PNG data URIs, the comparison
 * table coloured).
 *
 * @param inputs Tables, final report, comparison table and figures.
 * @returns HTML text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, finalReport, parseResultsCsv, reportData, reportHtml } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const data = reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null);
 * const html = reportHtml({ data, report: finalReport(data), table: comparisonTable(data), figures: [] });
 * assert(html.startsWith("<!doctype html>"));
 * ```
 */
export function reportHtml(inputs: ReportInputs): string {
  const body = blocks(inputs).map((b) => {
    switch (b.kind) {
      case "h":
        return `<h${b.level}>${inline(b.text)}</h${b.level}>`;
      case "p":
        return `<p>${inline(b.text)}</p>`;
      case "list":
        return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join("")}</ul>`;
      case "table": {
        const [head = [], ...rows] = b.rows;
        return `<table class="plain"><thead><tr>${
          head.map((h) => `<th>${inline(h)}</th>`).join("")
        }</tr></thead><tbody>${
          rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`).join("")
        }</tbody></table>`;
      }
      case "comparison":
        return tableHtml(inputs.table);
      case "figure":
        return `<figure><img alt="${escapeHtml(b.stem)}"${
          cssWidth(b.png)
        } src="data:image/png;base64,${Buffer.from(b.png).toString("base64")}"><figcaption>${
          escapeHtml(b.stem)
        }.png</figcaption></figure>`;
      default:
        return unreachable(b);
    }
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Turbo Inference report</title>
<style>
body{font-family:'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
img{max-width:100%;height:auto;border:1px solid #ddd}figure{margin:1.5em 0}figcaption{color:#666;font-size:12px}
table.plain{border-collapse:collapse;font-size:13px}table.plain td,table.plain th{border:1px solid #ccc;padding:4px 10px;text-align:right}
table.plain td:first-child,table.plain th:first-child{text-align:left}code{background:#f3f3f3;padding:0 3px}
</style></head>
<body>
${body}
</body></html>
`;
}

function unreachable(b: never): never {
  throw new TypeError(`unknown report block ${JSON.stringify(b)}`);
}

/** `**bold**` and `` `code` `` in report text → HTML. */
function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`(.+?)`/g, "<code>$1</code>");
}

function blocks({ report, table, figures }: ReportInputs): Block[] {
  const out: Block[] = [{ kind: "h", level: 1, text: "Turbo Inference — benchmark report" }];
  const setups = Object.keys(report.by_model);
  const env = report.environment;
  out.push({
    kind: "p",
    text: setups.length === 0
      ? "No successful benchmark run is in the results yet."
      : `Measured ${setups.map((s) => `\`${s}\``).join(", ")} on ${
        env.device_name.join(", ") || "an unnamed device"
      } (${
        env.execution_provider.join(", ") || "no provider recorded"
      }). Every number comes from the measured runs of a cell (warmups excluded): decode ` +
        `tokens/s pooled (all decode tokens ÷ all decode time) with intervals from rounds, ` +
        `latencies as means, memory as the peak of the arm's own worker; read from \`benchmarks/results.csv\` and ` +
        `\`benchmarks/perplexity.csv\` only (method: docs/measurement.md).`,
  });
  for (const key of setups) {
    const ext = report.extended[key]!;
    const entries = report.by_model[key]!;
    if (setups.length > 1) out.push({ kind: "h", level: 2, text: `Setup \`${key}\`` });
    const level = setups.length > 1 ? 3 : 2;
    if (ext.weights === "random") {
      out.push({
        kind: "p",
        text: `**Random weights.** \`${ext.model}\` is a preset build with seeded random ` +
          `weights: its speed and memory are real, but it has no language quality, so its ` +
          `perplexity only shows how closely each dtype agrees with the baseline and the ` +
          `quality verdicts (4-bit within ${DELTA_PPL_BUDGET_PCT} %, sweet spot) are withheld.`,
      });
    }
    out.push(
      { kind: "h", level, text: "1. How much does the KV cache gain in decoding?" },
      ...cacheAnswer(ext, entries),
      { kind: "h", level, text: "2. Is 4-bit worth it in production?" },
      ...fourBitAnswer(report, ext, entries),
      { kind: "h", level, text: "3. Where is the sweet spot between speed and quality?" },
      ...sweetSpotAnswer(report, ext, entries),
      ...speedVerdictBlocks(ext, level),
      ...memoryBlocks(ext, entries, level),
    );
    if (ext.batch_scaling) {
      out.push(...batchScalingBlocks(ext.batch_scaling, ext.device, env, level));
    }
  }
  out.push({ kind: "h", level: 2, text: "Noise" });
  const noisy = Object.values(report.extended).flatMap((e) =>
    e.noisy_cells.map((c) => ({ model: e.model, ...c }))
  );
  out.push(
    noisy.length === 0
      ? {
        kind: "p",
        text: `No cell's runs vary by more than ${NOISY_CV_PCT} % (coefficient of variation of ` +
          `decode tokens/s and of prefill).`,
      }
      : {
        kind: "p",
        text: `${noisy.length} cell(s) vary by more than ${NOISY_CV_PCT} % across runs ` +
          `(coefficient of variation of decode tokens/s or of prefill; the Warnings below list ` +
          `decode only): read their means with care.`,
      },
  );
  if (noisy.length > 0) {
    out.push({
      kind: "table",
      rows: [
        ["model", "dtype", "cache", "context", "runs", "decode CV %", "prefill CV %", "max load"],
        ...noisy.map((c) => [
          c.model,
          c.dtype,
          c.use_cache ? "on" : "off",
          String(c.context),
          String(c.runs),
          fmt(c.decode_cv_pct, 1),
          fmt(c.prefill_cv_pct, 1),
          fmt(c.load1_max, 2),
        ]),
      ],
    });
  }
  out.push({ kind: "h", level: 2, text: "Comparison table" });
  if (table.rows.length > 0) {
    out.push({
      kind: "p",
      text: `Decode speed (pooled) and prefill at the longest context measured with the KV ` +
        `cache on; memory is the dtype's largest peak ${table.memoryKind} with the cache on ` +
        `(GB = 10⁹ bytes); every value is the one final_report.json holds. Colours rank each ` +
        `column within a model: green best, red worst.`,
    }, { kind: "comparison" });
  } else out.push({ kind: "p", text: "No data." });
  if (figures.length > 0) {
    out.push({ kind: "h", level: 2, text: "Figures" });
    for (const f of figures) out.push({ kind: "figure", stem: f.stem, png: f.png });
  }
  out.push(
    { kind: "h", level: 2, text: "Environment" },
    {
      kind: "list",
      items: [
        `git commit: ${env.git_commit.join(", ") || "—"}`,
        `Deno ${env.deno_version.join(", ") || "—"}, onnxruntime-node ${
          env.ort_version.join(", ") || "—"
        }, transformers.js ${env.transformers_version.join(", ") || "—"}`,
        `device: ${env.device_name.join(", ") || "—"}; execution providers: ${
          env.execution_provider.join(", ") || "—"
        }`,
        `runs from ${env.first_run ?? "—"} to ${env.last_run ?? "—"}`,
      ],
    },
    { kind: "h", level: 2, text: "Failed cells" },
  );
  const failed = report.failed_cells;
  if (failed.runs === 0) out.push({ kind: "p", text: "None: every run succeeded." });
  else {
    out.push(
      {
        kind: "p",
        text: `${failed.count} cell(s) had ${failed.runs} failed run(s); they are excluded from ` +
          `every number above.`,
      },
      {
        kind: "table",
        rows: [
          ["reason", "runs", "cells"],
          ...failed.reasons.map((r) => [r.reason, String(r.runs), String(r.cells)]),
        ],
      },
    );
  }
  return out;
}

/**
 * ` width="N"`: half the PNG's pixel width, since figures are rendered at scale 2, so every figure
 * shows at its design size (and `max-width: 100%` still shrinks it to the page); empty for bytes
 * that are not a PNG.
 */
function cssWidth(png: Uint8Array): string {
  if (png.length < 24 || png[1] !== 0x50 || png[2] !== 0x4e || png[3] !== 0x47) return "";
  const width = new DataView(png.buffer, png.byteOffset + 16, 4).getUint32(0);
  return width > 0 ? ` width="${Math.round(width / 2)}"` : "";
}
