import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { groupBlocks } from "./blocks.ts";
import { expandGrid } from "./grid.ts";
import { resolveShard, rowStamp, specHash } from "./shard.ts";
import { formatPlan, planShards, shardCells, shardPerplexityModels } from "./shard_plan.ts";
import { parseSweepSpec } from "./spec.ts";

Deno.test("resolveShard(): flags first, then JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, never both", () => {
  const both = { JOB_COMPLETION_INDEX: "1", TURBO_SHARDS: "4", SLURM_ARRAY_TASK_ID: "0" };
  assertEquals(resolveShard({ shard: "3/4" }, both)?.source, "--shard");
  assertThrows(
    () => resolveShard({}, both),
    RangeError,
    "JOB_COMPLETION_INDEX=1 (Kubernetes) and SLURM_ARRAY_TASK_ID=0 (Slurm) are both set",
  );
  assertEquals(
    resolveShard({}, { JOB_COMPLETION_INDEX: "1", TURBO_SHARDS: "4" }),
    { index: 1, count: 4, source: "JOB_COMPLETION_INDEX" },
  );
  assertEquals(resolveShard({ shards: "4" }, { JOB_COMPLETION_INDEX: "0" })?.count, 4);
  assertEquals(
    resolveShard({ shards: "2" }, { SLURM_ARRAY_TASK_ID: "1" }),
    { index: 1, count: 2, source: "SLURM_ARRAY_TASK_ID" },
  );
  assertEquals(resolveShard({}, { JOB_COMPLETION_INDEX: "" }), null);
});

