/**
 * Comparisons the report asks across a setup (one model on one device at its smallest batch):
 * the rows of one arm at one context, two arms compared at that context with the block's A/A
 * interval as the floor, and every block's verdicts with their context, batch and family.
 *
 * @module
 */
import type { AnalysisRow, BlockAnalysis, BlockOptions } from "./block.ts";
import { analyzeBlock, blocksOf } from "./block.ts";
import { compare, type Comparison } from "./compare.ts";
import type { Interval } from "./cell.ts";

/** Where an arm was measured. */
export interface ArmAt {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Batch. */
  batch: number;
  /** Context, tokens. */
  context_tokens: number;
  /** Weight dtype. */
  dtype: string;
  /** KV cache on or off. @default true */
  use_cache?: boolean;
}

/**
 * The ok rows of one arm (not the A/A control) at one context, every prompt family.
 *
 * @param rows Results rows.
 * @param at The arm and where.
 * @returns Its rows.
 */
export function armRows<T extends AnalysisRow>(rows: readonly T[], at: ArmAt): T[] {
  const cache = at.use_cache ?? true;
  return rows.filter((r) =>
    r.status === "ok" && (r.replica ?? 0) === 0 && r.model === at.model && r.device === at.device &&
    r.batch === at.batch && r.context_tokens === at.context_tokens && r.dtype === at.dtype &&
    r.use_cache === cache
  );
}

/** A block's analysis with where it was measured. */
export interface PlacedBlock extends BlockAnalysis {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Context, tokens. */
  context_tokens: number;
  /** Batch. */
  batch: number;
  /** Prompt family. */
  family: string;
}

/**
 * Every block of some rows, analysed (see `analyzeBlock`), in first-seen order.
 *
 * @param rows Results rows (the A/A control's included).
 * @param options Baseline dtype and minimum effect.
 * @returns One analysis per block.
 */
export function analyzeBlocks(
  rows: readonly AnalysisRow[],
  options: BlockOptions = {},
): PlacedBlock[] {
  return [...blocksOf(rows).values()].map((mine) => {
    const first = mine[0]!;
    return {
      ...analyzeBlock(mine, options),
      model: first.model,
      device: first.device,
      context_tokens: first.context_tokens,
      batch: first.batch,
      family: first.family,
    };
  });
}

/**
 * The A/A interval of the blocks at one place; with several prompt families, the widest span of
 * their intervals (the most cautious floor); null when none has one.
 *
 * @param blocks From {@linkcode analyzeBlocks}.
 * @param at Model, device, batch and context.
 * @returns The floor, or null.
 */
export function aaFloor(
  blocks: readonly PlacedBlock[],
  at: Omit<ArmAt, "dtype" | "use_cache">,
): Interval | null {
  const intervals = blocks.filter((b) =>
    b.model === at.model && b.device === at.device && b.batch === at.batch &&
    b.context_tokens === at.context_tokens && b.aa_ci95 !== null
  ).map((b) => b.aa_ci95!);
  if (intervals.length === 0) return null;
  return [Math.min(...intervals.map((i) => i[0])), Math.max(...intervals.map((i) => i[1]))];
}

/**
 * Compares arm A with arm B at one place, with the A/A floor of its blocks.
 *
 * @param rows Results rows.
 * @param blocks From {@linkcode analyzeBlocks} over the same rows.
 * @param a Arm A (the one judged faster or slower).
 * @param b Arm B (the reference).
 * @param comparisons Family size (Bonferroni). @default 1
 * @returns The comparison (A ÷ B).
 */
export function compareArms(
  rows: readonly AnalysisRow[],
  blocks: readonly PlacedBlock[],
  a: ArmAt,
  b: ArmAt,
  comparisons = 1,
): Comparison {
  return compare(armRows(rows, a), armRows(rows, b), {
    aa: aaFloor(blocks, a),
    comparisons,
  });
}
