import { summarize } from "../measure/stats.ts";
import { assert, assertAlmostEquals, assertEquals } from "../testing/assert.ts";
import { syntheticResultsCsv, syntheticRows } from "./_fixture.ts";
import { parseResultsCsv } from "./results_table.ts";
import { summarizeRuns, SUMMARY_FIELDS, summaryRecords } from "./summary.ts";

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

Deno.test("summarizeRuns() matches stats recomputed with plain loops, ok rows only", () => {
  const rows = syntheticRows({ runs: 5 });
  const summary = summaryRecords(summarizeRuns(parseResultsCsv(syntheticResultsCsv({ runs: 5 }))));
  const okCells = new Set(
    rows.filter((r) => r.status === "ok").map((r) =>
      `${r.dtype}|${r.use_cache}|${r.context_tokens}`
    ),
  );
  assertEquals(summary.length, okCells.size);
  for (const s of summary) {
    const mine = rows.filter((r) =>
      r.status === "ok" && r.dtype === s.dtype && r.use_cache === s.use_cache &&
      r.context_tokens === s.context_tokens
    );
    const xs = mine.map((r) => r.decode_tokens_per_s!).sort((a, b) => a - b);
    let sum = 0;
    for (const x of xs) sum += x;
    const mean = sum / xs.length;
    let ss = 0;
    for (const x of xs) ss += (x - mean) ** 2;
    const std = Math.sqrt(ss / (xs.length - 1));
    assertEquals(s.runs, mine.length);
    assertAlmostEquals(s.decode_tokens_per_s_mean!, mean, 1e-9);
    assertAlmostEquals(s.decode_tokens_per_s_std!, std, 1e-9);
    assertAlmostEquals(s.decode_tokens_per_s_p50!, quantile(xs, 0.5), 1e-9);
    assertAlmostEquals(s.decode_tokens_per_s_p95!, quantile(xs, 0.95), 1e-9);
    // The same CI95 as the project's one summary function over raw samples (Student's t).
    assertAlmostEquals(s.decode_tokens_per_s_ci95!, summarize(xs).ci95HalfWidth!, 1e-9);
    assertEquals(s.peak_rss_bytes_max, Math.max(...mine.map((r) => r.peak_rss_bytes!)));
    assertEquals(s.peak_vram_bytes_max, null);
  }
});

Deno.test("summarizeRuns() orders by dtype (DTYPES order), cache on first, then context", () => {
  const summary = summaryRecords(
    summarizeRuns(parseResultsCsv(syntheticResultsCsv({ dtypes: ["q4", "fp32"] }))),
  );
  assertEquals(summary[0]!.dtype, "fp32");
  assertEquals(summary[0]!.use_cache, true);
  assertEquals(summary.at(-1)!.dtype, "q4");
  const contexts = summary.filter((s) => s.dtype === "fp32" && s.use_cache).map((s) =>
    s.context_tokens
  );
  assertEquals(contexts, [128, 512, 2048]);
});

Deno.test("summarizeRuns() columns follow SUMMARY_FIELDS", () => {
  const df = summarizeRuns(parseResultsCsv(syntheticResultsCsv()));
  assertEquals(df.columns, [...SUMMARY_FIELDS]);
});

Deno.test("summarizeRuns() writes counts and lengths as integers", () => {
  const csv = summarizeRuns(parseResultsCsv(syntheticResultsCsv())).writeCSV().toString();
  const [header, first] = csv.split("\n");
  const cols = header!.split(",");
  const cells = first!.split(",");
  for (const name of ["context_tokens", "batch", "runs"]) {
    assert(/^\d+$/.test(cells[cols.indexOf(name)]!), `${name} = ${cells[cols.indexOf(name)]}`);
  }
});
