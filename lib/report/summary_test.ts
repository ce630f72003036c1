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
    assertEquals(s.rounds, 5); // every run is its own round in the fixture
    // Pooled: all decode tokens over all decode time, not the mean of per-run rates.
    let tokens = 0;
    let ms = 0;
    for (const r of mine) {
      tokens += (r.new_tokens - 1) * r.batch;
      ms += r.decode_ms!;
    }
    const pooled = tokens / ms * 1000;
    assertAlmostEquals(s.decode_tokens_per_s_pooled!, pooled, 1e-9);
    // The interval comes from the rounds: a t interval of the log round rates around the pooled rate.
    const half = summarize(xs.map(Math.log)).ci95HalfWidth!;
    assertAlmostEquals(s.decode_tokens_per_s_ci95_low!, pooled * Math.exp(-half), 1e-6);
    assertAlmostEquals(s.decode_tokens_per_s_ci95_high!, pooled * Math.exp(half), 1e-6);
    assertAlmostEquals(s.decode_tokens_per_s_cv!, std / mean, 1e-9);
    assertEquals(s.noisy, std / mean > 0.2 || s.prefill_ms_cv! > 0.2);
    const prefill = mine.map((r) => r.prefill_ms!);
    // One run per round in the fixture: the interval over round means is the one over runs.
    assertAlmostEquals(s.prefill_ms_ci95!, summarize(prefill).ci95HalfWidth!, 1e-9);
    assertAlmostEquals(s.prefill_ms_p50!, quantile(prefill.toSorted((a, b) => a - b), 0.5), 1e-9);
    // 5 runs: p95 and p99 have no run above them, so they are blank.
    assertEquals([s.prefill_ms_p95, s.prefill_ms_p99], [null, null]);
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

Deno.test("summarizeRuns() gives p95 from 20 runs, not from 19", () => {
  for (const [runs, has] of [[19, false], [20, true]] as const) {
    const summary = summaryRecords(
      summarizeRuns(parseResultsCsv(syntheticResultsCsv({ runs, dtypes: ["fp32"] }))),
    );
    assert(summary.length > 0);
    for (const s of summary) {
      assertEquals(s.runs, runs);
      assertEquals(s.prefill_ms_p95 !== null, has, `${runs} runs`);
      assertEquals(s.prefill_ms_p99, null);
      assert(s.prefill_ms_p50 !== null);
    }
  }
});

Deno.test("summarizeRuns(): legacy rows are one round per cell and get no interval", () => {
  const summary = summaryRecords(
    summarizeRuns(parseResultsCsv(syntheticResultsCsv({ runs: 5, legacy: true }))),
  );
  assert(summary.length > 0);
  for (const s of summary) {
    assertEquals(s.rounds, 1);
    assertEquals([s.decode_tokens_per_s_ci95_low, s.decode_tokens_per_s_ci95_high], [null, null]);
    assertEquals([s.prefill_ms_ci95, s.total_ms_ci95], [null, null]);
  }
});

Deno.test("summarizeRuns(): the A/A control's rows are not part of the baseline's cell", () => {
  const rows = syntheticRows({ aa: true });
  const summary = summaryRecords(summarizeRuns(parseResultsCsv(syntheticResultsCsv({ aa: true }))));
  const cell = summary.find((s) => s.dtype === "fp16" && s.use_cache && s.context_tokens === 512)!;
  const mine = rows.filter((r) =>
    r.status === "ok" && r.dtype === "fp16" && r.use_cache && r.context_tokens === 512
  );
  assertEquals(mine.filter((r) => r.replica === 1).length, 3);
  const own = mine.filter((r) => r.replica === 0);
  assertEquals(cell.runs, own.length);
  let tokens = 0;
  let ms = 0;
  for (const r of own) {
    tokens += r.new_tokens - 1;
    ms += r.decode_ms!;
  }
  assertAlmostEquals(cell.decode_tokens_per_s_pooled!, tokens / ms * 1000, 1e-9);
});
