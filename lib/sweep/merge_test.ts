// A small sweep run as 3 shards in parallel processes, each given its index the way a scheduler
// gives it (Kubernetes' JOB_COMPLETION_INDEX, Slurm's SLURM_ARRAY_* variables, the --shard flag),
// merged, and compared with the same sweep unsharded; then the merge's refusals.
import { TelemetryStore } from "./telemetry_store.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureModel } from "../model/mod.ts";
import { readTable } from "../results/table.ts";
import { expandGrid } from "./grid.ts";
import { groupBlocks } from "./blocks.ts";
import { planMerge, readShardOutput, type ShardOutput } from "./merge.ts";
import { runSweep } from "./orchestrator.ts";
import { specHash } from "./shard.ts";
import { parseSweepSpec } from "./spec.ts";

const SWEEP_CLI = fileURLToPath(new URL("../cli/sweep.ts", import.meta.url));
const MERGE_CLI = fileURLToPath(new URL("../cli/merge.ts", import.meta.url));

const SPEC = {
  name: "shard-test",
  models: ["preset:tiny"],
  dtypes: ["fp32", "fp16", "q8"],
  use_cache: [true],
  context_lengths: [16, 24, 32],
  prompts_per_length: 1,
  max_new_tokens: 3,
  warmup: 0,
  runs: 2,
  min_rounds: 2,
  max_rounds: 2,
  aa_control: true,
  // One shard measures the perplexity; the two others must still write their outputs.
  perplexity: { dtypes: ["fp32"], window: 16, stride: 8, max_tokens: 48 },
  telemetry_interval_ms: 10,
};
const spec = parseSweepSpec(SPEC);

// Build the tiny model's dtypes once, so the three shards do not all build them at once.
await ensureModel("tiny", { dtypes: ["fp32", "fp16", "q8"] });

const NO_SCHEDULER = {
  JOB_COMPLETION_INDEX: "",
  TURBO_SHARDS: "",
  SLURM_ARRAY_TASK_ID: "",
  SLURM_ARRAY_TASK_MIN: "",
  SLURM_ARRAY_TASK_COUNT: "",
};

