/**
 * The one round loop of every comparison of arms (the sweep's blocks, `deno task speed`): all
 * arms stay live, and each round every arm takes one turn (its repetitions), in an order drawn
 * afresh every round from a seeded generator. Drift of the machine then falls on every arm alike
 * and cancels in a ratio taken within a round, instead of landing on whichever arm ran last.
 *
 * Rounds go on until the caller's `settled` check says every verdict is settled, `maxRounds` is
 * reached, or the next round would pass the soft deadline (after `minRounds`); a hard deadline
 * stops even before `minRounds`. An arm whose turn throws leaves the rounds; the others go on.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";

/** Where a turn falls. */
export interface RoundTurn {
  /** Round, 1-based. */
  round: number;
  /** Position of the arm in this round's order, 0-based. */
  position: number;
}

/** One arm: a live thing that can take a turn (a worker process, a loaded decoder, a fake). */
export interface RoundArm<R> {
  /** Unique id of the arm. */
  id: string;
  /**
   * Runs the arm's repetitions of one round.
   *
   * @param turn Where the turn falls.
   * @returns One result per repetition.
   */
  turn(turn: RoundTurn): Promise<R[]>;
}

/** One repetition's result, with where it ran. */
export interface RoundRecord<R> extends RoundTurn {
  /** The arm. */
  armId: string;
  /** What the arm returned. */
  result: R;
}

/** Why the rounds stopped. */
export type RoundStop = "settled" | "max_rounds" | "budget" | "no_arms";

/** Options of {@linkcode runRounds}. */
export interface RoundOptions<R> {
  /** Rounds always run (unless the hard deadline passes). @default 1 */
  minRounds?: number;
  /** Rounds at most. */
  maxRounds: number;
  /** Seed of the per-round order. @default 42 */
  seed?: number;
  /** `shuffle` (a seeded permutation per round) or `rotate` (the first arm moves on by one). @default "shuffle" */
  order?: "shuffle" | "rotate";
  /** After `minRounds`, no round starts that would end past this (clock ms). @default none */
  deadlineMs?: number | null;
  /** No round starts past this, even before `minRounds` (clock ms). @default none */
  hardDeadlineMs?: number | null;
  /** The clock, ms (tests inject a fake one). @default performance.now() + time origin */
  now?: () => number;
  /**
   * Whether every verdict the rounds serve is settled, from the records so far: checked after each
   * round from `minRounds` on. @default never settled (rounds stop on `maxRounds` or the budget)
   */
  settled?: (records: readonly RoundRecord<R>[]) => boolean;
  /** Called after each round. */
  onRound?: (round: number, records: readonly RoundRecord<R>[]) => void | Promise<void>;
  /** Called when an arm's turn throws; the arm takes no further turns. */
  onArmError?: (armId: string, error: unknown, turn: RoundTurn) => void;
}

/** What {@linkcode runRounds} did. */
export interface RoundsResult<R> {
  /** Every repetition, in the order it ran. */
  records: RoundRecord<R>[];
  /** Rounds completed. */
  rounds: number;
  /** Why it stopped. */
  stop: RoundStop;
  /** Arms that failed, by id. */
  failed: string[];
}

/** Epoch milliseconds with sub-ms resolution: the default clock. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The order of the arms in one round.
 *
 * @param count Arms.
 * @param round Round, 1-based.
 * @param seed Seed.
 * @param order `shuffle` or `rotate`.
 * @returns A permutation of `0..count-1`; the same arguments give the same permutation.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundOrder } from "./rounds.ts";
 * assert.deepEqual(roundOrder(3, 2, 42, "rotate"), [1, 2, 0]);
 * assert.deepEqual(roundOrder(5, 3, 7, "shuffle"), roundOrder(5, 3, 7, "shuffle"));
 * assert.deepEqual([...roundOrder(5, 3, 7, "shuffle")].sort(), [0, 1, 2, 3, 4]);
 * ```
 */
export function roundOrder(
  count: number,
  round: number,
  seed: number,
  order: "shuffle" | "rotate",
): number[] {
  const ids = Array.from({ length: count }, (_, i) => i);
  if (order === "rotate") {
    const k = count === 0 ? 0 : (round - 1) % count;
    return [...ids.slice(k), ...ids.slice(0, k)];
  }
  const random = mulberry32((seed * 1_000_003 + round * 7919) >>> 0);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids;
}

/**
 * Runs arms in rounds until settled, `maxRounds`, or the budget.
 *
 * @param arms The live arms (at least one).
 * @param options Rounds, order, deadlines, the settled check.
 * @returns Every repetition with its round and position, and why the rounds stopped.
 * @throws {RangeError} for no arms or bad round counts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runRounds } from "./rounds.ts";
 * const arm = (id: string) => ({ id, turn: () => Promise.resolve([id]) });
 * const r = await runRounds([arm("a"), arm("b")], { maxRounds: 3 });
 * assert.equal(r.records.length, 6);
 * assert.equal(r.stop, "max_rounds");
 * ```
 */
export async function runRounds<R>(
  arms: readonly RoundArm<R>[],
  options: RoundOptions<R>,
): Promise<RoundsResult<R>> {
  const minRounds = options.minRounds ?? 1;
  const { maxRounds } = options;
  if (arms.length === 0) throw new RangeError("runRounds: at least one arm is needed");
  if (!Number.isInteger(minRounds) || minRounds < 1 || !Number.isInteger(maxRounds)) {
    throw new RangeError(`runRounds: minRounds must be an integer >= 1, got ${minRounds}`);
  }
  if (maxRounds < minRounds) {
    throw new RangeError(`runRounds: maxRounds (${maxRounds}) must be >= minRounds (${minRounds})`);
  }
  const now = options.now ?? epochMs;
  const seed = options.seed ?? 42;
  const order = options.order ?? "shuffle";
  const live = new Set(arms.map((a) => a.id));
  const failed: string[] = [];
  const records: RoundRecord<R>[] = [];
  let lastRoundMs = 0;
  let rounds = 0;
  let stop: RoundStop = "max_rounds";
  for (let round = 1; round <= maxRounds; round++) {
    const start = now();
    const hard = options.hardDeadlineMs ?? null;
    if (hard !== null && start > hard) {
      stop = "budget";
      break;
    }
    const soft = options.deadlineMs ?? null;
    if (round > minRounds && soft !== null && start + lastRoundMs > soft) {
      stop = "budget";
      break;
    }
    const active = arms.filter((a) => live.has(a.id));
    if (active.length === 0) {
      stop = "no_arms";
      break;
    }
    for (const [position, index] of roundOrder(active.length, round, seed, order).entries()) {
      const arm = active[index]!;
      const turn = { round, position };
      try {
        for (const result of await arm.turn(turn)) {
          records.push({ armId: arm.id, round, position, result });
        }
      } catch (error) {
        live.delete(arm.id);
        failed.push(arm.id);
        options.onArmError?.(arm.id, error, turn);
      }
    }
    rounds = round;
    lastRoundMs = now() - start;
    await options.onRound?.(round, records);
    if (round >= minRounds && options.settled?.(records)) {
      stop = "settled";
      break;
    }
  }
  if (stop === "max_rounds" && live.size === 0) stop = "no_arms";
  return { records, rounds, stop, failed };
}
