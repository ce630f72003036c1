import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readTable } from "../results/table.ts";
import { ensureModel } from "../model/mod.ts";
import { runSweep } from "./orchestrator.ts";
import { parseSweepSpec } from "./spec.ts";
import { CRASH_AFTER_ENV, CRASH_AT_ENV } from "./worker.ts";

// Build the tiny model once up front so every sweep below finds it in the cache.
await ensureModel("tiny", { dtypes: ["fp32"] });

const quiet = () => {};
const spec = parseSweepSpec({
  name: "test",
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
});
const options = { skipProbe: true, skipOutputs: true, log: quiet };
const crashCell = "preset:tiny|fp32|cpu|cache=off|ctx=16|b=1";

function ids(rows: { run_id: string }[]): string[] {
  return rows.map((r) => r.run_id).sort();
}

Deno.test("runSweep() records a killed worker's cell as an error row, goes on, and a resume redoes only that cell's block", async () => {
  const out = await Deno.makeTempDir();
  const first = await runSweep(spec, {
    ...options,
    outDir: out,
    workerEnv: { [CRASH_AT_ENV]: crashCell },
  });
  assertEquals([first.cellsOk, first.cellsFailed], [3, 1]);
  const path = join(out, "benchmarks", "results.csv");
  const rows = await readTable(path, "bench");
  const crashed = rows.filter((r) => r.cell_id === crashCell);
  assertEquals(crashed.length, 1);
  assertEquals(crashed[0]!.status, "error");
  assert(crashed[0]!.error.includes("SIGKILL"), crashed[0]!.error);
  assertEquals(rows.filter((r) => r.status === "ok").length, 3 * 2);

  // The crashed cell's block (ctx=16: cache on and off, measured in the same rounds) runs again
  // as a whole; the other block is skipped.
  const second = await runSweep(spec, { ...options, outDir: out });
  assertEquals([second.cellsSkipped, second.cellsOk, second.cellsFailed], [2, 2, 0]);
  const after = await readTable(path, "bench");
  assertEquals(after.length, 4 * 2);
  assertEquals(new Set(ids(after)).size, after.length, "no duplicated run");
  assert(after.every((r) => r.status === "ok"));
  const untouched = (rs: typeof rows) =>
    rs.filter((r) => r.context_tokens !== 16).map((r) => `${r.run_id}@${r.timestamp}`).sort();
  assertEquals(untouched(after), untouched(rows), "finished blocks were skipped, not rerun");
});

Deno.test("a kill -9 of the whole sweep leaves a readable results.csv without partial rows; resume completes it", async () => {
  const out = await Deno.makeTempDir();
  const specPath = join(out, "spec.json");
  await Deno.writeTextFile(
    specPath,
    JSON.stringify({ ...spec, context_lengths: [64, 128, 192, 256], max_new_tokens: 48, runs: 3 }),
  );
  const cli = fileURLToPath(new URL("../cli/sweep.ts", import.meta.url));
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "run", "-A", cli, "--config", specPath, "--out", out, "--no-probe"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const path = join(out, "benchmarks", "results.csv");
  let seen = 0;
  for (let i = 0; i < 600 && seen === 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await readTable(path, "bench").then((r) => r.length, () => 0);
  }
  Deno.kill(-child.pid, "SIGKILL"); // the whole process group: orchestrator and worker
  await child.status;
  assert(seen > 0, "the sweep wrote at least one cell before the kill");
  const partial = await readTable(path, "bench");
  const perCell = Map.groupBy(partial, (r) => r.cell_id);
  assert(perCell.size < 8, "killed before the end");
  for (const [cell, rows] of perCell) assertEquals(rows.length, 3, `cell ${cell} is whole`);

  const resumed = await runSweep(parseSweepSpec(JSON.parse(await Deno.readTextFile(specPath))), {
    ...options,
    outDir: out,
  });
  assertEquals(resumed.cellsSkipped, perCell.size);
  const rows = await readTable(path, "bench");
  assertEquals(rows.length, 8 * 3);
  assertEquals(new Set(ids(rows)).size, rows.length);
});

