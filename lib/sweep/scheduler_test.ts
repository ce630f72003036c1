import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";
import type { BenchRow } from "../results/schema.ts";
import { readTable } from "../results/table.ts";
import { type Cell, cellId } from "./grid.ts";
import { runSweep } from "./orchestrator.ts";
import type { Provenance } from "./protocol.ts";
import { runBlock } from "./block_runner.ts";
import { parseSweepSpec } from "./spec.ts";
import { CRASH_AT_ENV } from "./worker.ts";

const provenance: Provenance = {
  gitCommit: "test",
  denoVersion: Deno.version.deno,
  ortVersion: "",
  transformersVersion: "",
  cpuName: "cpu",
  gpuName: null,
};
const quiet = () => {};
const options = { skipProbe: true, skipOutputs: true, log: quiet };

function cell(model: string, useCache: boolean, contextTokens: number): Cell {
  const coords = {
    model,
    dtype: "fp32" as const,
    device: "cpu" as const,
    useCache,
    contextTokens,
    batch: 1,
  };
  return { id: cellId(coords), ...coords };
}

/** Each cell as a block of one arm, one after the other (each arm is its own worker). */
async function run(spec: ReturnType<typeof parseSweepSpec>, cells: Cell[]) {
  const out = new Map<string, BenchRow[]>();
  for (const cell of cells) {
    const result = await runBlock(
      spec,
      { id: cell.id, arms: [cell], baseline: null, aa: null },
      provenance,
    );
    if (result === "budget") throw new Error("no budget was set");
    out.set(cell.id, result.rows.get(cell.id)!);
  }
  return out;
}

const rssOnLinux = Deno.build.os === "linux" ? false : "peak RSS is read from /proc (Linux only)";
if (rssOnLinux) console.log(`skipped: ${rssOnLinux}`);

Deno.test({
  name:
    "runBlock() measures a small arm after a large one as if it ran alone (a live worker per arm)",
  ignore: rssOnLinux !== false,
  fn: async () => {
    // `small` (12.6 M parameters): without the cache, 2048 tokens grow ORT's CPU arena by
    // hundreds of MB, which a worker reused for the next cell would carry into its peak.
    await ensureModel("small", { dtypes: ["fp32"] });
    const spec = parseSweepSpec({
      models: ["preset:small"],
      dtypes: ["fp32"],
      context_lengths: [128],
      prompts_per_length: 1,
      max_new_tokens: 2,
      warmup: 0,
      runs: 1,
      min_rounds: 1,
      max_rounds: 1,
      min_rep_seconds: 0,
    });
    const large = cell("preset:small", false, 2048);
    const small = cell("preset:small", true, 128);
    const after = await run(spec, [large, small]);
    const alone = await run(spec, [small]);
    const peak = (rows: BenchRow[] | undefined) => {
      assertEquals(rows?.[0]?.status, "ok", rows?.[0]?.error);
      return rows![0]!.peak_rss_bytes!;
    };
    const largePeak = peak(after.get(large.id));
    const smallAfter = peak(after.get(small.id));
    const smallAlone = peak(alone.get(small.id));
    assert(
      largePeak > smallAlone * 1.3,
      `the large cell must be large: ${largePeak} vs ${smallAlone}`,
    );
    const drift = Math.abs(smallAfter - smallAlone) / smallAlone;
    assert(drift < 0.1, `small cell after a large one ${smallAfter} vs alone ${smallAlone}`);
    const rows = after.get(small.id)!;
    // The baseline is the RSS with the model loaded; a turn's peak starts from the RSS at the turn
    // (the kernel's peak is reset then), which can be below the baseline when memory was returned
    // in between: the increase is never negative.
    const baseline = rows[0]!.rss_baseline_bytes!;
    assert(baseline > 0);
    assertEquals(rows[0]!.peak_rss_increase_bytes, Math.max(0, smallAfter - baseline));
    assert(rows[0]!.load1_before !== null && rows[0]!.load1_after !== null);
  },
});

const tiny = parseSweepSpec({
  name: "test",
  models: ["preset:tiny"],
  dtypes: ["fp32"],
  use_cache: [true],
  context_lengths: [16],
  prompts_per_length: 1,
  max_new_tokens: 3,
  warmup: 0,
  runs: 1,
  // One arm, one round: these tests are about the sweep's plumbing, not its rounds.
  min_rounds: 1,
  max_rounds: 1,
  aa_control: false,
});

Deno.test("runSweep() stops before the first cell on a model that does not exist, writing nothing", async () => {
  const out = await Deno.makeTempDir();
  const missing = join(out, "no-such-model");
  await assertRejects(
    () => runSweep(parseSweepSpec({ ...tiny, models: [missing] }), { ...options, outDir: out }),
    Error,
    `$.models[0] ('${missing}') not found`,
  );
  await assertRejects(
    () => Deno.stat(join(out, "benchmarks", "results.csv")),
    Deno.errors.NotFound,
  );
});

Deno.test("runSweep() stops before the first cell on random bytes as ONNX", async () => {
  const out = await Deno.makeTempDir();
  const built = await ensureModel("tiny", { dtypes: ["fp32"] });
  const dir = join(out, "garbage-model");
  await Deno.mkdir(join(dir, "onnx"), { recursive: true });
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(built, f), join(dir, f));
  }
  await Deno.writeFile(
    join(dir, "onnx", "model.onnx"),
    crypto.getRandomValues(new Uint8Array(4096)),
  );
  await assertRejects(
    () => runSweep(parseSweepSpec({ ...tiny, models: [dir] }), { ...options, outDir: out }),
    Error,
    "$.models[0]",
  );
});

Deno.test("runSweep() fails when every cell failed and leaves the previous results untouched", async () => {
  const out = await Deno.makeTempDir();
  await runSweep(tiny, { ...options, outDir: out });
  const path = join(out, "benchmarks", "results.csv");
  const before = await Deno.readTextFile(path);
  assertEquals((await readTable(path, "bench"))[0]!.status, "ok");
  const only = "preset:tiny|fp32|cpu|cache=on|ctx=16|b=1";
  await assertRejects(
    () =>
      runSweep(tiny, { ...options, outDir: out, force: true, workerEnv: { [CRASH_AT_ENV]: only } }),
    Error,
    "all 1 cells that ran failed",
  );
  assertEquals(await Deno.readTextFile(path), before);
});

Deno.test("runSweep() rows say the preset's weights are random", async () => {
  const out = await Deno.makeTempDir();
  await runSweep(tiny, { ...options, outDir: out });
  const rows = await readTable(join(out, "benchmarks", "results.csv"), "bench");
  assertEquals(rows.map((r) => r.weights), ["random"]);
});