Deno.test("resolveShard(): inconsistent or malformed values are errors naming the flag or variable", () => {
  const cases: [Parameters<typeof resolveShard>[0], Record<string, string>, RegExp][] = [
    [{ shard: "3/3" }, {}, /--shard 3\/3: shard index 3 must be below the shard count 3/],
    [{ shard: "1of3" }, {}, /--shard must be I\/N/],
    [{ shard: "0/0" }, {}, /--shard's N must be at least 1/],
    [{ shard: "0/3", shards: "4" }, {}, /says 3 shards but --shards says 4/],
    [{ shards: "x" }, {}, /--shards must be a non-negative integer, got 'x'/],
    [{ shards: "3" }, {}, /--shards 3 needs a shard index/],
    [{}, { JOB_COMPLETION_INDEX: "1" }, /JOB_COMPLETION_INDEX=1 is set but not the shard count/],
    [{}, { JOB_COMPLETION_INDEX: "-1", TURBO_SHARDS: "2" }, /JOB_COMPLETION_INDEX must be/],
    [{}, { JOB_COMPLETION_INDEX: "0", TURBO_SHARDS: "two" }, /TURBO_SHARDS must be/],
    [{}, { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" }, /index 4 must be below/],
    [{}, { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MIN: "2" }, /below SLURM_ARRAY_TASK_MIN=2/],
    [{}, { SLURM_ARRAY_TASK_ID: "1" }, /is set but not SLURM_ARRAY_TASK_COUNT/],
    [
      { shards: "3" },
      { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "4" },
      /says 4 shards but --shards says 3/,
    ],
  ];
  for (const [flags, env, message] of cases) {
    const error = assertThrows(() => resolveShard(flags, env), RangeError);
    assert(message.test(error.message), `${JSON.stringify([flags, env])}: ${error.message}`);
  }
});

const big = parseSweepSpec({
  name: "big",
  models: ["a", "b"],
  dtypes: ["fp32", "fp16", "q8", "q4", "q4f16"],
  context_lengths: [128, 512, 2048],
  use_cache: [true, false],
  aa_control: true,
  baseline_dtype: "fp16",
  perplexity: { dtypes: ["fp16", "q4"], max_tokens: 4096 },
});

Deno.test("planShards(): every block whole on one shard (its A/A control too), every cell once, the same plan every time", () => {
  const grid = expandGrid(big).map((c) => c.id);
  const blocks = groupBlocks(big, expandGrid(big));
  assertEquals(blocks.length, 6, "2 models × 3 contexts");
  for (const n of [1, 2, 3, 4, 5, 7, 13]) {
    const plan = planShards(big, n);
    const cells = plan.shards.flatMap((_, i) => shardCells(plan, i).map((c) => c.id));
    assertEquals([...cells].sort(), [...grid].sort(), `${n} shards cover the grid once`);
    // What each shard runs, as the sweep groups it: whole blocks, each with its A/A control.
    const ran = plan.shards.map((_, i) => groupBlocks(big, shardCells(plan, i)));
    for (const block of blocks) {
      const holders = ran.filter((bs) =>
        bs.some((b) => b.id === block.id && b.arms.length === block.arms.length)
      );
      assertEquals(holders.length, 1, `${n} shards: block ${block.id} whole on one shard`);
      assert(block.aa !== null);
      const own = holders[0]!.find((b) => b.id === block.id)!;
      assertEquals(own.aa?.id, block.aa.id, "the A/A control with its baseline");
      assertEquals(own.arms.map((c) => c.id), block.arms.map((c) => c.id));
    }
    for (const [i, s] of plan.shards.entries()) {
      const mine = shardCells(plan, i);
      assertEquals(mine.map((c) => c.id), grid.filter((id) => mine.some((c) => c.id === id)));
      assertEquals(s.arms, ran[i]!.flatMap((b) => b.arms).length, "arms counted with A/A");
    }
    assertEquals(JSON.stringify(planShards(big, n)), JSON.stringify(plan), "deterministic");
  }
  // 6 blocks on 13 shards: seven are empty, none is run twice.
  assertEquals(planShards(big, 13).shards.filter((s) => s.blocks.length === 0).length, 7);
  const text = formatPlan(planShards(big, 13));
  assert(text.includes("empty: more shards than blocks"), text);
  assert(text.includes("a|cpu|ctx=128|b=1|"), text);
  assert(/: 1 blocks, 11 arms, nominal/.test(text), text);
});

Deno.test("planShards(): balances blocks by cost (LPT) and runs each model's perplexity on one shard", () => {
  const plan = planShards(big, 3);
  const costs = plan.shards.map((s) => s.costMs);
  const blocks = plan.shards.flatMap((s) => s.blocks).map((b) => b.costMs);
  // Greedy LPT: no shard exceeds the lightest by more than the largest block.
  assert(Math.max(...costs) - Math.min(...costs) <= Math.max(...blocks), costs.join());
  const owners = plan.shards.flatMap((s) =>
    s.blocks.filter((b) => b.perplexity).map((b) => [s.index, b.key] as const)
  );
  assertEquals(owners.map(([, key]) => key.split("|")[0]).sort(), ["a", "b"]);
  for (const [index, key] of owners) {
    assert(shardPerplexityModels(plan, index).includes(key.split("|")[0]!));
  }
  const all = plan.shards.flatMap((s) => shardPerplexityModels(plan, s.index));
  assertEquals(all.sort(), ["a", "b"], "each model's perplexity on exactly one shard");
});

Deno.test("specHash() and rowStamp(): the name and time limits do not change the hash; the grid does", () => {
  const base = { models: ["m"], dtypes: ["q4"], context_lengths: [8] };
  const h = specHash(parseSweepSpec(base));
  assertEquals(specHash(parseSweepSpec({ ...base, name: "x", cell_timeout_s: 5 })), h);
  assertEquals(specHash(parseSweepSpec({ ...base, runs: 10 })), h, "a default spelt out");
  assert(specHash(parseSweepSpec({ ...base, context_lengths: [16] })) !== h);
  assert(specHash(parseSweepSpec({ ...base, max_new_tokens: 8 })) !== h);
  const spec = parseSweepSpec(base);
  assertEquals(rowStamp(spec, { index: 1, count: 3, source: "--shard" }, { TURBO_HOST: "n1" }), {
    shard: "1/3",
    host: "n1",
    spec_hash: h,
  });
  assertEquals(rowStamp(spec, null, { TURBO_HOST: "n1" }).shard, "");
  assert(rowStamp(spec, null, {}).host.length > 0, "falls back to the hostname");
});
