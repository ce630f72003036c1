/**
 * Private: the comparison table as coloured HTML, as Markdown and as plain text (used by the
 * notebook display and the report). Never re-exported.
 *
 * @module
 */
import type { ComparisonRow, ComparisonTable } from "./comparison_table.ts";
import { escapeHtml, fmt } from "./_util.ts";

/** Background colour for a 0–1 score: red (0) → yellow (0.5) → green (1), pale enough for text. */
export function scoreColor(score: number | null): string {
  if (score === null) return "#e5e5e5";
  const s = Math.min(1, Math.max(0, score));
  const stops = [[244, 143, 121], [250, 240, 160], [130, 200, 120]] as const;
  const [a, b, t] = s < 0.5 ? [stops[0], stops[1], s * 2] : [stops[1], stops[2], (s - 0.5) * 2];
  const mix = (i: 0 | 1 | 2) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** The table's cell texts: a header row, then one row per dtype (model first when several). */
export function tableCells(table: ComparisonTable): string[][] {
  const lead = (r: ComparisonRow) => (table.manySetups ? [r.setup, r.label] : [r.label]);
  return [
    [...(table.manySetups ? ["model"] : []), "dtype", ...table.columns.map((c) => c.title)],
    ...table.rows.map((r) => [...lead(r), ...table.columns.map((c) => fmt(r[c.key], c.digits))]),
  ];
}

/** A self-contained HTML table with inline styles, each cell coloured by its column score. */
export function tableHtml(table: ComparisonTable): string {
  const th = "padding:6px 12px;border-bottom:2px solid #333;text-align:center;font-weight:bold";
  const leads = table.manySetups ? ["model", "dtype"] : ["dtype"];
  const head = leads.map((l) => `<th style="${th};text-align:left">${l}</th>`)
    .concat(table.columns.map((c) => `<th style="${th}">${escapeHtml(c.title)}</th>`)).join("");
  const body = table.rows.map((r) => {
    const cells = table.columns.map((c) =>
      `<td style="padding:6px 12px;text-align:right;background-color:${
        scoreColor(r.scores[c.key])
      };color:#111">${escapeHtml(fmt(r[c.key], c.digits))}</td>`
    ).join("");
    const lead = (table.manySetups ? [r.setup, r.label] : [r.label])
      .map((t) => `<th style="padding:6px 12px;text-align:left">${escapeHtml(t)}</th>`).join("");
    return `<tr>${lead}${cells}</tr>`;
  }).join("\n");
  return `<table style="border-collapse:collapse;font-family:'DejaVu Sans',sans-serif;font-size:13px">\n` +
    `<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The table as GitHub Markdown. */
export function tableMarkdown(rows: string[][]): string {
  const [header = [], ...body] = rows;
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [
    line(header),
    `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
    ...body.map(line),
  ].join("\n");
}

/** The table as aligned plain text. */
export function tableText(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")
  ).join("\n");
}
