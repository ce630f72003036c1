import { compile } from "vega-lite";
import { assert, assertEquals } from "../testing/assert.ts";
import type { ReportData } from "./report_data.ts";
import { impliedBoundGbS, rooflineLines, rooflineSkipReason, rooflineSpec } from "./roofline.ts";
import type { SummaryRow } from "./summary.ts";

/** Summary cells with the roofline columns: a 10 GB/s bound, q4 closer to it than fp32. */
function cell(dtype: string, context: number, gbS: number, useCache = true): SummaryRow {
  return {
    model: "preset:small",
    dtype,
    device: "cpu",
    use_cache: useCache,
    context_tokens: context,
    batch: 1,
    runs: 3,
    bytes_per_token_mean: dtype === "q4" ? 2_500_000 : 16_000_000,
    effective_gb_s_mean: gbS,
    bandwidth_fraction_mean: gbS / 10,
  } as unknown as SummaryRow;
}
const rows = [
  cell("fp32", 128, 4),
  cell("fp32", 2048, 5),
  cell("q4", 128, 1),
  cell("q4", 2048, 2.5),
  cell("q4", 2048, 0.5, false),
];

Deno.test("impliedBoundGbS() recovers the probe's bound from effective ÷ fraction", () => {
  assertEquals(impliedBoundGbS(rows), 10);
  assertEquals(impliedBoundGbS([]), null);
});

Deno.test("rooflineSpec() draws effective GB/s per dtype against context with the bound as a rule, cache on only", () => {
  const data = { summary: rows } as unknown as ReportData;
  assertEquals(rooflineSkipReason(data), null);
  const spec = rooflineSpec(data);
  const vg = compile(spec).spec;
  assert(Array.isArray(vg.marks) && vg.marks.length > 0);
  const text = JSON.stringify(spec);
  assert(text.includes('"bound":10'), "the bound's rule");
  assert(text.includes("10.00 GB/s"), "the bound in the subtitle");
  const values = (spec as unknown as { data: { values: { cache: string }[] } }).data.values;
  assertEquals(values.length, 4);
  assert(values.every((v) => v.cache === "KV cache on"));
});

Deno.test("rooflineLines() gives one line per dtype: bytes per step and share of the bound at the shortest and longest context", () => {
  const lines = rooflineLines(rows);
  assertEquals(lines.length, 2);
  assert(
    lines[0]!.includes("128 tokens: 16.0 MB per step at 4.00 GB/s (40 % of the bound)"),
    lines[0],
  );
  assert(
    lines[1]!.includes("2048 tokens: 2.50 MB per step at 2.50 GB/s (25 % of the bound)"),
    lines[1],
  );
  assertEquals(rooflineLines([cell("q4", 128, 1, false)]), []);
});
