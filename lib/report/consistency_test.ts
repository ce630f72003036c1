/**
 * One statistic per label: every number report.md prints, every number the summary PNG's
 * Vega-Lite spec draws as text, and every value of the notebook's comparison table is the value
 * final_report.json holds.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { comparisonTable } from "./comparison_table.ts";
import { finalReport, finalReportJson } from "./final_report.ts";
import { reportMarkdown } from "./report_document.ts";
import { summaryTableSpec } from "./summary_table.ts";
import { testData } from "./_test_data.ts";
import { fmt, reportLabel } from "./_util.ts";
import { tableCells } from "./_table_html.ts";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every number and every string anywhere in a JSON value. */
function leaves(value: Json, numbers: number[], strings: string[]): void {
  if (typeof value === "number") numbers.push(value);
  else if (typeof value === "string") strings.push(value);
  else if (Array.isArray(value)) { for (const v of value) leaves(v, numbers, strings); }
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      strings.push(k); // keys are contexts ("2048") and labels
      leaves(v, numbers, strings);
    }
  }
}

/**
 * The numbers the report states as its own rules rather than as results: the section numbers of
 * the three questions and batching, the 95 % level of every interval and the 10⁹ of a GB.
 */
const RULES = new Set(["1", "2", "3", "4", "95", "10"]);

/**
 * Number tokens of a text, as printed (thousands separators and sign kept; a version `2.9.6`, a
 * date `2026-11-23` or a time `10:00:00` is one token).
 */
function tokens(text: string): string[] {
  return [...text.matchAll(/-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:[.:-]\d+)*/g)].map((m) => m[0]);
}

function explained(token: string, numbers: readonly number[], strings: readonly string[]): boolean {
  if (RULES.has(token.replace(/^-/, ""))) return true;
  const digits = /^-?[\d,]+\.\d+$/.test(token) ? token.split(".")[1]!.length : 0;
  if (numbers.some((n) => fmt(n, digits) === token || (digits === 0 && String(n) === token))) {
    return true;
  }
  // A number inside a JSON string (a reason, a warning, a version, a time), as a whole number.
  const escaped = token.replace(/[.]/g, "\\.");
  const whole = new RegExp(`(?<![\\d.])${escaped}(?![\\d]|\\.\\d)`);
  return strings.some((s) => whole.test(s));
}

function fixture() {
  // Designed rounds and an A/A control, so intervals, A/A ratios and verdicts are all printed.
  const data = testData({ aa: true, runs: 4 });
  const report = finalReport(data);
  const json = JSON.parse(finalReportJson(report)) as Json;
  const numbers: number[] = [];
  const strings: string[] = [];
  leaves(json, numbers, strings);
  return { data, report, numbers, strings };
}

Deno.test("every number in report.md is a value of final_report.json", () => {
  const { data, report, numbers, strings } = fixture();
  const md = reportMarkdown({ data, report, table: comparisonTable(data), figures: [] });
  const printed = tokens(md);
  assert(printed.length > 200, `${printed.length} numbers`);
  const unexplained = printed.filter((t) => !explained(t, numbers, strings));
  assertEquals(unexplained, [], `numbers in report.md not in final_report.json`);
  // The test can fail: a number the JSON does not hold, or another rounding of one, is caught.
  assert(!explained("123.456", numbers, strings));
  const speed = report.by_model["preset:tiny"]!.fp16!.tokens_s_longest!;
  assert(!explained(fmt(speed * 1.01, 1), numbers, strings));
});

Deno.test("every number the summary PNG's spec prints is a value of final_report.json", () => {
  const { data, numbers, strings } = fixture();
  const spec = summaryTableSpec(data) as unknown as { data: { values: { text: string }[] } };
  const texts = spec.data.values.map((v) => v.text);
  assert(texts.length > 0);
  const unexplained = texts.flatMap(tokens).filter((t) => !explained(t, numbers, strings));
  assertEquals(unexplained, []);
});

Deno.test("the notebook's comparison table holds final_report.json's values, not a recomputation", () => {
  const { data, report } = fixture();
  // The notebook displays comparisonTable(data) (lib/notebook/session.ts), the same function
  // report.md and the summary PNG render.
  const table = comparisonTable(data);
  assert(table.rows.length > 0);
  for (const row of table.rows) {
    const entry = report.by_model[row.setup]![reportLabel(row.dtype)]!;
    const ext = report.extended[row.setup]!;
    assertEquals(row.tokens_per_s, entry.tokens_s_longest);
    assertEquals(row.prefill_ms, entry.prefill_ms_longest);
    assertEquals(row.memory_gb, table.memoryKind === "VRAM" ? entry.vram_gb : entry.rss_gb);
    assertEquals(row.ppl, entry.ppl);
    assertEquals(row.delta_ppl_pct, ext.quality[reportLabel(row.dtype)]?.delta_ppl_pct ?? null);
  }
  const { numbers, strings } = fixture();
  const unexplained = tableCells(table).flat().flatMap(tokens).filter((t) =>
    !explained(t, numbers, strings)
  );
  assertEquals(unexplained, []);
});

Deno.test("final_report.json has aa_ratio and aa_ci95 for every block, and the A/A interval holds 1", () => {
  const { report } = fixture();
  const blocks = Object.values(report.extended).flatMap((e) => e.blocks);
  assert(blocks.length > 0);
  for (const b of blocks) {
    assert("aa_ratio" in b && "aa_ci95" in b, b.block);
    assert(b.aa_ci95 !== null && b.aa_ci95[0] <= 1 && 1 <= b.aa_ci95[1], JSON.stringify(b));
  }
  const legacy = finalReport(testData({ legacy: true }));
  for (const b of Object.values(legacy.extended).flatMap((e) => e.blocks)) {
    assertEquals([b.aa_ratio, b.aa_ci95], [null, null]);
    assert(b.verdicts.every((v) => v.verdict === "not established" && v.ci95 === null));
  }
});
