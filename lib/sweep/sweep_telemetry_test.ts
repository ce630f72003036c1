import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import { readTable } from "../results/table.ts";
import { readTelemetry } from "../results/telemetry_table.ts";
import { ensureModel } from "../model/mod.ts";
import { scriptedProbe } from "../doctor/_scripted_probe.ts";
import { runSweep } from "./orchestrator.ts";
import { parseSweepSpec } from "./spec.ts";
import { readPreflight } from "./sweep_preflight.ts";
import { CRASH_AT_ENV } from "./worker.ts";

await ensureModel("tiny", { dtypes: ["fp32"] });

const spec = parseSweepSpec({
  name: "telemetry-test",
  models: ["preset:tiny"],
  dtypes: ["fp32"],
  use_cache: [true, false],
  context_lengths: [16, 24],
  prompts_per_length: 1,
  max_new_tokens: 3,
  warmup: 0,
  runs: 2,
  // One round and no A/A control: these tests are about resume, crashes and files.
  min_rounds: 1,
  max_rounds: 1,
  aa_control: false,
  telemetry_interval_ms: 20,
});
const options = {
  skipProbe: true,
  skipOutputs: true,
  log: () => {},
  doctorProbe: scriptedProbe(),
};
const crashCell = "preset:tiny|fp32|cpu|cache=off|ctx=16|b=1";

Deno.test("sweep rows carry the cell's CPU telemetry (GPU null on the CPU), telemetry.csv marks every cell and survives a resume", async () => {
  const out = await Deno.makeTempDir();
  const first = await runSweep(spec, {
    ...options,
    outDir: out,
    workerEnv: { [CRASH_AT_ENV]: crashCell },
  });
  assertEquals([first.cellsOk, first.cellsFailed], [3, 1]);
  const bench = join(out, "benchmarks");
  const rows = await readTable(join(bench, "results.csv"), "bench");
  for (const r of rows.filter((r) => r.status === "ok")) {
    assert((r.telemetry_samples ?? 0) >= 1, `${r.run_id}: ${r.telemetry_samples} samples`);
    assert(typeof r.cpu_process_pct_mean === "number", `${r.run_id}: no process CPU`);
    assert(typeof r.cpu_system_pct_mean === "number" && typeof r.rss_mean_bytes === "number");
    // No GPU source on a cpu cell: missing, never 0.
    assertEquals([r.gpu_util_pct_mean, r.gpu_energy_j, r.gpu_throttle_reasons], [null, null, null]);
    // The roofline columns: bytes a step reads, and its share of the probe's bound.
    assert((r.bytes_per_token ?? 0) > 0 && (r.effective_gb_s ?? 0) > 0, `${r.run_id}: roofline`);
    assertEquals(typeof r.bandwidth_fraction, "number");
  }
  const bandwidth = JSON.parse(await Deno.readTextFile(join(out, "benchmarks", "bandwidth.json")));
  assert(bandwidth.read_gb_s > 0 && bandwidth.threads === spec.threads, JSON.stringify(bandwidth));
  const crashed = rows.find((r) => r.cell_id === crashCell)!;
  assertEquals([crashed.status, crashed.telemetry_samples ?? null], ["error", null]);
  const series = await readTelemetry(join(bench, "telemetry.csv"));
  const okCells = [...new Set(rows.filter((r) => r.status === "ok").map((r) => r.cell_id))];
  assertEquals(new Set(series.map((s) => s.cell)), new Set(okCells));
  for (let i = 1; i < series.length; i++) assert(series[i]!.t_ms >= series[i - 1]!.t_ms);
  const preflight = await readPreflight(join(bench, "preflight.json"));
  assert(preflight !== null && preflight.counts.fail === 0);

  // The resume runs the crashed cell's block (ctx=16) again as a whole.
  const second = await runSweep(spec, { ...options, outDir: out });
  assertEquals([second.cellsSkipped, second.cellsOk], [2, 2]);
  const after = await readTelemetry(join(bench, "telemetry.csv"));
  assertEquals(new Set(after.map((s) => s.cell)), new Set([...okCells, crashCell]));
  // The file's time axis runs on from cell to cell, so compare each kept cell from its own start.
  const keep = (s: typeof series) => {
    const kept = s.filter((r) => !r.cell?.includes("|ctx=16|"));
    const first = new Map<string | null, number>();
    for (const r of kept) if (!first.has(r.cell)) first.set(r.cell, r.t_ms);
    return kept.map((r) => ({ ...r, t_ms: r.t_ms - first.get(r.cell)! }));
  };
  assertEquals(keep(after), keep(series), "other blocks' series are kept as they were");
});

