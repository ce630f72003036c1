/**
 * The sweep's estimate of its own length, printed before the first block: a cost model fitted
 * to the probe, applied to every pending block at `min_rounds` and at `max_rounds`, plus
 * perplexity; the budget caps it, since blocks stop their rounds at their share of it.
 *
 * @module
 */
import { formatDuration } from "../measure/progress.ts";
import type { Block } from "./blocks.ts";
import {
  estimateBlockMs,
  estimatePerplexityMs,
  fitCostModel,
  type ProbePoint,
} from "./estimate.ts";
import type { SweepSpec } from "./spec.ts";

/** The estimate. */
export interface RunEstimate {
  /**
   * The whole run before figures and reports, seconds: what already ran (model check, conversion,
   * probe) plus perplexity and the blocks, the budget capping it.
   */
  seconds: number;
  /** Each block's cost at `max_rounds`, ms (it sets the block's share of the budget). */
  costs: Map<string, number>;
  /** The line to log. */
  line: string;
}

/**
 * Estimates a run.
 *
 * @param spec The sweep spec.
 * @param pending The blocks to run.
 * @param perplexityModels Models whose perplexity runs.
 * @param probe The probe's load time and points.
 * @param startMs Worker start + load per model, as the model check timed it.
 * @param so What already ran: `elapsedS`, seconds since the run started. @default 0
 * @returns Seconds, per-block costs and the line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateRun } from "./run_estimate.ts";
 * import { groupBlocks } from "./blocks.ts";
 * import { expandGrid } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32"], context_lengths: [128], time_budget_s: 60 });
 * const probe = { loadMs: 1000, points: [{ tokens: 128, prefillMs: 10, decodeMs: 2 }] };
 * const e = estimateRun(spec, groupBlocks(spec, expandGrid(spec)), 0, probe, new Map(), { elapsedS: 5 });
 * assert(e.seconds <= 60 && e.seconds > 5 && e.line.startsWith("estimate: ~"));
 * ```
 */
export function estimateRun(
  spec: SweepSpec,
  pending: readonly Block[],
  perplexityModels: number,
  probe: { loadMs: number; points: ProbePoint[] },
  startMs: ReadonlyMap<string, number>,
  so: { elapsedS?: number } = {},
): RunEstimate {
  const elapsed = (so.elapsedS ?? 0) * 1000;
  const model = fitCostModel(probe.points);
  const start = (b: Block) => startMs.get(b.arms[0]!.model) ?? probe.loadMs;
  const costs = new Map<string, number>();
  let least = 0;
  let most = 0;
  for (const b of pending) {
    least += estimateBlockMs(spec, b.arms, model, start(b), spec.min_rounds);
    const full = estimateBlockMs(spec, b.arms, model, start(b), spec.max_rounds);
    most += full;
    costs.set(b.id, full);
  }
  const ppl = estimatePerplexityMs(spec, model) * perplexityModels;
  const budget = spec.time_budget_s === null ? Infinity : spec.time_budget_s * 1000;
  // The budget counts from the start of the run, so what already ran is inside it.
  const seconds = Math.min(budget, elapsed + ppl + most) / 1000;
  const first = pending[0]?.arms[0];
  const points = probe.points.map((p) =>
    `prefill ${p.tokens} tokens ${p.prefillMs.toFixed(1)} ms, decode ${
      p.decodeMs.toFixed(1)
    } ms/token`
  ).join("; ");
  const line = `estimate: ~${formatDuration(seconds)} before figures and reports (so far ` +
    `${formatDuration(elapsed / 1000)}; perplexity ~${formatDuration(ppl / 1000)}; ` +
    `${pending.length} blocks: ~${formatDuration(least / 1000)} at ${spec.min_rounds} rounds, ` +
    `~${formatDuration(most / 1000)} at ${spec.max_rounds}` +
    (spec.time_budget_s === null ? "" : `; the budget of ${spec.time_budget_s} s caps it`) +
    (first
      ? `; probe on ${first.model} ${first.dtype}: worker start + load ${
        start(pending[0]!).toFixed(0)
      } ms per arm; ${points}; other dtypes assumed alike)`
      : ")");
  return { seconds, costs, line };
}
