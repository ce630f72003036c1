/**
 * The paired comparison of two arms of one block: one ratio of pooled decode rates per round, the
 * geometric mean of those ratios with a t interval over rounds, and a verdict.
 *
 * Why rounds: the arms of a block run interleaved, one round after another, so a round's ratio
 * cancels whatever slowed the machine during that round (clock, other processes, thermal state).
 * The k round ratios are the independent samples; their logs get a t interval with k − 1 degrees
 * of freedom. A bootstrap over rounds then repetitions would need many more rounds than a short
 * sweep runs to be trusted; the t interval on log ratios is exact for log-normal round ratios and
 * honest (wide) with few rounds.
 *
 * Several arms compared with one baseline are one family: each interval is at level
 * `1 − 0.05 / m` (Bonferroni, m = the number of comparisons), so all m intervals hold together
 * with 95 % probability. Holm's step-down gives tests, not intervals, which is why Bonferroni is
 * used.
 *
 * @module
 */
import { byRound, type Interval, pooledRate, type RepRow } from "./cell.ts";
import { studentTQuantile } from "./student_t.ts";

/** Smallest relative speed change reported as a difference (the one `history --compare` uses). */
export const MIN_EFFECT = 0.1;

/** The verdict of a speed comparison. */
export type SpeedVerdict = "faster" | "slower" | "not established";

/** Options of {@linkcode compare}. */
export interface CompareOptions {
  /**
   * The block's A/A interval. Its floor is the A/A's largest distance from 1 on the log scale,
   * `max(|ln low|, |ln high|)`: an effect no larger than that (in either direction) is not
   * established.
   */
  aa?: Interval | null;
  /** Comparisons in the family (Bonferroni). @default 1 */
  comparisons?: number;
  /** Minimum relative effect. @default MIN_EFFECT */
  minEffect?: number;
}

/** A comparison of arm A with arm B (A ÷ B: above 1 means A decodes faster). */
export interface Comparison {
  /** Geometric mean of the per-round ratios; null without a shared round. */
  ratio: number | null;
  /** Interval of the ratio at level 1 − 0.05 / comparisons; null below two shared rounds. */
  ci95: Interval | null;
  /** Rounds in which both arms decoded. */
  rounds: number;
  /** A ÷ B per shared round, in round order. */
  round_ratios: number[];
  /** The A/A interval the verdict was held against; null when none. */
  aa_floor: Interval | null;
  /** Family size of the Bonferroni correction. */
  comparisons: number;
  /** `faster` / `slower` (A against B), or `not established`. */
  verdict: SpeedVerdict;
  /** Whether more rounds would not change the verdict: the interval lies clear of the ±minEffect band, or inside it. */
  settled: boolean;
  /** One line saying why. */
  reason: string;
}

/**
 * Compares arm A with arm B round by round.
 *
 * @param rowsA Arm A's results rows (every round).
 * @param rowsB Arm B's results rows.
 * @param options A/A interval, family size, minimum effect.
 * @returns Ratio, interval, rounds and verdict.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compare } from "./compare.ts";
 * const rep = (round: number, ms: number) => ({ round, new_tokens: 101, batch: 1, decode_ms: ms, status: "ok" as const });
 * const slow = [1, 2, 3, 4].map((r) => rep(r, 1300 + r));
 * const fast = [1, 2, 3, 4].map((r) => rep(r, 1000 + r));
 * const c = compare(fast, slow);
 * assert.equal(c.verdict, "faster");
 * assert(c.ratio! > 1.29 && c.ratio! < 1.31);
 * ```
 */
