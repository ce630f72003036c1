import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
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
  perplexity: { dtypes: ["fp16", "q4"], max_tokens: 4096 },
});

Deno.test("planShards(): every cell in exactly one shard, groups whole, the same plan every time", () => {
  const grid = expandGrid(big).map((c) => c.id);
  for (const n of [1, 2, 3, 4, 7, 10, 13]) {
    const plan = planShards(big, n);
    const cells = plan.shards.flatMap((_, i) => shardCells(plan, i).map((c) => c.id));
    assertEquals([...cells].sort(), [...grid].sort(), `${n} shards cover the grid once`);
    for (const [i, s] of plan.shards.entries()) {
      const mine = shardCells(plan, i);
      assertEquals(mine.map((c) => c.id), grid.filter((id) => mine.some((c) => c.id === id)));
      for (const g of s.groups) {
        assertEquals(g.cells.length, grid.filter((id) => id.startsWith(`${g.key}|`)).length);
      }
    }
    assertEquals(JSON.stringify(planShards(big, n)), JSON.stringify(plan), "deterministic");
  }
  // 10 groups on 13 shards: three are empty, none is run twice.
  assertEquals(planShards(big, 13).shards.filter((s) => s.groups.length === 0).length, 3);
  assert(formatPlan(planShards(big, 13)).includes("empty: more shards than model+dtype groups"));
});

Deno.test("planShards(): balances by cost (LPT) and runs a model's perplexity with its baseline group", () => {
  const plan = planShards(big, 3);
  const costs = plan.shards.map((s) => s.costMs);
  const groups = plan.shards.flatMap((s) => s.groups).map((g) => g.costMs);
  // Greedy LPT: no shard exceeds the lightest by more than the largest group.
  assert(Math.max(...costs) - Math.min(...costs) <= Math.max(...groups), costs.join());
  const owners = plan.shards.flatMap((s) =>
    s.groups.filter((g) => g.perplexity).map((g) => [s.index, g.key] as const)
  );
  assertEquals(owners.map(([, key]) => key).sort(), ["a|fp16", "b|fp16"]);
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
