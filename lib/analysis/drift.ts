/**
 * The drift signal of a sweep: with the cache on, decoding a longer context reads and writes a
 * longer KV cache, so an arm cannot physically decode faster at a longer context. When its rate
 * at the longer context lies above the shorter context's interval, the machine changed between
 * the two blocks: the warning names the arm and the two contexts.
 *
 * @module
 */
import type { Interval } from "./cell.ts";

/** One cell of an arm at one context (from `cellRate`). */
export interface ContextCell {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Weight dtype. */
  dtype: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Sequences per run. */
  batch: number;
  /** Context, tokens. */
  context_tokens: number;
  /** Pooled decode tokens/s. */
  decode_tokens_per_s: number | null;
  /** Its interval from rounds, or null. */
  ci95: Interval | null;
}

/** An arm that decoded faster at a longer context. */
export interface DriftWarning {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Weight dtype. */
  dtype: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Batch. */
  batch: number;
  /** The shorter context, tokens. */
  from_context: number;
  /** The longer context, tokens. */
  to_context: number;
  /** The longer context's rate ÷ the shorter's. */
  rise: number;
  /**
   * `beyond_interval`: the longer context's rate lies above the shorter one's interval;
   * `no_interval`: a cell has one round, so the rise is only a point estimate.
   */
  basis: "beyond_interval" | "no_interval";
  /** One line for the report. */
  message: string;
}

/**
 * Flags arms whose decode rate rises from one measured context to the next longer one: beyond
 * the shorter cell's interval when both cells have one, or at all when either has none (then
 * `basis` says so).
 *
 * @param cells Cells of any arms and contexts.
 * @returns The warnings, by arm then context.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contextDrift } from "./drift.ts";
 * const cell = (context_tokens: number, rate: number, ci: [number, number]) => ({ model: "m", device: "cpu",
 *   dtype: "q4", use_cache: true, batch: 1, context_tokens, decode_tokens_per_s: rate, ci95: ci });
 * assert.equal(contextDrift([cell(128, 100, [95, 105]), cell(512, 120, [110, 130])]).length, 1);
 * assert.equal(contextDrift([cell(128, 100, [95, 105]), cell(512, 104, [99, 109])]).length, 0);
 * ```
 */
export function contextDrift(cells: readonly ContextCell[]): DriftWarning[] {
  const arms = new Map<string, ContextCell[]>();
  for (const c of cells) {
    if (c.decode_tokens_per_s === null) continue;
    const key = [c.model, c.device, c.dtype, c.use_cache, c.batch].join("\u0000");
    const list = arms.get(key);
    if (list) list.push(c);
    else arms.set(key, [c]);
  }
  const warnings: DriftWarning[] = [];
  for (const list of arms.values()) {
    list.sort((a, b) => a.context_tokens - b.context_tokens);
    for (let i = 1; i < list.length; i++) {
      const short = list[i - 1]!;
      const long = list[i]!;
      const rise = long.decode_tokens_per_s! / short.decode_tokens_per_s!;
      if (!(rise > 1)) continue;
      const basis = short.ci95 !== null && long.ci95 !== null ? "beyond_interval" : "no_interval";
      if (basis === "beyond_interval" && !(long.decode_tokens_per_s! > short.ci95![1])) continue;
      warnings.push({
        model: short.model,
        device: short.device,
        dtype: short.dtype,
        use_cache: short.use_cache,
        batch: short.batch,
        from_context: short.context_tokens,
        to_context: long.context_tokens,
        rise,
        basis,
        message: `${short.dtype} (cache ${short.use_cache ? "on" : "off"}) decoded ` +
          `${rise.toFixed(2)}× faster at ${long.context_tokens} tokens than at ` +
          `${short.context_tokens}` +
          (basis === "beyond_interval"
            ? ", beyond its interval: the machine drifted between these blocks"
            : " (one round each, no interval): a possible drift between these blocks"),
      });
    }
  }
  return warnings;
}
