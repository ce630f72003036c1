import { assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { readTable, toFrame, writeTable } from "./table.ts";
import { BENCH_FIELDS, BENCH_FIELDS_ADDED, type BenchRow, type PerplexityRow } from "./schema.ts";

function benchRow(overrides: Partial<BenchRow> = {}): BenchRow {
  return {
    run_id: "c1#0#0",
    cell_id: "c1",
    timestamp: "2026-11-23T12:00:00.000Z",
    model: "preset:tiny",
    dtype: "q4",
    device: "cpu",
    execution_provider: "CPUExecutionProvider",
    nodes_off_provider: 0,
    logits_positions: "last",
    use_cache: true,
    batch: 1,
    context_tokens: 128,
    family: "code",
    prompt_id: 0,
    run_index: 0,
    new_tokens: 8,
    prefill_ms: 12.5,
    decode_ms: 30,
    decode_tokens_per_s: 233.3,
    token_p50_ms: 4.2,
    token_p95_ms: 5.1,
    total_ms: 42.5,
    peak_rss_bytes: 1e8,
    peak_vram_bytes: null,
    status: "ok",
    error: "",
    git_commit: "unknown",
    deno_version: "2.9.6",
    ort_version: "1.30.0",
    transformers_version: "4.3.1",
    device_name: 'cpu, with "quotes", commas',
    kv_mode: "in_place",
    kv_cache_bytes: 12_582_912,
    quantization: "q4 b32 acc4",
    rss_baseline_bytes: 60_000_000,
    peak_rss_increase_bytes: 40_000_000,
    load1_before: 0.25,
    load1_after: 0.5,
    weights: "random",
    decode_tokens_per_s_per_seq: 233.3,
    shard: "1/3",
    host: "node-a",
    spec_hash: "0123456789abcdef",
    telemetry_samples: 12,
    cpu_process_pct_mean: 97.5,
    cpu_process_pct_p95: null,
    cpu_process_pct_max: 101.2,
    cpu_system_pct_mean: 55.1,
    cpu_busiest_core_pct_mean: 98,
    rss_mean_bytes: 90_000_000,
    mem_available_min_bytes: 2e10,
    load1_mean: 1.5,
    gpu_util_pct_mean: null,
    gpu_util_pct_p95: null,
    gpu_util_pct_max: null,
    gpu_mem_used_max_bytes: null,
    gpu_mem_process_max_bytes: null,
    gpu_temp_c_max: null,
    gpu_power_w_mean: null,
    gpu_sm_clock_mhz_mean: null,
    gpu_energy_j: null,
    gpu_throttle_reasons: null,
    round: 2,
    round_position: 0,
    replica: 1,
    block: "m|cpu|ctx=128|b=1|conversational",
    sched_wait_ms: 1.5,
    steal_ms: null,
    bytes_per_token: 1_234_567,
    effective_gb_s: 2.5,
    bandwidth_fraction: 0.41,
    ...overrides,
  };
}

Deno.test("writeTable() then readTable() round-trips bench rows, nulls and quoting included", async () => {
  const path = join(await Deno.makeTempDir(), "results.csv");
  const rows = [
    benchRow(),
    benchRow({
      run_id: "c2#0#0",
      cell_id: "c2",
      use_cache: false,
      status: "error",
      error: "boom: line1\nline2",
      prefill_ms: null,
      decode_ms: null,
      decode_tokens_per_s: null,
      total_ms: null,
    }),
  ];
  await writeTable(path, "bench", rows);
  const header = (await Deno.readTextFile(path)).split("\n")[0];
  assertEquals(header, BENCH_FIELDS.join(","));
  assertEquals(await readTable(path, "bench"), rows);
});

Deno.test("readTable() reports a corrupt file by name instead of guessing", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "results.csv");
  await writeTable(path, "bench", [benchRow()]);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text + 'c9#0#0,c9,"unterminated\n');
  await assertRejects(() => readTable(path, "bench"), SyntaxError, `${path} is corrupt`);
  await Deno.writeTextFile(path, "a,b\n1,2\n");
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "header");
  await Deno.writeTextFile(path, text.replace(",ok,", ",maybe,"));
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "status");
  // A row cut after its status column: the provenance columns are missing.
  const [header, row] = text.trim().split("\n");
  const cut = row!.slice(0, row!.indexOf(",ok,") + 4).split(",");
  const padded = [...cut, ...Array(BENCH_FIELDS.length - cut.length).fill("")].join(",");
  await Deno.writeTextFile(path, `${header}\n${padded}\n`);
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "has no 'git_commit'");
});

