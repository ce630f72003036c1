/**
 * Memory as a replicated measurement: one peak per arm per round (the arm's worker process is
 * alive for the whole block, so each round's peak is a fresh reading of the same arm), the
 * median over rounds, and a comparison that is established only when every round of one arm
 * lies below every round of the other. Beside it, what the model itself needs: its weight bytes
 * and its KV-cache bytes, computed from the model's configuration and the dtype.
 *
 * @module
 */
import { byRound, type Interval } from "./cell.ts";

/** What a peak-RSS number contains, as the report states it. */
export const PEAK_RSS_CONTAINS =
  "peak resident memory of the arm's own worker process over its measured repetitions: the " +
  "runtime, the loaded weights, ONNX Runtime's arenas, the KV cache and the copies of each " +
  "step's outputs; not the model's own size (see weight and KV bytes beside it)";

/** One arm's peak memory over rounds. */
export interface MemoryCell {
  /** Rounds with a reading. */
  rounds: number;
  /** The peak of each round (the largest reading of its repetitions), bytes. */
  per_round_bytes: number[];
  /** Median of the per-round peaks, bytes; null without a reading. */
  median_bytes: number | null;
  /** Smallest and largest per-round peak; null without a reading. */
  range: Interval | null;
  /**
   * Whether the number rests on two rounds or more whose peaks differ. The same peak on every
   * round is what a writer that stamps one whole-worker peak onto every row produces: one
   * reading, not one per round, so it is not replicated.
   */
  replicated: boolean;
}

/**
 * An arm's peak memory per round.
 *
 * @param rows The arm's rows at one place.
 * @param field `peak_rss_bytes` or `peak_vram_bytes`.
 * @returns Per-round peaks, their median and range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryCell } from "./memory.ts";
 * const m = memoryCell([{ round: 1, peak_rss_bytes: 5 }, { round: 1, peak_rss_bytes: 7 }, { round: 2, peak_rss_bytes: 6 }], "peak_rss_bytes");
 * assert.deepEqual(m.per_round_bytes, [7, 6]);
 * assert.equal(m.median_bytes, 6.5);
 * assert.equal(m.replicated, true);
 * // One peak stamped on every row is one reading.
 * assert.equal(memoryCell([{ round: 1, peak_rss_bytes: 5 }, { round: 2, peak_rss_bytes: 5 }], "peak_rss_bytes").replicated, false);
 * ```
 */
export function memoryCell<
  T extends { round?: number | null; block?: string | null } & Record<F, number | null | undefined>,
  F extends "peak_rss_bytes" | "peak_vram_bytes",
>(rows: readonly T[], field: F): MemoryCell {
  const peaks: number[] = [];
  for (const group of byRound(rows).values()) {
    const xs = group.map((r): unknown => r[field]).filter((v): v is number =>
      typeof v === "number" && Number.isFinite(v)
    );
    if (xs.length > 0) peaks.push(Math.max(...xs));
  }
  if (peaks.length === 0) {
    return { rounds: 0, per_round_bytes: [], median_bytes: null, range: null, replicated: false };
  }
  const sorted = [...peaks].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1
    ? sorted[Math.floor(mid)]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    rounds: peaks.length,
    per_round_bytes: peaks,
    median_bytes: median,
    range: [sorted[0]!, sorted.at(-1)!],
    replicated: peaks.length >= 2 && sorted[0] !== sorted.at(-1),
  };
}

/** Whether arm A needs less memory than arm B. */
export interface MemoryComparison {
  /** B's median ÷ A's median (above 1: A is smaller); null without readings. */
  ratio: number | null;
  /** The medians the ratio divides, bytes: [A, B]; null without readings. */
  medians_bytes: [number, number] | null;
  /** Whether every round of A lies below every round of B, both replicated. */
  established: boolean;
  /** One line saying why. */
  reason: string;
}

/**
 * The chance that every reading of one arm lies below every reading of the other when both
 * come from one distribution: 1 ÷ C(a + b, a) (an exact permutation test, one-sided). With two
 * rounds a side it is 1/6, so complete separation of 2 against 2 happens in 17 % of A/A pairs.
 *
 * @param a Readings of arm A.
 * @param b Readings of arm B.
 * @returns The p-value of complete separation.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { separationP } from "./memory.ts";
 * assert.equal(separationP(2, 2), 1 / 6);
 * assert.equal(separationP(3, 3), 1 / 20);
 * ```
 */
export function separationP(a: number, b: number): number {
  let c = 1;
  for (let i = 1; i <= a; i++) c = c * (b + i) / i;
  return 1 / c;
}

/** Largest separation p-value {@linkcode memoryLess} accepts. */
export const MEMORY_ALPHA = 0.05;