async function cli(script: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: { ...NO_SCHEDULER, TURBO_HISTORY_DB: "off", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const dir = await Deno.makeTempDir();
const specPath = join(dir, "spec.json");
await Deno.writeTextFile(specPath, JSON.stringify(SPEC));
const shardDir = (i: number) => join(dir, `shard-${i}`);
const common = ["--config", specPath, "--no-probe"];

Deno.test("3 shards in parallel (Indexed Job, Slurm array, --shard) merge into the unsharded sweep's cells", async () => {
  const [k8s, slurm, flag, whole] = await Promise.all([
    cli(SWEEP_CLI, [...common, "--shards", "3", "--out", shardDir(0)], {
      JOB_COMPLETION_INDEX: "0",
      TURBO_HOST: "pod-a",
    }),
    // Slurm numbers an array submitted as --array=4-6 from 4: task 5 is shard 1.
    cli(SWEEP_CLI, [...common, "--out", shardDir(1)], {
      SLURM_ARRAY_TASK_ID: "5",
      SLURM_ARRAY_TASK_MIN: "4",
      SLURM_ARRAY_TASK_COUNT: "3",
      TURBO_HOST: "node-b",
    }),
    cli(SWEEP_CLI, [...common, "--shard", "2/3", "--out", shardDir(2)], { TURBO_HOST: "node-b" }),
    runSweep(spec, { outDir: join(dir, "whole"), skipProbe: true, skipOutputs: true, log() {} }),
  ]);
  for (const r of [k8s, slurm, flag]) assertEquals(r.code, 0, r.stderr);
  assert(k8s.stderr.includes("shard 0/3 (from JOB_COMPLETION_INDEX)"), k8s.stderr);
  assert(slurm.stderr.includes("shard 1/3 (from SLURM_ARRAY_TASK_ID)"), slurm.stderr);
  // 3 dtypes at 3 lengths, and the A/A control of fp16 at each length.
  const blocks = groupBlocks(spec, expandGrid(spec));
  const arms = blocks.flatMap((b) => b.arms).map((c) => c.id);
  assertEquals(whole.cellsOk, 12);
  assertEquals(arms.length, 12);

  const merged = join(dir, "merged");
  const m = await cli(MERGE_CLI, [shardDir(0), shardDir(1), shardDir(2), "--out", merged]);
  assertEquals(m.code, 0, m.stderr);
  const rows = await readTable(join(merged, "benchmarks", "results.csv"), "bench");
  const unsharded = await readTable(join(dir, "whole", "benchmarks", "results.csv"), "bench");
  const cells = (rs: typeof rows) => [...new Set(rs.map((r) => r.cell_id))].sort();
  assertEquals(cells(rows), cells(unsharded));
  assertEquals(cells(rows), arms.sort());
  assertEquals(rows.map((r) => r.run_id).sort(), unsharded.map((r) => r.run_id).sort());
  assert(rows.every((r) => r.status === "ok" && r.spec_hash === specHash(spec)));
  assertEquals([...new Set(rows.map((r) => r.shard))].sort(), ["0/3", "1/3", "2/3"]);
  assertEquals([...new Set(unsharded.map((r) => r.shard))], [""]);
  // Whole blocks: every arm of a block, its A/A control included, ran on one shard.
  for (const block of blocks) {
    const own = rows.filter((r) => block.arms.some((c) => c.id === r.cell_id));
    assertEquals(new Set(own.map((r) => r.cell_id)).size, block.arms.length, block.id);
    assertEquals(new Set(own.map((r) => r.shard)).size, 1, `${block.id} on one shard`);
  }
  const info = JSON.parse(await Deno.readTextFile(join(merged, "benchmarks", "merge.json")));
  assertEquals(info.missing_cells, []);
  const ppl = await readTable(join(merged, "benchmarks", "perplexity.csv"), "perplexity");
  assertEquals(ppl.map((r) => [r.model, r.dtype, r.status]), [["preset:tiny", "fp32", "ok"]]);
  const first = blocks[0]!.arms[0]!.id;
  assertEquals(ppl[0]!.shard, rows.find((r) => r.cell_id === first)!.shard, "with its first block");
  assertEquals(info.shards.map((s: { shard: string }) => s.shard), ["0/3", "1/3", "2/3"]);
  assertEquals(info.hosts.map((h: { host: string }) => h.host), ["node-b", "pod-a"]);
  const report = await Deno.readTextFile(join(merged, "metrics", "report.md"));
  assert(report.includes("## Per host") && report.includes("| pod-a | 4 |"), "per-host section");
  await Deno.stat(join(merged, "benchmarks", "summary.csv"));
  // Every shard's telemetry and pre-flight verdicts reach the merged outputs, labelled by shard.
  const shardSeries = await Promise.all(
    [0, 1, 2].map((i) => TelemetryStore.load(join(shardDir(i), "benchmarks", "telemetry.csv"))),
  );
  const mergedSeries = await TelemetryStore.load(join(merged, "benchmarks", "telemetry.csv"));
  assert(mergedSeries.cells().length > 0, "merged telemetry.csv has cells");
  assertEquals(mergedSeries.cells().sort(), shardSeries.flatMap((s) => s.cells()).sort());
  const pre = JSON.parse(await Deno.readTextFile(join(merged, "benchmarks", "preflight.json")));
  const tags = new Set(pre.checks.map((c: { name: string }) => c.name.split("]")[0] + "]"));
  assertEquals([...tags].sort(), ["[0/3 pod-a]", "[1/3 node-b]", "[2/3 node-b]"]);

  // A shard given twice is refused, naming a cell, and nothing is written.
  const again = await cli(MERGE_CLI, [shardDir(0), shardDir(1), shardDir(1), "--out", `${dir}/x`]);
  assertEquals(again.code, 1);
  assert(again.stderr.includes("duplicated cell preset:tiny|"), again.stderr);
  await assertRejects(() => Deno.stat(`${dir}/x`), Deno.errors.NotFound);

  // A missing shard: merged, its cells listed.
  const zero = await readShardOutput(shardDir(0));
  const partial = planMerge([zero], null);
  assertEquals(partial.missingCells.length, 12 - new Set(zero.rows.map((r) => r.cell_id)).size);
});

function output(name: string, host: string, cells: string[], hash = specHash(spec)): ShardOutput {
  return {
    dir: name,
    rows: cells.map((cell_id) =>
      ({ cell_id, run_id: `${cell_id}#0#0`, host, spec_hash: hash }) as never
    ),
    perplexity: [],
    manifest: null,
  };
}

Deno.test("planMerge(): conflicting hosts, another spec, cells off the grid and no spec are errors naming them", () => {
  const [a, b, c] = expandGrid(spec).map((cell) => cell.id);
  assertThrows(
    () => planMerge([output("s0", "h1", [a!, b!]), output("s1", "h2", [b!])], spec),
    Error,
    `conflicting cell ${b} (s0 on host h1, s1 on host h2)`,
  );
  assertThrows(
    () => planMerge([output("s0", "h1", [a!]), output("s1", "h1", [c!], "0123456789abcdef")], spec),
    Error,
    "'s1': 1 rows have spec_hash 0123456789abcdef, not the spec's",
  );
  assertThrows(
    () => planMerge([output("s0", "h1", ["preset:tiny|q4|cpu|cache=on|ctx=16|b=1"])], spec),
    Error,
    "cells not in the spec's grid: preset:tiny|q4",
  );
  assertThrows(() => planMerge([output("s0", "h1", [a!])], null), Error, "pass --config");
  const empty = (dir: string, shard: string) => ({ ...output(dir, "h1", []), manifest: { shard } });
  assertThrows(
    () => planMerge([empty("s3", "3/4"), empty("s3b", "3/4")], spec),
    Error,
    "duplicated shards: shard 3/4 (s3 and s3b)",
  );
  assertThrows(
    () => planMerge([empty("s1", "1/4"), empty("t1", "1/3")], spec),
    Error,
    "shards of different counts (1/4, 1/3)",
  );
  const ok = planMerge([output("s0", "h1", [c!]), output("s1", "h2", [a!])], spec);
  assertEquals(ok.rows.map((r) => r.cell_id), [a, c], "grid order");
  const arms = groupBlocks(spec, expandGrid(spec)).flatMap((b) => b.arms);
  assertEquals(ok.missingCells.length, arms.length - 2, "the A/A controls are cells of the grid");
});
