/**
 * A simple paired ratio over rounds (private): per round, the arm's pooled rate divided by the
 * baseline's pooled rate in the same round; over rounds, their geometric mean with a Student t
 * interval on the log ratios. The round loop's tests and the speed tool's table use it; the
 * report's verdicts use the analysis layer's comparison.
 *
 * @module
 */
import { studentTQuantile975 } from "./_student_t.ts";
import type { RoundRecord } from "./rounds.ts";

/** A decode measurement to pool: tokens decoded and the time they took. */
export interface PooledRep {
  /** Decode steps (tokens after the first) × batch. */
  tokens: number;
  /** Their time, ms. */
  ms: number;
}

/** A ratio over rounds. */
export interface PairedRatio {
  /** Geometric mean of the per-round ratios. */
  ratio: number;
  /** t interval (95 %) of the geometric mean; null below two rounds. */
  ci95: [number, number] | null;
  /** The per-round ratios, in round order. */
  perRound: number[];
}

/**
 * The arm's speed relative to the baseline, paired by round.
 *
 * @param records Round records of both arms.
 * @param armId The arm.
 * @param baselineId The baseline arm.
 * @param rep How a record's result reads as tokens and time.
 * @returns The ratio (> 1: the arm is faster), or null when no round has both arms.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairedRatio } from "./_paired_ratio.ts";
 * const rec = (armId: string, round: number, ms: number) => ({ armId, round, position: 0, result: { tokens: 10, ms } });
 * const r = pairedRatio([rec("a", 1, 100), rec("b", 1, 50), rec("a", 2, 100), rec("b", 2, 50)], "b", "a", (x) => x)!;
 * assert.equal(r.ratio, 2);
 * ```
 */
export function pairedRatio<R>(
  records: readonly RoundRecord<R>[],
  armId: string,
  baselineId: string,
  rep: (result: R) => PooledRep | null,
): PairedRatio | null {
  const rate = (id: string, round: number) => {
    let tokens = 0;
    let ms = 0;
    for (const r of records) {
      if (r.armId !== id || r.round !== round) continue;
      const p = rep(r.result);
      if (p === null) continue;
      tokens += p.tokens;
      ms += p.ms;
    }
    return tokens > 0 && ms > 0 ? tokens / ms : null;
  };
  const rounds = [...new Set(records.map((r) => r.round))].sort((a, b) => a - b);
  const perRound: number[] = [];
  for (const round of rounds) {
    const a = rate(armId, round);
    const b = rate(baselineId, round);
    if (a !== null && b !== null) perRound.push(a / b);
  }
  if (perRound.length === 0) return null;
  const logs = perRound.map(Math.log);
  const mean = logs.reduce((s, x) => s + x, 0) / logs.length;
  if (logs.length < 2) return { ratio: Math.exp(mean), ci95: null, perRound };
  const sd = Math.sqrt(logs.reduce((s, x) => s + (x - mean) ** 2, 0) / (logs.length - 1));
  const half = studentTQuantile975(logs.length - 1) * sd / Math.sqrt(logs.length);
  return { ratio: Math.exp(mean), ci95: [Math.exp(mean - half), Math.exp(mean + half)], perRound };
}
