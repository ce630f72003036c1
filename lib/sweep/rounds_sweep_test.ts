import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { readTable } from "../results/table.ts";
import { ensureModel } from "../model/mod.ts";
import { runSweep } from "./orchestrator.ts";
import { parseSweepSpec } from "./spec.ts";
import { readBlocks } from "./run_files.ts";

await ensureModel("tiny", { dtypes: ["fp32", "q8"] });

const spec = parseSweepSpec({
  name: "rounds-test",
  models: ["preset:tiny"],
  dtypes: ["fp32", "q8"],
  use_cache: [true, false],
  context_lengths: [16],
  prompts_per_length: 1,
  max_new_tokens: 64,
  max_new_tokens_no_cache: 8,
  min_rep_seconds: 0.02,
  warmup: 1,
  runs: 1,
  min_rounds: 3,
  max_rounds: 3,
  aa_control: true,
});
const options = { skipProbe: true, skipOutputs: true, log: () => {} };

Deno.test("a block's arms and its A/A control run in the same rounds, each row saying where it ran", async () => {
  const out = await Deno.makeTempDir();
  const summary = await runSweep(spec, { ...options, outDir: out });
  // fp32 is the baseline (no fp16 in the grid): 4 arms + its A/A control.
  assertEquals([summary.cellsOk, summary.cellsFailed], [5, 0]);
  const rows = await readTable(join(out, "benchmarks", "results.csv"), "bench");
  assertEquals(rows.length, 5 * 3);
  const aa = rows.filter((r) => r.replica === 1);
  assertEquals(aa.length, 3);
  assert(aa.every((r) => r.cell_id.endsWith("~aa") && r.dtype === "fp32" && r.use_cache));
  assertEquals(
    new Set(rows.map((r) => r.block)),
    new Set(["preset:tiny|cpu|ctx=16|b=1|conversational"]),
  );
  for (const round of [1, 2, 3]) {
    const positions = rows.filter((r) => r.round === round).map((r) => r.round_position).sort();
    assertEquals(positions, [0, 1, 2, 3, 4], `round ${round}: each arm once, each position once`);
  }
  // The time floor decides the tokens: at least one decode step, at most the cap.
  for (const r of rows) {
    const cap = r.use_cache ? 64 : 8;
    assert(r.new_tokens >= 2 && r.new_tokens <= cap, `${r.run_id}: ${r.new_tokens}`);
    // It stopped at the floor (0.02 s of decoding) or at the cap, never before both.
    assert(r.decode_ms! >= 20 || r.new_tokens === cap, `${r.run_id}: ${r.decode_ms} ms`);
  }
  if (Deno.build.os === "linux") {
    assert(rows.every((r) => typeof r.sched_wait_ms === "number" && r.sched_wait_ms >= 0));
  }
  const blocks = await readBlocks(join(out, "benchmarks", "blocks.json"));
  assertEquals(blocks.map((b) => [b.rounds, b.stop, b.telemetry]), [[3, "max_rounds", false]]);
});

Deno.test("rounds stop as soon as the injected check says the block is settled", async () => {
  const out = await Deno.makeTempDir();
  const summary = await runSweep({ ...spec, max_rounds: 6 }, {
    ...options,
    outDir: out,
    settled: (rows) => new Set(rows.map((r) => r.round)).size >= 4,
  });
  assertEquals(summary.blocks.map((b) => [b.rounds, b.stop, b.settled]), [[4, "settled", true]]);
});

Deno.test("a forced run never mixes runs; a budget stop names the missing cells and how to resume; a dry run counts no stale cell", async () => {
  const out = await Deno.makeTempDir();
  const path = join(out, "benchmarks", "results.csv");
  const two = {
    ...spec,
    context_lengths: [16, 24],
    use_cache: [true],
    dtypes: ["fp32"],
    aa_control: false,
    min_rounds: 1,
    max_rounds: 1,
  };
  await runSweep(parseSweepSpec(two), { ...options, outDir: out });
  assertEquals(
    new Set((await readTable(path, "bench")).map((r) => r.context_tokens)),
    new Set([16, 24]),
  );

  // Another spec's rows are never counted as finished, not even by a dry run.
  const more = parseSweepSpec({ ...two, runs: 2 });
  const dry = await runSweep(more, { ...options, outDir: out, dryRun: true });
  assertEquals([dry.cellsTotal, dry.cellsSkipped], [2, 0]);

  // A forced run of a smaller grid: the old ctx=24 rows are gone, not merged in.
  const one = parseSweepSpec({ ...two, context_lengths: [16] });
  await runSweep(one, { ...options, outDir: out, force: true });
  const rows = await readTable(path, "bench");
  assertEquals(new Set(rows.map((r) => r.context_tokens)), new Set([16]));
  await Deno.stat(join(out, "benchmarks", ".staging")).then(
    () => assert(false, "the staging folder is gone after the run"),
    () => {},
  );

  // A budget that is spent before the first block: nothing measured, the cells named.
  const lines: string[] = [];
  const stopped = await runSweep(parseSweepSpec({ ...two, time_budget_s: 0.001 }), {
    ...options,
    outDir: out,
    force: true,
    log: (l) => lines.push(l),
    resumeCommand: "deno task sweep --config two.json",
  });
  assertEquals(stopped.cellsLeft, 2);
  const text = lines.join("\n");
  assert(text.includes("time budget reached: 2 cells not measured"), text);
  assert(text.includes("preset:tiny|fp32|cpu|cache=on|ctx=24|b=1"), text);
  assert(
    text.includes(
      "resume (keeps this run's finished blocks, measures the rest): deno task sweep --config two.json",
    ),
    text,
  );
  // A forced run that measured nothing is abandoned: the previous run's files stay.
  assert(text.includes("nothing measured within the budget: the previous results"), text);
  assertEquals(
    new Set((await readTable(path, "bench")).map((r) => r.context_tokens)),
    new Set([16]),
  );
});