export function compare(
  rowsA: readonly RepRow[],
  rowsB: readonly RepRow[],
  options: CompareOptions = {},
): Comparison {
  const minEffect = options.minEffect ?? MIN_EFFECT;
  const comparisons = Math.max(1, options.comparisons ?? 1);
  const aa = options.aa ?? null;
  const a = byRound(rowsA);
  const b = byRound(rowsB);
  const ratios: number[] = [];
  for (const [round, rows] of a) {
    const ra = pooledRate(rows);
    const rb = pooledRate(b.get(round) ?? []);
    if (ra !== null && rb !== null) ratios.push(ra / rb);
  }
  const k = ratios.length;
  const base = { rounds: k, round_ratios: ratios, aa_floor: aa, comparisons };
  if (k === 0) {
    return {
      ...base,
      ratio: null,
      ci95: null,
      verdict: "not established",
      settled: false,
      reason: "the arms share no round: they were not measured side by side",
    };
  }
  const logs = ratios.map(Math.log);
  const meanLog = logs.reduce((x, y) => x + y, 0) / k;
  const ratio = Math.exp(meanLog);
  if (k === 1) {
    return {
      ...base,
      ratio,
      ci95: null,
      verdict: "not established",
      settled: false,
      reason: "one round: no interval between rounds, so no difference can be established",
    };
  }
  const s = Math.sqrt(logs.reduce((x, y) => x + (y - meanLog) ** 2, 0) / (k - 1));
  const half = studentTQuantile(1 - 0.05 / (2 * comparisons), k - 1) * s / Math.sqrt(k);
  const ci95: Interval = [Math.exp(meanLog - half), Math.exp(meanLog + half)];
  const settled = bandSettled(ci95, minEffect);
  const pct = `${Math.round(minEffect * 100)} %`;
  let verdict: SpeedVerdict = "not established";
  let reason: string;
  if (ci95[0] <= 1 && ci95[1] >= 1) reason = "the interval contains 1";
  else if (Math.abs(ratio - 1) < minEffect) reason = `the effect is below the ${pct} minimum`;
  else if (aa !== null && Math.abs(meanLog) <= aaFloorLog(aa)) {
    reason = "the effect lies inside the A/A interval";
  } else {
    verdict = ratio > 1 ? "faster" : "slower";
    reason = `interval clear of 1 and the effect is at least ${pct}`;
  }
  return { ...base, ratio, ci95, verdict, settled, reason };
}

/**
 * The A/A floor on the log scale: how far from 1 the A/A interval reaches, `max(|ln low|,
 * |ln high|)`. Which of two identical workers is called the baseline is arbitrary, so the floor is
 * symmetric: an A/A interval of [0.98, 1.15] says two identical workers can differ by 15 % either
 * way, and an arm at 0.88× is inside that floor although 0.88 is not inside [0.98, 1.15]. The
 * floor uses the reach, not the half width, so an A/A control with a systematic offset (an
 * interval clear of 1) raises the floor by that offset.
 *
 * @param aa The A/A interval.
 * @returns The floor, ≥ 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aaFloorLog } from "./compare.ts";
 * assert(Math.abs(aaFloorLog([0.98, 1.15]) - Math.log(1.15)) < 1e-12);
 * assert(Math.abs(aaFloorLog([0.8, 1.05]) - Math.log(1.25)) < 1e-12);
 * ```
 */
export function aaFloorLog(aa: Interval): number {
  return Math.max(Math.abs(Math.log(aa[0])), Math.abs(Math.log(aa[1])));
}

/**
 * Whether an interval is settled against the ±`minEffect` band around 1: wholly outside it
 * (a difference of at least that size) or wholly inside it (no difference that large).
 *
 * @param ci The interval of a ratio.
 * @param minEffect The band's half width. @default MIN_EFFECT
 * @returns Whether more rounds would not change the answer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bandSettled } from "./compare.ts";
 * assert.equal(bandSettled([1.15, 1.4]), true);
 * assert.equal(bandSettled([0.95, 1.05]), true);
 * assert.equal(bandSettled([0.95, 1.2]), false);
 * ```
 */
export function bandSettled(ci: Interval | null, minEffect: number = MIN_EFFECT): boolean {
  if (ci === null) return false;
  const [lo, hi] = [1 - minEffect, 1 + minEffect];
  return ci[0] > hi || ci[1] < lo || (ci[0] >= lo && ci[1] <= hi);
}