Deno.test("a failing pre-flight check stops the sweep before any cell, writing nothing; --no-preflight runs anyway", async () => {
  const out = await Deno.makeTempDir();
  const one = { ...spec, use_cache: [true], context_lengths: [16] };
  const broken = scriptedProbe({ packageInstalled: () => false });
  const lines: string[] = [];
  await assertRejects(
    () =>
      runSweep(one, { ...options, outDir: out, doctorProbe: broken, log: (l) => lines.push(l) }),
    Error,
    "pre-flight",
  );
  assert(lines.some((l) => l.includes("npm packages")), lines.join("\n"));
  const bench = join(out, "benchmarks");
  for (const file of ["preflight.json", "results.csv"]) {
    await assertRejects(() => Deno.stat(join(bench, file)), Deno.errors.NotFound);
  }
  const run = await runSweep(one, {
    ...options,
    outDir: out,
    doctorProbe: broken,
    preflight: false,
  });
  assertEquals(run.cellsOk, 1);
  const record = await readPreflight(join(bench, "preflight.json"));
  assertEquals(record?.checks.find((c) => c.status === "fail")?.name, "npm packages");
});

Deno.test("a refused run or one that measures nothing leaves the previous preflight.json as it was", async () => {
  const out = await Deno.makeTempDir();
  const one = { ...spec, use_cache: [true], context_lengths: [16] };
  assertEquals((await runSweep(one, { ...options, outDir: out })).cellsOk, 1);
  const path = join(out, "benchmarks", "preflight.json");
  const before = await Deno.readTextFile(path);
  const broken = scriptedProbe({ packageInstalled: () => false });
  const unloadable = parseSweepSpec({ ...one, dtypes: ["bnb4"], baseline_dtype: "bnb4" });
  const timesOut = parseSweepSpec({ ...one, context_lengths: [24], cell_timeout_s: 0.001 });
  const refused: [string, () => Promise<unknown>, string][] = [
    [
      "failing pre-flight",
      () => runSweep(one, { ...options, outDir: out, doctorProbe: broken, force: true }),
      "pre-flight",
    ],
    [
      "model fails to load",
      () => runSweep(unloadable, { ...options, outDir: out }),
      "cannot be loaded",
    ],
    [
      "model fails to load, forced",
      () => runSweep(unloadable, { ...options, outDir: out, force: true }),
      "cannot be loaded",
    ],
    ["every cell fails", () => runSweep(timesOut, { ...options, outDir: out }), "all 1 cells"],
  ];
  for (const [name, run, message] of refused) {
    const error = await assertRejects(run, Error);
    assert(error.message.includes(message), `${name}: ${error.message}`);
    assertEquals(await Deno.readTextFile(path), before, `${name}: preflight.json unchanged`);
  }
});

Deno.test("the spec's telemetry_interval_ms defaults to 0 (off inside the verdict rounds), takes 10-1000 and is range-checked, naming the field", () => {
  const base = { models: ["preset:tiny"], dtypes: ["fp32"], context_lengths: [16] };
  assertEquals(parseSweepSpec(base).telemetry_interval_ms, 0);
  assertEquals(parseSweepSpec({ ...base, telemetry_interval_ms: 100 }).telemetry_interval_ms, 100);
  assertEquals(parseSweepSpec({ ...base, telemetry_interval_ms: 0 }).telemetry_interval_ms, 0);
  for (const bad of [5, 5000, "100", -1]) {
    assertThrows(
      () => parseSweepSpec({ ...base, telemetry_interval_ms: bad }),
      TypeError,
      "$.telemetry_interval_ms",
    );
  }
});
