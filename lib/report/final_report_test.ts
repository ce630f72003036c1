import { assert, assertAlmostEquals, assertEquals } from "../testing/assert.ts";
import type { BenchRow } from "../results/schema.ts";
import {
  type FixtureOptions,
  syntheticPerplexity,
  syntheticPerplexityCsv,
  syntheticRows,
} from "./_fixture.ts";
import { toFrame } from "../results/table.ts";
import { reportData } from "./report_data.ts";
import { parsePerplexityCsv, parseResultsCsv } from "./results_table.ts";
import { finalReport, finalReportJson } from "./final_report.ts";
import { SKIP_REASON, testData } from "./_test_data.ts";

// An independent recomputation from the fixture's row objects: plain loops, no polars, no CSV.
function meanOf(rows: BenchRow[], pick: (r: BenchRow) => number | null): number | null {
  let sum = 0;
  let n = 0;
  for (const r of rows) {
    const v = pick(r);
    if (r.status === "ok" && v !== null) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? null : sum / n;
}
// Pooled decode tokens/s: all decode tokens of the ok runs over all their decode time.
function pooledOf(rows: BenchRow[]): number | null {
  let tokens = 0;
  let ms = 0;
  for (const r of rows) {
    if (r.status !== "ok" || r.decode_ms === null || r.new_tokens < 2) continue;
    tokens += (r.new_tokens - 1) * r.batch;
    ms += r.decode_ms;
  }
  return ms > 0 ? tokens / ms * 1000 : null;
}
function cellRows(rows: BenchRow[], dtype: string, cache: boolean, context: number): BenchRow[] {
  const out: BenchRow[] = [];
  for (const r of rows) {
    if (r.dtype === dtype && r.use_cache === cache && r.context_tokens === context) out.push(r);
  }
  return out;
}
const LABELS: Record<string, string> = { fp32: "fp32", fp16: "fp16", q8: "int8", q4: "4bit" };

function reportJson(
  options: FixtureOptions & { q4Delta?: number; perplexity?: boolean | "skipped" } = {},
) {
  return JSON.parse(finalReportJson(finalReport(testData(options))));
}

Deno.test("finalReportJson() headline numbers equal an independent recomputation from the rows", () => {
  const rows = syntheticRows();
  const ppl = syntheticPerplexity();
  const json = reportJson();
  for (const [dtype, label] of Object.entries(LABELS)) {
    const entry = json[label];
    assert(entry, `top-level key ${label}`);
    assertEquals(entry.dtype, dtype);
    const on2048 = cellRows(rows, dtype, true, 2048);
    assertAlmostEquals(entry.tokens_s_2048, pooledOf(on2048)!, 0.005);
    assertAlmostEquals(entry.prefill_ms, meanOf(on2048, (r) => r.prefill_ms)!, 0.005);
    assertEquals(entry.longest_context, 2048);
    assertEquals(entry.tokens_s_longest, entry.tokens_s_2048);
    let maxRss = 0;
    for (const r of rows) {
      if (r.status === "ok" && r.dtype === dtype && r.use_cache) {
        maxRss = Math.max(maxRss, r.peak_rss_bytes!);
      }
    }
    assertAlmostEquals(entry.rss_gb, maxRss / 1e9, 0.0005);
    assertEquals(entry.vram_gb, null);
    let expectedPpl: number | null = null;
    for (const p of ppl) if (p.dtype === dtype) expectedPpl = p.ppl;
    assertAlmostEquals(entry.ppl, expectedPpl!, 0.00005);
    assertEquals(json.by_model["preset:tiny"][label], entry);
  }
});

Deno.test("finalReportJson() KV-cache speedups, sweet spot and checks equal a recomputation", () => {
  const rows = syntheticRows();
  const json = reportJson();
  const ext = json.extended["preset:tiny"];
  let minSpeedup = Infinity;
  for (const [dtype, label] of Object.entries(LABELS)) {
    for (const context of [128, 512, 2048]) {
      const on = pooledOf(cellRows(rows, dtype, true, context))!;
      const off = pooledOf(cellRows(rows, dtype, false, context))!;
      assertAlmostEquals(ext.kv_cache_speedup[label][String(context)], on / off, 0.0005);
      minSpeedup = Math.min(minSpeedup, on / off);
    }
  }
  // Every pair is established faster over the fixture's rounds (paired, cache on ÷ off).
  assertEquals(ext.checks.cache_faster_at_every_length.value, minSpeedup > 1.1);
  assertEquals(ext.checks.cache_faster_at_every_length.details.not_established, []);
  assertAlmostEquals(
    ext.checks.cache_faster_at_every_length.details.min_speedup,
    minSpeedup,
    0.0005,
  );
  assertEquals(ext.checks.cache_faster_at_every_length.details.pairs, 12);
  // Every fixture dtype is within 5 %, so the sweet spot is the fastest at 2048 with the cache.
  let best = "";
  let bestSpeed = -Infinity;
  for (const [dtype, label] of Object.entries(LABELS)) {
    const s = pooledOf(cellRows(rows, dtype, true, 2048))!;
    if (s > bestSpeed) [best, bestSpeed] = [label, s];
  }
  assertEquals(ext.sweet_spot.label, best);
  assertEquals(ext.checks.four_bit_delta_ppl_under_5pct.value, true);
  assertEquals(ext.checks.four_bit_delta_ppl_under_5pct.details.delta_ppl_pct, 3.5);
  assertEquals(ext.quality["4bit"].kl, 0.05);
  assertEquals(ext.quality["4bit"].top1_agreement, 92.1);
});

Deno.test("finalReportJson() with 4-bit over budget fails the check and picks another sweet spot", () => {
  const ext = reportJson({ q4Delta: 7.5 }).extended["preset:tiny"];
  assertEquals(ext.checks.four_bit_delta_ppl_under_5pct.value, false);
  assertEquals(ext.sweet_spot.label, "int8");
});

Deno.test("finalReportJson() sweet spot compares dtypes at one context, not each one's longest", () => {
  // q4 (the fastest) has no 2048-token cell with the cache (it failed): its speed at 512 tokens
  // must not be ranked against the others' at 2048.
  const rows = syntheticRows().filter((r) =>
    !(r.dtype === "q4" && r.use_cache && r.context_tokens === 2048)
  );
  const data = reportData(
    parseResultsCsv(toFrame("bench", rows).writeCSV().toString()),
    parsePerplexityCsv(syntheticPerplexityCsv()),
  );
  const json = JSON.parse(finalReportJson(finalReport(data)));
  assertEquals(json["4bit"].longest_context, 512);
  const ext = json.extended["preset:tiny"];
  assertEquals([ext.sweet_spot.label, ext.sweet_spot.context], ["int8", 2048]);
});

Deno.test("finalReportJson() without perplexity leaves ppl null and the checks undecided", () => {
  const json = reportJson({ perplexity: false });
  assertEquals(json.fp16.ppl, null);
  const ext = json.extended["preset:tiny"];
  assertEquals(ext.sweet_spot, null);
  assertEquals(ext.sweet_spot_note, "no perplexity measured");
  assertEquals(ext.checks.four_bit_delta_ppl_under_5pct.value, null);
});

Deno.test("finalReportJson() nulls the 2048 numbers when 2048 was not measured", () => {
  const json = reportJson({ contexts: [128, 256] });
  assertEquals(json.fp16.tokens_s_2048, null);
  assertEquals(json.fp16.prefill_ms, null);
  assertEquals(json.fp16.longest_context, 256);
  assert(json.fp16.tokens_s_longest > 0);
});

Deno.test("finalReportJson() keys by model, with no top-level dtypes, when there are several", () => {
  const json = reportJson({ models: ["preset:a", "preset:b"], vram: true });
  assertEquals(json.fp16, undefined);
  assertEquals(Object.keys(json.by_model), ["preset:a", "preset:b"]);
  assert(json.by_model["preset:b"]["4bit"].vram_gb > 0);
});

Deno.test("finalReportJson() counts failed cells with their reasons and keeps the environment", () => {
  const json = reportJson();
  assertEquals(json.failed_cells.count, 2);
  assertEquals(json.failed_cells.runs, 3);
  assertEquals(json.failed_cells.reasons, [
    { reason: "out of memory, allocating 4 GiB", runs: 2, cells: 1 },
    { reason: "context too long", runs: 1, cells: 1 },
  ]);
  assertEquals(json.environment.ort_version, ["1.30.0"]);
  assertEquals(json.environment.execution_provider, ["CPUExecutionProvider"]);
});

Deno.test("finalReportJson() lists skipped perplexity with its reason", () => {
  const json = reportJson({ perplexity: "skipped" });
  assertEquals(json["4bit"].ppl, null);
  assertEquals(json.perplexity_not_measured.length, 4);
  assertEquals(json.perplexity_not_measured[0], {
    model: "preset:tiny",
    dtype: "fp32",
    status: "skipped",
    reason: SKIP_REASON,
  });
  assertEquals(reportJson().perplexity_not_measured, []);
});
