/**
 * The comparison of the project's decode with another engine's (llama.cpp) on the same weights:
 * both measured in the same interleaved rounds, with a second, independent run of the other engine
 * in every round as the A/A control. The statistics are the block comparison's (`compare`): the
 * geometric mean of per-round ratios, its t interval, the verdict held against the A/A interval;
 * beside it the ratio of the medians over rounds, and, when a target ratio is set, whether the
 * interval clears it.
 *
 * @module
 */
import type { Interval, RepRow } from "./cell.ts";
import { pooledRate } from "./cell.ts";
import { aaFloorLog, compare, type Comparison } from "./compare.ts";
import { summarize } from "../measure/stats.ts";

/** Whether a ratio reaches a target: judged on its interval, not its point. */
export type TargetVerdict = "met" | "missed" | "not established";

/**
 * Judges a ratio against a target: `met` when the whole interval lies at or above it, `missed`
 * when it lies below, `not established` when it straddles the target, is missing, or when the
 * ratio's distance from the target is within the A/A floor (two identical runs differ that much).
 *
 * @param ci The ratio's interval (null: too few rounds).
 * @param target The target ratio.
 * @param ratio The ratio (its point estimate), for the A/A check. @default the interval's centre
 * @param aa The A/A interval. @default none
 * @returns The verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetVerdict } from "./versus.ts";
 * assert.equal(targetVerdict([0.85, 0.95], 0.8), "met");
 * assert.equal(targetVerdict([0.6, 0.7], 0.8), "missed");
 * assert.equal(targetVerdict([0.7, 0.9], 0.8), "not established");
 * assert.equal(targetVerdict(null, 0.8), "not established");
 * // Clear of the target, but no farther from it than two identical llama.cpp runs differ.
 * assert.equal(targetVerdict([1.01, 1.05], 1.0, 1.03, [0.9, 1.12]), "not established");
 * ```
 */
export function targetVerdict(
  ci: Interval | null,
  target: number,
  ratio: number | null = ci === null ? null : Math.sqrt(ci[0] * ci[1]),
  aa: Interval | null = null,
): TargetVerdict {
  if (ci === null || ratio === null) return "not established";
  if (aa !== null && Math.abs(Math.log(ratio / target)) <= aaFloorLog(aa)) {
    return "not established";
  }
  if (ci[0] >= target) return "met";
  if (ci[1] < target) return "missed";
  return "not established";
}

/** One cell of the comparison: one model, dtype and context. */
export interface VersusCellStats {
  /** Rounds in which both engines decoded. */
  rounds: number;
  /** Median over rounds of this project's decode tokens/s. */
  ours_median: number | null;
  /** Median over rounds of the other engine's decode tokens/s (its first run of each round). */
  theirs_median: number | null;
  /** `ours_median ÷ theirs_median`. */
  ratio_of_medians: number | null;
  /** Ours ÷ theirs, paired per round, with interval and verdict (A/A-held). */
  comparison: Comparison;
  /** The other engine's A/A: its second run ÷ its first, per round. */
  aa: Comparison;
  /** The target ratio, when one was set. */
  target: number | null;
  /** The comparison against the target (interval and A/A floor); null without a target. */
  target_verdict: TargetVerdict | null;
}

/**
 * The statistics of one cell from its raw rows.
 *
 * @param ours This project's rows (one or more per round).
 * @param theirs The other engine's first run of each round.
 * @param theirsAgain Its second run of each round (the A/A control).
 * @param target Target ratio ours ÷ theirs, or null.
 * @returns Medians, the paired comparison, the A/A, the target verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versusCell } from "./versus.ts";
 * const rep = (round: number, ms: number) => ({ round, new_tokens: 32, batch: 1, decode_ms: ms, status: "ok" as const });
 * const ours = [1, 2, 3, 4, 5].map((r) => rep(r, 100 + r));
 * const theirs = [1, 2, 3, 4, 5].map((r) => rep(r, 80 + r));
 * const again = [1, 2, 3, 4, 5].map((r) => rep(r, 80 + (r % 2)));
 * const c = versusCell(ours, theirs, again, 0.5);
 * assert(c.comparison.ratio! < 1 && c.target_verdict === "met");
 * assert.equal(c.rounds, 5);
 * ```
 */
export function versusCell(
  ours: readonly RepRow[],
  theirs: readonly RepRow[],
  theirsAgain: readonly RepRow[],
  target: number | null,
): VersusCellStats {
  const aa = compare(theirsAgain, theirs);
  const comparison = compare(ours, theirs, { aa: aa.ci95 });
  const median = (rows: readonly RepRow[]) => {
    const rates = rows.map((r) => pooledRate([r])).filter((x): x is number => x !== null);
    return rates.length > 0 ? summarize(rates).p50 : null;
  };
  const o = median(ours);
  const t = median(theirs);
  return {
    rounds: comparison.rounds,
    ours_median: o,
    theirs_median: t,
    ratio_of_medians: o !== null && t !== null ? o / t : null,
    comparison,
    aa,
    target,
    target_verdict: target === null
      ? null
      : targetVerdict(comparison.ci95, target, comparison.ratio, aa.ci95),
  };
}