Deno.test("a resume with more runs or other max_new_tokens redoes the cells instead of keeping stale rows", async () => {
  const out = await Deno.makeTempDir();
  const small = { ...spec, use_cache: [true], context_lengths: [16], runs: 1 };
  await runSweep(parseSweepSpec(small), { ...options, outDir: out });
  const path = join(out, "benchmarks", "results.csv");
  assertEquals((await readTable(path, "bench")).length, 1);

  const again = await runSweep(parseSweepSpec(small), { ...options, outDir: out });
  assertEquals([again.cellsSkipped, again.cellsOk], [1, 0], "an unchanged spec skips the cell");

  const more = await runSweep(parseSweepSpec({ ...small, runs: 2 }), { ...options, outDir: out });
  assertEquals([more.cellsSkipped, more.cellsOk], [0, 1]);
  assertEquals((await readTable(path, "bench")).map((r) => r.run_index).sort(), [0, 1]);

  const longer = await runSweep(parseSweepSpec({ ...small, runs: 2, max_new_tokens: 4 }), {
    ...options,
    outDir: out,
  });
  assertEquals([longer.cellsSkipped, longer.cellsOk], [0, 1]);
  const rows = await readTable(path, "bench");
  assertEquals(rows.map((r) => r.new_tokens), [4, 4]);
});

Deno.test("past the time budget no worker starts: cells are left for a resume, not failed", async () => {
  const out = await Deno.makeTempDir();
  // The first cell's worker takes longer than the budget to start: it stops before its cell,
  // and no worker starts for the other cells.
  const summary = await runSweep(
    parseSweepSpec({ ...spec, time_budget_s: 0.05 }),
    { ...options, outDir: out },
  );
  assertEquals([summary.cellsOk, summary.cellsFailed, summary.cellsLeft], [0, 0, 4]);
  assertEquals(await readTable(join(out, "benchmarks", "results.csv"), "bench"), []);
});

Deno.test("runSweep() turns an unloadable dtype into error rows for its cells and finishes the rest", async () => {
  const out = await Deno.makeTempDir();
  const summary = await runSweep(
    parseSweepSpec({ ...spec, dtypes: ["bnb4", "fp32"], use_cache: [true], context_lengths: [16] }),
    { ...options, outDir: out },
  );
  assertEquals([summary.cellsOk, summary.cellsFailed], [1, 1]);
  const rows = await readTable(join(out, "benchmarks", "results.csv"), "bench");
  const failed = rows.filter((r) => r.status === "error");
  assertEquals(failed.map((r) => r.dtype), ["bnb4"]);
  assert(failed[0]!.error.includes("bnb4"), failed[0]!.error);
});

Deno.test("runSweep() refuses a corrupt results.csv and overwrites nothing", async () => {
  const out = await Deno.makeTempDir();
  await Deno.mkdir(join(out, "benchmarks"));
  const path = join(out, "benchmarks", "results.csv");
  await Deno.writeTextFile(path, "not,a,results,file\n1,2,3,4\n");
  const err = await assertRejects(
    () => runSweep(spec, { ...options, outDir: out }),
    Error,
    "corrupt",
  );
  assert(err.message.includes("Nothing was overwritten"), err.message);
  assertEquals(await Deno.readTextFile(path), "not,a,results,file\n1,2,3,4\n");
});

Deno.test("runSweep() rejects an unwritable output dir and a context beyond the model", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "plain-file");
  await Deno.writeTextFile(file, "");
  await assertRejects(() => runSweep(spec, { ...options, outDir: file }), Error, "not writable");
  await assertRejects(
    () =>
      runSweep(parseSweepSpec({ ...spec, context_lengths: [16, 510] }), {
        ...options,
        outDir: dir,
      }),
    TypeError,
    "$.context_lengths[1] (510) + $.max_new_tokens (3) exceeds the 512 positions of $.models[0]",
  );
});

Deno.test("runSweep() keeps a cell whose worker dies right after reporting it, and goes on", async () => {
  const out = await Deno.makeTempDir();
  const firstCell = "preset:tiny|fp32|cpu|cache=on|ctx=16|b=1";
  const summary = await runSweep(spec, {
    ...options,
    outDir: out,
    workerEnv: { [CRASH_AFTER_ENV]: firstCell },
  });
  assertEquals([summary.cellsOk, summary.cellsFailed], [4, 0]);
  const rows = await readTable(join(out, "benchmarks", "results.csv"), "bench");
  assertEquals(rows.length, 4 * 2);
  assert(rows.every((r) => r.status === "ok"));
});

Deno.test("runSweep() bounds loading the model by cell_timeout_s and says why", async () => {
  const out = await Deno.makeTempDir();
  // Every cell times out, so the run fails as a whole, with the reason, and writes nothing.
  await assertRejects(
    () =>
      runSweep(
        parseSweepSpec({
          ...spec,
          use_cache: [true],
          context_lengths: [16],
          cell_timeout_s: 0.001,
        }),
        { ...options, outDir: out },
      ),
    Error,
    "loading the model took longer than cell_timeout_s",
  );
});
