/**
 * The sweep's time estimate: a cost model fitted to a short probe (a prefill and a few decode
 * steps at two prompt lengths on the first model) and applied to every pending cell and to the
 * perplexity step. Other dtypes are assumed to cost the same; the estimate is printed before the
 * sweep starts and weights the progress bar.
 *
 * @module
 */
import type { Cell } from "./grid.ts";
import { newTokensOf, promptSlots } from "./grid.ts";
import type { SweepSpec } from "./spec.ts";

/** One probe measurement. */
export interface ProbePoint {
  /** Prompt length, tokens. */
  tokens: number;
  /** Prefill time at that length, ms. */
  prefillMs: number;
  /** Mean decode step at that context, ms. */
  decodeMs: number;
}

/** Costs as functions of length. */
export interface CostModel {
  /** Prefill of `tokens` tokens, ms: a·t + b·t² (attention makes it superlinear). */
  prefillMs(tokens: number): number;
  /** One decode step at `context` tokens of context, ms: d₀ + d₁·c. */
  decodeMs(context: number): number;
}

/**
 * Fits the cost model to one or two probe points: prefill through the origin, linear plus
 * quadratic (linear only with one point), decode linear in the context; negative slopes (noise)
 * are clamped to 0.
 *
 * @param points Probe measurements, at distinct lengths.
 * @returns The fitted model.
 * @throws {RangeError} without points.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitCostModel } from "./estimate.ts";
 * const m = fitCostModel([{ tokens: 100, prefillMs: 11, decodeMs: 2 }, { tokens: 200, prefillMs: 24, decodeMs: 3 }]);
 * assert(Math.abs(m.prefillMs(400) - 56) < 1e-9 && Math.abs(m.decodeMs(400) - 5) < 1e-9);
 * ```
 */
export function fitCostModel(points: readonly ProbePoint[]): CostModel {
  const sorted = [...points].sort((p, q) => p.tokens - q.tokens);
  const first = sorted[0];
  if (!first) throw new RangeError("fitCostModel: no probe points");
  const last = sorted.at(-1)!;
  let a = first.prefillMs / first.tokens;
  let b = 0;
  let d1 = 0;
  if (last.tokens > first.tokens) {
    // p(t) = a t + b t² through both points.
    const [t1, t2, p1, p2] = [first.tokens, last.tokens, first.prefillMs, last.prefillMs];
    b = Math.max(0, (p2 / t2 - p1 / t1) / (t2 - t1));
    a = Math.max(0, p1 / t1 - b * t1);
    d1 = Math.max(0, (last.decodeMs - first.decodeMs) / (last.tokens - first.tokens));
  }
  const d0 = Math.max(0, first.decodeMs - d1 * first.tokens);
  return {
    prefillMs: (t) => a * t + b * t * t,
    decodeMs: (c) => d0 + d1 * c,
  };
}

/**
 * Estimated milliseconds of one cell: (warmup + prompts × runs) runs, each a prefill and N − 1
 * decode steps with the cache, or N growing prefills without it.
 *
 * @param spec The sweep spec.
 * @param cell The cell.
 * @param model The fitted cost model.
 * @returns Milliseconds.
 */
export function estimateCellMs(spec: SweepSpec, cell: Cell, model: CostModel): number {
  const runs = spec.warmup + promptSlots(spec).length * spec.runs;
  const n = newTokensOf(spec, cell);
  let perRun = 0;
  if (cell.useCache) {
    perRun = model.prefillMs(cell.contextTokens);
    for (let k = 1; k < n; k++) perRun += model.decodeMs(cell.contextTokens + k);
  } else {
    for (let k = 0; k < n; k++) perRun += model.prefillMs(cell.contextTokens + k);
  }
  return runs * perRun * cell.batch;
}

/**
 * Estimated milliseconds of the perplexity step of one model: every window through every dtype
 * (the baseline once more per dtype in pairwise mode). The text length is the token cap, or
 * WikiText-2's ~300k tokens without one.
 *
 * @param spec The sweep spec.
 * @param model The fitted cost model.
 * @returns Milliseconds (0 without perplexity).
 */
export function estimatePerplexityMs(spec: SweepSpec, model: CostModel): number {
  const p = spec.perplexity;
  if (p === null) return 0;
  const tokens = p.max_tokens ?? 300_000;
  const windows = tokens <= p.window ? 1 : Math.ceil((tokens - p.window) / p.stride) + 1;
  const passes = p.dtypes.length + (p.pairwise ? Math.max(0, p.dtypes.length - 2) : 0);
  return windows * passes * model.prefillMs(p.window);
}
