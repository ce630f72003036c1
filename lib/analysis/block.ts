/**
 * One block's verdicts: every arm (dtype × cache mode) of one model × device × context × batch ×
 * prompt family against the block's baseline arm, the A/A control against the baseline, and
 * whether the block is settled (what the sweep's adaptive loop asks after each round).
 *
 * The baseline arm is `baseline_dtype` (fp16 when measured, else the first dtype in the project's
 * dtype order) with the cache on; the A/A arm is a second live worker of it (`replica` 1). The
 * non-baseline arms form one Bonferroni family.
 *
 * @module
 */
import { DTYPES } from "../dtypes.ts";
import type { BenchRow } from "../results/schema.ts";
import type { Interval } from "./cell.ts";
import { compare, type Comparison, MIN_EFFECT } from "./compare.ts";

/**
 * A results row as lib/analysis reads it: the columns of a designed sweep (`round`,
 * `round_position`, `replica`, `block`) are optional, so rows written before them still read.
 */
export type AnalysisRow =
  & Pick<
    BenchRow,
    | "model"
    | "device"
    | "dtype"
    | "use_cache"
    | "context_tokens"
    | "batch"
    | "family"
    | "new_tokens"
    | "decode_ms"
    | "status"
  >
  & {
    /** 1-based round; absent or null in rows written before rounds existed. */
    round?: number | null;
    /** 0 for a normal arm, 1 for the A/A control (a second worker of the baseline arm). */
    replica?: number | null;
    /** Block id; absent in older rows (then model, device, context, batch and family). */
    block?: string | null;
  };

/** Options of the block analysis. */
export interface BlockOptions {
  /**
   * The baseline dtype (the spec's `baseline_dtype`); default the A/A control's dtype, else
   * fp16, else the first dtype.
   */
  baselineDtype?: string;
  /** Minimum relative effect. @default MIN_EFFECT */
  minEffect?: number;
  /**
   * Looks of a stopping rule the intervals must survive: each interval's α is further divided by
   * it (see {@linkcode blockSettled}). @default 1
   */
  looks?: number;
}

/** One arm's verdict against the baseline. */
export interface ArmVerdict extends Comparison {
  /** `fp16 cache on`, `q4 cache off`, or `fp16 cache on ~aa` for the A/A control. */
  arm: string;
  /** Weight dtype. */
  dtype: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Whether this is the A/A control. */
  aa: boolean;
}

/** A block's analysis. */
export interface BlockAnalysis {
  /** Block id. */
  block: string;
  /** The baseline arm. */
  baseline: string;
  /** The A/A control ÷ the baseline; null when the block has no A/A arm. */
  aa_ratio: number | null;
  /** Its 95 % interval; null without an A/A arm or below two rounds. */
  aa_ci95: Interval | null;
  /** Every arm against the baseline, the A/A control first. */
  verdicts: ArmVerdict[];
  /** Whether every verdict is settled (true when there is nothing to compare). */
  settled: boolean;
}

/**
 * The block a row belongs to: its `block` column, else model × device × context × batch × family.
 *
 * @param row A results row.
 * @returns The block id.
 */
export function blockOf(row: AnalysisRow): string {
  // An empty block (a CSV written before the column, read as text) counts as absent.
  return row.block ||
    `${row.model}|${row.device}|${row.context_tokens}|b${row.batch}|${row.family}`;
}

/**
 * The arm label of a row.
 *
 * @param row A results row.
 * @returns `dtype cache on|off`, with ` ~aa` for the A/A control.
 */
export function armOf(row: Pick<AnalysisRow, "dtype" | "use_cache" | "replica">): string {
  return `${row.dtype} cache ${row.use_cache ? "on" : "off"}${
    (row.replica ?? 0) > 0 ? " ~aa" : ""
  }`;
}

/**
 * The baseline dtype of some rows: the one asked for when present, else fp16, else the first in
 * the project's dtype order.
 *
 * @param dtypes The dtypes measured.
 * @param wanted The spec's `baseline_dtype`, if any.
 * @returns The baseline dtype, or undefined without dtypes.
 */
