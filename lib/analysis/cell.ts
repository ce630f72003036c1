/**
 * One benchmark cell's decode rate: pooled over its repetitions (Σ decode tokens ÷ Σ decode time),
 * with a 95 % interval from its rounds, never from back-to-back repetitions.
 *
 * A round is one pass over every live arm of a block; repetitions inside a round share the
 * machine's state of that moment, so they are not independent samples of the cell's speed. The
 * interval therefore uses one number per round (that round's pooled rate) and the spread between
 * rounds: `pooled · exp(± t(0.975, k − 1) · s / √k)`, `s` the standard deviation of the k
 * log round rates. On the log scale the interval is never negative and matches the ratios of
 * `compare`. Fewer than two rounds give no interval (rows written before rounds existed are one
 * round per cell).
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import { studentTQuantile } from "./student_t.ts";

/** The fields of a results row the cell statistics read. */
export type RepRow =
  & Pick<
    BenchRow,
    "new_tokens" | "batch" | "decode_ms" | "status"
  >
  & { round?: number | null };

/** A [low, high] interval. */
export type Interval = [number, number];

/**
 * Decode tokens of one repetition: `(new_tokens − 1) · batch` (the first token belongs to the
 * prefill); 0 for a failed row, a row without decode time, or one that made a single token.
 *
 * @param row A results row.
 * @returns Tokens decoded.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeTokens } from "./cell.ts";
 * assert.equal(decodeTokens({ new_tokens: 33, batch: 2, decode_ms: 100, status: "ok" }), 64);
 * ```
 */
export function decodeTokens(row: RepRow): number {
  if (row.status !== "ok" || row.decode_ms === null || !(row.decode_ms > 0)) return 0;
  return row.new_tokens >= 2 ? (row.new_tokens - 1) * row.batch : 0;
}

/**
 * Pooled decode rate of some repetitions: Σ decode tokens ÷ Σ decode time, tokens/s.
 *
 * @param rows Results rows (failed ones are ignored).
 * @returns Tokens/s, or null without a decode step.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pooledRate } from "./cell.ts";
 * const rep = (n: number, ms: number) => ({ new_tokens: n, batch: 1, decode_ms: ms, status: "ok" as const });
 * assert.equal(pooledRate([rep(11, 100), rep(31, 100)]), 200); // 40 tokens in 0.2 s
 * ```
 */
export function pooledRate(rows: readonly RepRow[]): number | null {
  let tokens = 0;
  let ms = 0;
  for (const row of rows) {
    const t = decodeTokens(row);
    if (t === 0) continue;
    tokens += t;
    ms += row.decode_ms!;
  }
  return ms > 0 ? tokens / ms * 1000 : null;
}

/**
 * The round of a row; rows written before rounds existed count as round 1 (one round per cell).
 *
 * @param row A results row.
 * @returns The 1-based round.
 */
export function roundOf(row: { round?: number | null }): number {
  return row.round ?? 1;
}

/**
 * Rows grouped by round, in round order. Rows that name their block are grouped by block and
 * round, so round 3 of one prompt family's block is never pooled with round 3 of another's.
 *
 * @param rows Results rows.
 * @returns Map from `block#round` (`#round` without a block) to its rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byRound } from "./cell.ts";
 * assert.deepEqual([...byRound([{ round: 2 }, { round: 1 }, {}]).keys()], ["#1", "#2"]);
 * ```
 */
export function byRound<T extends { round?: number | null; block?: string | null }>(
  rows: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, { round: number; block: string; rows: T[] }>();
  for (const row of rows) {
    const block = row.block ?? "";
    const key = `${block}#${roundOf(row)}`;
    const group = groups.get(key);
    if (group) group.rows.push(row);
    else groups.set(key, { round: roundOf(row), block, rows: [row] });
  }
  return new Map(
    [...groups.entries()]
      .sort((a, b) => a[1].round - b[1].round || (a[1].block < b[1].block ? -1 : 1))
      .map(([key, g]) => [key, g.rows]),
  );
}

/** One cell's decode statistics. */
export interface CellRate {
  /** Ok repetitions with decode steps. */
  reps: number;
  /** Rounds with at least one such repetition. */
  rounds: number;
  /** Pooled decode tokens/s over every repetition; null without a decode step. */
  decode_tokens_per_s: number | null;
  /** 95 % interval of that rate from the rounds; null below two rounds. */
  ci95: Interval | null;
  /** Pooled rate of each round, in round order. */
  round_rates: number[];
}

/**
 * The cell's pooled decode rate and its interval from rounds.
 *
 * @param rows The cell's results rows (one arm of one block).
 * @returns Repetitions, rounds, the pooled rate and its interval.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellRate } from "./cell.ts";
 * const rep = (round: number, ms: number) => ({ round, new_tokens: 11, batch: 1, decode_ms: ms, status: "ok" as const });
 * const c = cellRate([rep(1, 100), rep(2, 110), rep(3, 90)]);
 * assert.equal(c.rounds, 3);
 * assert(c.ci95 !== null && c.ci95[0] < c.decode_tokens_per_s! && c.decode_tokens_per_s! < c.ci95[1]);
 * assert.equal(cellRate([{ new_tokens: 11, batch: 1, decode_ms: 100, status: "ok" }]).ci95, null);
 * ```
 */
export function cellRate(rows: readonly RepRow[]): CellRate {
  const decoding = rows.filter((r) => decodeTokens(r) > 0);
  const roundRates = [...byRound(decoding).values()].map((rs) => pooledRate(rs)!);
  const rate = pooledRate(decoding);
  const k = roundRates.length;
  let ci95: Interval | null = null;
  if (rate !== null && k >= 2) {
    const half = logHalfWidth(roundRates.map(Math.log), 0.05);
    ci95 = [rate * Math.exp(-half), rate * Math.exp(half)];
  }
  return {
    reps: decoding.length,
    rounds: k,
    decode_tokens_per_s: rate,
    ci95,
    round_rates: roundRates,
  };
}

/**
 * Half width of the two-sided `1 − alpha` t interval of the mean of `logs`:
 * `t(1 − alpha/2, k − 1) · s / √k`.
 *
 * @param logs At least two numbers.
 * @param alpha The error rate of the interval (0.05 for 95 %).
 * @returns The half width.
 */
export function logHalfWidth(logs: readonly number[], alpha: number): number {
  const k = logs.length;
  if (k < 2) throw new RangeError(`logHalfWidth: needs two rounds, got ${k}`);
  const mean = logs.reduce((a, b) => a + b, 0) / k;
  const s = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1));
  return studentTQuantile(1 - alpha / 2, k - 1) * s / Math.sqrt(k);
}
