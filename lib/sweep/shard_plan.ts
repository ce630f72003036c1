/**
 * The shard plan: the grid grouped by model + dtype (a group never splits, so a shard builds or
 * downloads each model file once), each group costed with the sweep's estimate under a fixed
 * nominal cost model (never a probe: every shard, on any machine, must compute the same plan
 * without running anything), then greedy longest-processing-time assignment — the costliest
 * group first, to the least loaded shard, ties to the earlier group and the lower shard.
 * A model's perplexity step runs on the shard holding its baseline dtype's group.
 *
 * @module
 */
import type { Cell } from "./grid.ts";
import { expandGrid } from "./grid.ts";
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

/** Nominal start + model load of one cell's fresh worker, ms (every cell pays it). */
export const NOMINAL_WORKER_START_MS = 1000;

/** One model + dtype group of cells. */
export interface ShardGroup {
  /** `model|dtype`. */
  key: string;
  /** Model reference. */
  model: string;
  /** Dtype. */
  dtype: string;
  /** Its cells, in grid order. */
  cells: Cell[];
  /** Whether the model's perplexity step runs with this group. */
  perplexity: boolean;
  /** Nominal cost, ms (cells + worker starts + perplexity when it runs here). */
  costMs: number;
}

/** One shard of the plan. */
export interface PlannedShard {
  /** 0-based index. */
  index: number;
  /** Its groups, in grid order. */
  groups: ShardGroup[];
  /** Cells in its groups. */
  cells: number;
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
 * Plans `count` shards of a spec's grid.
 *
 * @param spec A validated spec.
 * @param count Number of shards (≥ 1).
 * @returns The plan; a shard may be empty when there are fewer groups than shards.
 * @throws {RangeError} when count is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planShards } from "./shard_plan.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32", "q8", "q4"], context_lengths: [8, 16] });
 * const plan = planShards(spec, 2);
 * assert.deepEqual(plan.shards.map((s) => s.cells), [8, 4]);
 * assert.equal(plan.shards.flatMap((s) => s.groups).length, 3);
 * ```
 */
export function planShards(spec: SweepSpec, count: number): ShardPlan {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`shard count must be a positive integer, got ${count}`);
  }
  const groups = new Map<string, ShardGroup>();
  const grid = expandGrid(spec);
  for (const cell of grid) {
    const key = `${cell.model}|${cell.dtype}`;
    const group = groups.get(key) ??
      { key, model: cell.model, dtype: cell.dtype, cells: [], perplexity: false, costMs: 0 };
    group.cells.push(cell);
    group.costMs += estimateCellMs(spec, cell, NOMINAL_COST_MODEL) + NOMINAL_WORKER_START_MS;
    groups.set(key, group);
  }
  const ordered = [...groups.values()];
  if (spec.perplexity) {
    const pplMs = estimatePerplexityMs(spec, NOMINAL_COST_MODEL);
    for (const model of spec.models) {
      const own = ordered.filter((g) => g.model === model);
      const base = spec.perplexity.dtypes.find((d) => own.some((g) => g.dtype === d));
      const owner = own.find((g) => g.dtype === base) ?? own[0];
      if (owner) {
        owner.perplexity = true;
        owner.costMs += pplMs;
      }
    }
  }
  const shards: PlannedShard[] = Array.from(
    { length: count },
    (_, index) => ({ index, groups: [], cells: 0, costMs: 0 }),
  );
  const rank = new Map(ordered.map((g, i) => [g.key, i]));
  const byCost = [...ordered].sort((a, b) =>
    b.costMs - a.costMs || rank.get(a.key)! - rank.get(b.key)!
  );
  for (const group of byCost) {
    let target = shards[0]!;
    for (const s of shards) if (s.costMs < target.costMs) target = s;
    target.groups.push(group);
    target.cells += group.cells.length;
    target.costMs += group.costMs;
  }
  for (const s of shards) s.groups.sort((a, b) => rank.get(a.key)! - rank.get(b.key)!);
  return { count, shards, grid };
}

/**
 * The cells one shard runs, in grid order.
 *
 * @param plan The plan.
 * @param index The shard.
 * @returns Its cells.
 */
export function shardCells(plan: ShardPlan, index: number): Cell[] {
  const own = new Set(plan.shards[index]?.groups.flatMap((g) => g.cells.map((c) => c.id)) ?? []);
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
  return plan.shards[index]?.groups.filter((g) => g.perplexity).map((g) => g.model) ?? [];
}

/**
 * The plan as text: one block per shard with its cells, nominal cost and share, then its groups.
 *
 * @param plan The plan.
 * @returns Lines for a terminal.
 */
export function formatPlan(plan: ShardPlan): string {
  const total = plan.shards.reduce((a, s) => a + s.costMs, 0) || 1;
  const lines = [
    `${plan.count} shards; cost is the sweep's estimate under a fixed nominal cost model ` +
    `(relative, the same on every machine), not a prediction of wall time`,
  ];
  for (const s of plan.shards) {
    lines.push(
      `shard ${s.index}/${plan.count}: ${s.groups.length} groups, ${s.cells} cells, nominal ` +
        `${(s.costMs / 1000).toFixed(1)} s (${((s.costMs / total) * 100).toFixed(1)} %)` +
        (s.groups.length === 0 ? " — empty: more shards than model+dtype groups" : ""),
    );
    for (const g of s.groups) {
      lines.push(
        `  ${g.key}: ${g.cells.length} cells, nominal ${(g.costMs / 1000).toFixed(1)} s` +
          (g.perplexity ? " (+ perplexity of the model)" : ""),
      );
    }
  }
  return lines.join("\n");
}
