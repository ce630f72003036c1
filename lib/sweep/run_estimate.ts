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
  /** The whole run, seconds (the budget caps it). */
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
 * @returns Seconds, per-block costs and the line.
 */
export function estimateRun(
  spec: SweepSpec,
  pending: readonly Block[],
  perplexityModels: number,
  probe: { loadMs: number; points: ProbePoint[] },
  startMs: ReadonlyMap<string, number>,
): RunEstimate {
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
  const seconds = Math.min(budget, ppl + most) / 1000;
  const first = pending[0]?.arms[0];
  const points = probe.points.map((p) =>
    `prefill ${p.tokens} tokens ${p.prefillMs.toFixed(1)} ms, decode ${
      p.decodeMs.toFixed(1)
    } ms/token`
  ).join("; ");
  const line =
    `estimate: ~${formatDuration(seconds)} (perplexity ~${formatDuration(ppl / 1000)}; ` +
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