Deno.test("toFrame() keeps the schema's types when a column is all null", () => {
  const row: PerplexityRow = {
    timestamp: "t",
    model: "m",
    dtype: "fp32",
    device: "cpu",
    execution_provider: "",
    method: "hf",
    window: 8,
    stride: 4,
    max_tokens: null,
    scored_tokens: null,
    ppl: null,
    stderr: null,
    bits_per_byte: null,
    baseline: "fp32",
    delta_ppl_pct: null,
    kl: null,
    top1_agreement: null,
    seconds: null,
    tokens_per_s: null,
    status: "skipped",
    error: "no text",
    git_commit: "unknown",
  };
  const frame = toFrame("perplexity", [row]);
  assertEquals(String(frame.getColumn("ppl").dtype), "DataType(Float64)");
  assertEquals(String(frame.getColumn("window").dtype), "DataType(Int64)");
});

Deno.test("readTable() reads a results.csv written before the added columns, with them null", async () => {
  const path = join(await Deno.makeTempDir(), "results.csv");
  await writeTable(path, "bench", [benchRow()]);
  const [header, row] = (await Deno.readTextFile(path)).trim().split("\n") as [string, string];
  // The quoted device name holds commas, so cut the header by name and the row by its tail.
  assertEquals(header.split(",").slice(-BENCH_FIELDS_ADDED.length), [...BENCH_FIELDS_ADDED]);
  const cut = (line: string, n: number) => line.split(",").slice(0, -n).join(",");
  const nulls = (fields: readonly string[]) => Object.fromEntries(fields.map((f) => [f, null]));
  // Before every added column (the first reference run).
  const all = BENCH_FIELDS_ADDED.length;
  await Deno.writeTextFile(path, `${cut(header, all)}\n${cut(row, all)}\n`);
  assertEquals(await readTable(path, "bench"), [benchRow(nulls(BENCH_FIELDS_ADDED))]);
  // With kv_mode and quantization but before the memory, load, weights and placement columns.
  const later = [
    "rss_baseline_bytes",
    "peak_rss_increase_bytes",
    "load1_before",
    "load1_after",
    "weights",
    "nodes_off_provider",
    "logits_positions",
    "decode_tokens_per_s_per_seq",
    "shard",
    "host",
    "spec_hash",
    ...BENCH_FIELDS_ADDED.slice(BENCH_FIELDS_ADDED.indexOf("telemetry_samples")),
  ];
  await Deno.writeTextFile(path, `${cut(header, later.length)}\n${cut(row, later.length)}\n`);
  assertEquals(await readTable(path, "bench"), [benchRow(nulls(later))]);
  // Not any subset: a header missing a column in the middle is not the table's.
  await Deno.writeTextFile(path, `${header.replace("kv_mode,", "")}\n${row}\n`);
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "header");
});

Deno.test("readTable() rejects a cut last row and out-of-range numbers naming the column", async () => {
  const path = join(await Deno.makeTempDir(), "results.csv");
  await writeTable(path, "bench", [benchRow()]);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, text.slice(0, -10));
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "last row is cut");
  await writeTable(path, "bench", [benchRow({ batch: 0 })]);
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "column 'batch'");
  await writeTable(path, "bench", [benchRow({ peak_rss_bytes: -1 })]);
  await assertRejects(() => readTable(path, "bench"), SyntaxError, "column 'peak_rss_bytes'");
});