export function baselineDtype(dtypes: readonly string[], wanted?: string): string | undefined {
  if (wanted !== undefined && dtypes.includes(wanted)) return wanted;
  if (dtypes.includes("fp16")) return "fp16";
  const rank = (d: string) => {
    const i = (DTYPES as readonly string[]).indexOf(d);
    return i < 0 ? DTYPES.length : i;
  };
  return [...dtypes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
}

/**
 * Analyses the rows of one block.
 *
 * @param rows The block's rows (every arm, every round).
 * @param options Baseline dtype and minimum effect.
 * @returns The A/A ratio and interval and each arm's verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { analyzeBlock } from "./block.ts";
 * const rep = (dtype: string, round: number, ms: number, replica = 0) => ({
 *   model: "m", device: "cpu", dtype, use_cache: true, context_tokens: 128, batch: 1,
 *   family: "code", new_tokens: 101, decode_ms: ms, status: "ok" as const, round, replica,
 * });
 * const rows = [1, 2, 3].flatMap((r) => [rep("fp16", r, 1000 + r), rep("fp16", r, 1004 - r, 1), rep("q4", r, 700 + r)]);
 * const a = analyzeBlock(rows);
 * assert.equal(a.baseline, "fp16 cache on");
 * assert(a.aa_ci95![0] <= 1 && 1 <= a.aa_ci95![1]);
 * assert.equal(a.verdicts.find((v) => v.dtype === "q4")!.verdict, "faster");
 * ```
 */
export function analyzeBlock(
  rows: readonly AnalysisRow[],
  options: BlockOptions = {},
): BlockAnalysis {
  const minEffect = options.minEffect ?? MIN_EFFECT;
  const looks = Math.max(1, options.looks ?? 1);
  const ok = rows.filter((r) => r.status === "ok");
  const block = rows.length > 0 ? blockOf(rows[0]!) : "";
  // The A/A control is a second worker of the baseline arm, so its dtype names the baseline the
  // sweep used when the caller does not say (the spec's baseline_dtype need not be fp16).
  const control = ok.find((r) => (r.replica ?? 0) > 0 && r.use_cache);
  const base = baselineDtype(
    [...new Set(ok.map((r) => r.dtype))],
    options.baselineDtype ?? control?.dtype,
  );
  const arms = new Map<string, AnalysisRow[]>();
  for (const row of ok) {
    const key = armOf(row);
    const list = arms.get(key);
    if (list) list.push(row);
    else arms.set(key, [row]);
  }
  const baseline = base === undefined ? "" : armOf({ dtype: base, use_cache: true, replica: 0 });
  const baseRows = arms.get(baseline);
  if (baseRows === undefined) {
    // No baseline rows (it failed, or the block is empty): nothing more rounds could decide.
    return { block, baseline, aa_ratio: null, aa_ci95: null, verdicts: [], settled: true };
  }
  const aaKey = `${baseline} ~aa`;
  const aaRows = arms.get(aaKey);
  const verdicts: ArmVerdict[] = [];
  let aaInterval: Interval | null = null;
  let aaRatio: number | null = null;
  if (aaRows !== undefined) {
    const c = compare(aaRows, baseRows, { minEffect, comparisons: looks });
    aaRatio = c.ratio;
    aaInterval = c.ci95;
    verdicts.push({ ...c, ...armFields(aaRows[0]!, aaKey, true) });
  }
  // Replica rows are controls, never arms of the family (nor pooled into one).
  const others = [...arms.keys()].filter((k) => k !== baseline && !k.endsWith(" ~aa"));
  for (const key of others) {
    const mine = arms.get(key)!;
    const c = compare(mine, baseRows, {
      aa: aaInterval,
      comparisons: others.length * looks,
      minEffect,
    });
    verdicts.push({ ...c, ...armFields(mine[0]!, key, false) });
  }
  return {
    block,
    baseline,
    aa_ratio: aaRatio,
    aa_ci95: aaInterval,
    verdicts,
    settled: verdicts.every((v) => v.settled),
  };
}

function armFields(row: AnalysisRow, arm: string, aa: boolean) {
  return { arm, dtype: row.dtype, use_cache: row.use_cache, aa };
}

/**
 * Splits rows into blocks, in first-seen order.
 *
 * @param rows Results rows.
 * @returns Map from block id to its rows.
 */
export function blocksOf<T extends AnalysisRow>(rows: readonly T[]): Map<string, T[]> {
  const blocks = new Map<string, T[]>();
  for (const row of rows) {
    const key = blockOf(row);
    const list = blocks.get(key);
    if (list) list.push(row);
    else blocks.set(key, [row]);
  }
  return blocks;
}

/** Options of {@linkcode blockSettled}. */
export interface SettledOptions extends Omit<BlockOptions, "looks"> {
  /** No verdict is settled before this many shared rounds. @default MIN_SETTLED_ROUNDS */
  minRounds?: number;
  /**
   * Rounds after which the loop may ask, `max_rounds − min_rounds + 1`: the α of every
   * interval of the stopping rule is divided by it (Bonferroni over the looks). @default 1
   */
  looks?: number;
}

/**
 * Fewest rounds before a block may stop: with two rounds the t quantile has one degree of freedom
 * and the sample spread of two log ratios is itself a coin toss, so an interval that looks narrow
 * after two rounds is often narrow by chance.
 */
export const MIN_SETTLED_ROUNDS = 3;

/** What the sweep's adaptive loop reads after each round. */
export interface BlockSettled {
  /** Whether every verdict of the block is settled (stop adding rounds). */
  settled: boolean;
  /** Each arm against the baseline, the A/A control included. */
  verdicts: Array<
    { arm: string; ratio: number | null; ci95: Interval | null; settled: boolean; rounds: number }
  >;
}

/**
 * Whether one block's verdicts are settled: every interval clear of the ±10 % band or inside it,
 * each resting on at least `minRounds` rounds. Pure: the sweep calls it after each round with the
 * block's rows so far.
 *
 * Optional stopping: a loop that asks after every round and stops the first time the intervals
 * look settled picks its stopping point by the noise it sees, which inflates the error of the
 * verdict it stops on. `deno run lib/analysis/stopping_sim.ts` simulates it (log-normal round
 * ratios, no true difference, one arm, rounds 3 to 8): stopping at the first settled look gives a
 * false faster/slower verdict in 7.6 % of blocks at 30 % round-to-round noise and 11.8 % at 100 %
 * (5.1 % when all 8 rounds run); from two rounds on it is 11.9 % already at 50 %. Dividing the
 * stopping rule's α by the number of looks (`looks`, Bonferroni over looks, the simplest α
 * spending) brings those to 5.5 % and 6.3 %, within about a point of the fixed design, at the
 * price of more rounds before a clear difference stops the block (a 1.3× arm at 10 % noise: 6.0
 * rounds instead of 4.3). The verdicts the report prints come from `analyzeBlock` at the
 * ordinary level.
 *
 * @param rows The block's rows so far.
 * @param opts Baseline dtype, minimum effect, minimum rounds and looks.
 * @returns Settled or not, and each verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockSettled } from "./block.ts";
 * const rep = (dtype: string, round: number) => ({ model: "m", device: "cpu", dtype, use_cache: true,
 *   context_tokens: 128, batch: 1, family: "code", new_tokens: 101, decode_ms: 1000, status: "ok" as const, round });
 * assert.equal(blockSettled([rep("fp16", 1), rep("q4", 1)]).settled, false); // one round
 * ```
 */
export function blockSettled(
  rows: readonly AnalysisRow[],
  opts: SettledOptions = {},
): BlockSettled {
  const minRounds = Math.max(2, opts.minRounds ?? MIN_SETTLED_ROUNDS);
  const a = analyzeBlock(rows, opts);
  const verdicts = a.verdicts.map((v) => ({
    arm: v.arm,
    ratio: v.ratio,
    ci95: v.ci95,
    settled: v.settled && v.rounds >= minRounds,
    rounds: v.rounds,
  }));
  return { settled: verdicts.every((v) => v.settled), verdicts };
}
