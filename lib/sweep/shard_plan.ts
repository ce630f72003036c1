/**
 * The shard plan: the grid grouped into its blocks (lib/sweep/blocks.ts: one model × device ×
 * context × batch, every dtype × cache-mode arm and the A/A control together — a block's arms are
 * compared round by round, so they must run in the same rounds on the same machine), each block
 * costed with the sweep's estimate under a fixed nominal cost model (never a probe: every shard,
 * on any machine, must compute the same plan without running anything), then greedy
 * longest-processing-time assignment — the costliest block first, to the least loaded shard,
 * ties to the earlier block and the lower shard. A model's perplexity step runs on the shard
 * holding the model's first block in grid order.
 *
 * @module
 */
import type { Cell } from "./grid.ts";
import { expandGrid } from "./grid.ts";
import { groupBlocks } from "./blocks.ts";
import { type CostModel, estimateCellMs, estimatePerplexityMs } from "./estimate.ts";
import type { SweepSpec } from "./spec.ts";

/**
 * The cost model every shard plans with: prefill 0.1 ms/token + 2e-5 ms/token², decode 2 ms +
 * 1 µs per token of context. Only ratios matter; these are the shape of a small model on a CPU.
 */
export const NOMINAL_COST_MODEL: CostModel = {
  prefillMs: (t) => 0.1 * t + 2e-5 * t * t,
  decodeMs: (c) => 2 + 0.001 * c,
};

/** Nominal start + model load of one arm's live worker, ms (every arm pays it). */
export const NOMINAL_WORKER_START_MS = 1000;

/** One block of the plan: all its arms run on one shard. */
export interface ShardBlock {
  /** The block's id (`model|device|ctx=N|b=N|families`, `BenchRow.block`). */
  key: string;
  /** Model reference. */
  model: string;
  /** Its grid cells, in grid order (the A/A control is not a grid cell; it goes with them). */
  cells: Cell[];
  /** Its arms: the grid cells, then the A/A control when the spec asks for one. */
  arms: number;
  /** Whether the model's perplexity step runs with this block. */
  perplexity: boolean;
  /** Nominal cost, ms (every arm's cell + worker start, and perplexity when it runs here). */
  costMs: number;
}

/** One shard of the plan. */
export interface PlannedShard {
  /** 0-based index. */
  index: number;
  /** Its blocks, in grid order. */
  blocks: ShardBlock[];
  /** Arms in its blocks (A/A controls included). */
  arms: number;
  /** Nominal cost, ms. */
  costMs: number;
}

/** The whole plan. */
export interface ShardPlan {
  /** Number of shards. */
  count: number;
  /** The shards, by index. */
  shards: PlannedShard[];
  /** Every cell of the grid, in grid order. */
  grid: Cell[];
}

/**
 * Plans `count` shards of a spec's grid, a block never split between shards.
 *
 * @param spec A validated spec.
 * @param count Number of shards (≥ 1).
 * @returns The plan; a shard may be empty when there are fewer blocks than shards.
 * @throws {RangeError} when count is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planShards } from "./shard_plan.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32", "q8", "q4"], context_lengths: [8, 16, 32], use_cache: [true], aa_control: true });
 * const plan = planShards(spec, 2);
 * // 3 blocks of 4 arms each (3 dtypes + the A/A control): two on one shard, one on the other.
 * assert.deepEqual(plan.shards.map((s) => s.arms).sort(), [4, 8]);
 * assert.equal(plan.shards.flatMap((s) => s.blocks).length, 3);
 * ```
 */
export function planShards(spec: SweepSpec, count: number): ShardPlan {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`shard count must be a positive integer, got ${count}`);
  }
  const grid = expandGrid(spec);
  const ordered: ShardBlock[] = groupBlocks(spec, grid).map((b) => ({
    key: b.id,
    model: b.arms[0]!.model,
    cells: b.aa ? b.arms.filter((c) => c !== b.aa) : b.arms,
    arms: b.arms.length,
    perplexity: false,
    costMs: b.arms.reduce(
      (a, c) => a + estimateCellMs(spec, c, NOMINAL_COST_MODEL) + NOMINAL_WORKER_START_MS,
      0,
    ),
  }));
  if (spec.perplexity) {
    const pplMs = estimatePerplexityMs(spec, NOMINAL_COST_MODEL);
    for (const model of spec.models) {
      const owner = ordered.find((b) => b.model === model);
      if (owner) {
        owner.perplexity = true;
        owner.costMs += pplMs;
      }
    }
  }
  const shards: PlannedShard[] = Array.from(
    { length: count },
    (_, index) => ({ index, blocks: [], arms: 0, costMs: 0 }),
  );
  const rank = new Map(ordered.map((b, i) => [b.key, i]));
  const byCost = [...ordered].sort((a, b) =>
    b.costMs - a.costMs || rank.get(a.key)! - rank.get(b.key)!
  );
  for (const block of byCost) {
    let target = shards[0]!;
    for (const s of shards) if (s.costMs < target.costMs) target = s;
    target.blocks.push(block);
    target.arms += block.arms;
    target.costMs += block.costMs;
  }
  for (const s of shards) s.blocks.sort((a, b) => rank.get(a.key)! - rank.get(b.key)!);
  return { count, shards, grid };
}

/**
 * The grid cells one shard runs, in grid order (its blocks add their A/A controls when grouped).
 *
 * @param plan The plan.
 * @param index The shard.
 * @returns Its cells.
 */
export function shardCells(plan: ShardPlan, index: number): Cell[] {
  const own = new Set(plan.shards[index]?.blocks.flatMap((b) => b.cells.map((c) => c.id)) ?? []);
  return plan.grid.filter((c) => own.has(c.id));
}

/**
 * The models whose perplexity one shard measures.
 *
 * @param plan The plan.
 * @param index The shard.
 * @returns Model references.
 */
export function shardPerplexityModels(plan: ShardPlan, index: number): string[] {
  return plan.shards[index]?.blocks.filter((b) => b.perplexity).map((b) => b.model) ?? [];
}

/**
 * The plan as text: one paragraph per shard with its blocks, arms, nominal cost and share, then
 * each block.
 *
 * @param plan The plan.
 * @returns Lines for a terminal.
 */
export function formatPlan(plan: ShardPlan): string {
  const total = plan.shards.reduce((a, s) => a + s.costMs, 0) || 1;
  const lines = [
    `${plan.count} shards of whole blocks (every arm of a block, A/A control included, on one ` +
    `shard); cost is the sweep's estimate under a fixed nominal cost model (relative, the same ` +
    `on every machine), not a prediction of wall time`,
  ];
  for (const s of plan.shards) {
    lines.push(
      `shard ${s.index}/${plan.count}: ${s.blocks.length} blocks, ${s.arms} arms, nominal ` +
        `${(s.costMs / 1000).toFixed(1)} s (${((s.costMs / total) * 100).toFixed(1)} %)` +
        (s.blocks.length === 0 ? " — empty: more shards than blocks" : ""),
    );
    for (const b of s.blocks) {
      lines.push(
        `  ${b.key}: ${b.arms} arms, nominal ${(b.costMs / 1000).toFixed(1)} s` +
          (b.perplexity ? " (+ perplexity of the model)" : ""),
      );
    }
  }
  return lines.join("\n");
}