/**
 * Compares two arms' peak memory: established only when A's largest round lies below B's
 * smallest and that complete separation would happen by chance at most 5 % of the time
 * ({@linkcode separationP}): three rounds a side (or two against five).
 *
 * @param a Arm A.
 * @param b Arm B (the reference).
 * @returns The ratio and whether A's lead is established.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryLess } from "./memory.ts";
 * const cell = (xs: number[]) => ({ rounds: xs.length, per_round_bytes: xs, median_bytes: xs[0]!, range: [Math.min(...xs), Math.max(...xs)] as [number, number], replicated: xs.length > 1 });
 * assert.equal(memoryLess(cell([5, 6, 5]), cell([9, 10, 9])).established, true);
 * assert.equal(memoryLess(cell([5, 6]), cell([9, 10])).established, false); // 1/6 by chance
 * assert.equal(memoryLess(cell([5]), cell([9])).established, false);
 * ```
 */
export function memoryLess(a: MemoryCell, b: MemoryCell): MemoryComparison {
  if (a.median_bytes === null || b.median_bytes === null) {
    return { ratio: null, medians_bytes: null, established: false, reason: "no memory reading" };
  }
  const ratio = b.median_bytes / a.median_bytes;
  const medians_bytes: [number, number] = [a.median_bytes, b.median_bytes];
  if (!a.replicated || !b.replicated) {
    return {
      ratio,
      medians_bytes,
      established: false,
      reason: "one reading per arm (one round, or the same peak on every round): a memory " +
        "difference needs distinct peaks from several rounds",
    };
  }
  if (!(a.range![1] < b.range![0])) {
    return {
      ratio,
      medians_bytes,
      established: false,
      reason: "the per-round peaks of the two arms overlap",
    };
  }
  const p = separationP(a.rounds, b.rounds);
  return p <= MEMORY_ALPHA
    ? {
      ratio,
      medians_bytes,
      established: true,
      reason: "every round's peak lies below the reference's",
    }
    : {
      ratio,
      medians_bytes,
      established: false,
      reason: `every round's peak lies below the reference's, but ${a.rounds} against ` +
        `${b.rounds} rounds separate by chance ${Math.round(p * 100)} % of the time`,
    };
}

/** The parts of a model configuration the byte counts need. */
export interface ModelShape {
  /** Parameters. */
  parameters: number;
  /** Decoder layers. */
  num_hidden_layers: number;
  /** Key/value heads. */
  num_key_value_heads: number;
  /** Head dimension. */
  head_dim: number;
}

/** Nominal bits per weight of each dtype (quantisation scales and zero points excluded). */
export const WEIGHT_BITS: Readonly<Record<string, number>> = Object.freeze({
  fp32: 32,
  fp16: 16,
  bf16: 16,
  q8: 8,
  int8: 8,
  uint8: 8,
  q4: 4,
  q4f16: 4,
  q4gptq: 4,
  bnb4: 4,
});

/** Bytes of one KV-cache element for each dtype's activations (fp16 graphs keep fp16 KV). */
export function kvElementBytes(dtype: string): number {
  return dtype === "fp16" || dtype === "q4f16" || dtype === "bf16" ? 2 : 4;
}

/**
 * Nominal weight bytes: parameters × the dtype's bits ÷ 8.
 *
 * @param shape The model's shape.
 * @param dtype Weight dtype.
 * @returns Bytes, or null for an unknown dtype.
 */
export function nominalWeightBytes(shape: ModelShape, dtype: string): number | null {
  const bits = WEIGHT_BITS[dtype];
  return bits === undefined ? null : shape.parameters * bits / 8;
}

/**
 * KV-cache bytes for `tokens` positions (the same formula as lib/engine's `kvCacheBytes`, kept here
 * so the analysis never loads ONNX Runtime): 2 (K and V) × layers × KV heads × head dim × element
 * bytes × tokens × batch.
 *
 * @param shape The model's shape.
 * @param dtype Weight dtype (sets the element size).
 * @param tokens Positions held (context plus generated tokens).
 * @param batch Sequences.
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nominalKvBytes } from "./memory.ts";
 * assert.equal(nominalKvBytes({ parameters: 0, num_hidden_layers: 2, num_key_value_heads: 2, head_dim: 4 }, "fp32", 10, 1), 2 * 2 * 2 * 4 * 4 * 10);
 * ```
 */
export function nominalKvBytes(
  shape: ModelShape,
  dtype: string,
  tokens: number,
  batch: number,
): number {
  return 2 * shape.num_hidden_layers * shape.num_key_value_heads * shape.head_dim *
    kvElementBytes(dtype) * tokens * batch;
}
