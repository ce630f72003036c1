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

/**
 * Estimated milliseconds of one repetition of a cell: a prefill, then decode steps until the
 * time floor (`min_rep_seconds`) or the token cap, at least one step.
 *
 * @param spec The sweep spec.
 * @param cell The cell.
 * @param model The fitted cost model.
 * @returns Milliseconds.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repMs } from "./estimate.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8], max_new_tokens: 1000, min_rep_seconds: 0.3 });
 * const flat = { prefillMs: () => 10, decodeMs: () => 2 };
 * assert.equal(repMs(spec, { useCache: true, contextTokens: 8, batch: 1 }, flat), 310);
 * ```
 */
export function repMs(
  spec: SweepSpec,
  cell: Pick<Cell, "useCache" | "contextTokens" | "batch">,
  model: CostModel,
): number {
  const cap = newTokensOf(spec, cell);
  const step = cell.useCache
    ? model.decodeMs(cell.contextTokens)
    : model.prefillMs(cell.contextTokens + 1);
  const floor = spec.min_rep_seconds * 1000;
  const steps = Math.max(1, Math.min(cap - 1, floor > 0 ? Math.ceil(floor / step) : cap - 1));
  return (model.prefillMs(cell.contextTokens) + steps * step) * cell.batch;
}

/**
 * Estimated milliseconds of one block: its arms' starts (in parallel over `cores`), their
 * warmups, then `rounds` rounds of every arm's repetitions.
 *
 * @param spec The sweep spec.
 * @param arms The block's cells (the A/A control included).
 * @param model The fitted cost model.
 * @param startMs One worker's start and model load, ms.
 * @param rounds Rounds to count.
 * @param cores CPU cores the starts share. @default 2
 * @returns Milliseconds.
 */
export function estimateBlockMs(
  spec: SweepSpec,
  arms: readonly Cell[],
  model: CostModel,
  startMs: number,
  rounds: number,
  cores = 2,
): number {
  const perRound = arms.reduce(
    (a, c) => a + promptSlots(spec).length * spec.runs * repMs(spec, c, model),
    0,
  );
  const warm = arms.reduce((a, c) => a + spec.warmup * repMs(spec, c, model), 0);
  // Arms start and warm up at once, sharing the cores; the rounds run one arm at a time.
  return (arms.length * startMs + warm) / Math.max(1, Math.min(cores, arms.length)) +
    rounds * perRound;
}
