/**
 * The verdicts `final_report.json` and `report.md` share, computed once here so the JSON and the
 * prose can never disagree: whether a setup's weights are random (then no quality verdict), the
 * 4-bit verdict (from lib/analysis's speed comparison, memory comparison and ΔPPL rule), and
 * which cells' repetitions were too noisy to trust.
 *
 * @module
 */
import type { PerplexityRow } from "../results/schema.ts";
import type { SummaryRow } from "./summary.ts";
import { NOISY_CV } from "../measure/run_checks.ts";
import { round } from "./_util.ts";
import { type SpeedVerdict, withinPplBudget } from "../analysis/mod.ts";

/** Where a setup's weights came from, as its rows record it. */
export type WeightsOrigin = "random" | "trained" | "unknown";

/** Why quality verdicts are null for random weights. */
export const RANDOM_WEIGHTS_REASON =
  "random weights (a preset: build): perplexity measures agreement between dtypes, not language " +
  "quality, so no quality verdict is given";

/**
 * A setup's weights: `random` when any of its rows says so, else `trained` when any says so,
 * else `unknown` (files written before the `weights` column).
 *
 * @param cells The setup's summary rows.
 * @param perplexity The model's perplexity rows.
 * @returns The origin.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightsOrigin } from "./verdicts.ts";
 * assert.equal(weightsOrigin([{ weights: "random" }], []), "random");
 * assert.equal(weightsOrigin([{ weights: "" }], [{ weights: "trained" }]), "trained");
 * assert.equal(weightsOrigin([{ weights: "" }], []), "unknown");
 * ```
 */
export function weightsOrigin(
  cells: readonly Pick<SummaryRow, "weights">[],
  perplexity: readonly Pick<PerplexityRow, "weights">[],
): WeightsOrigin {
  const all = [...cells, ...perplexity].map((r) => r.weights ?? "");
  return all.includes("random") ? "random" : all.includes("trained") ? "trained" : "unknown";
}

/**
 * The models whose rows say their weights are random, in first-seen order.
 *
 * @param data Summary and perplexity rows (a `ReportData`).
 * @returns Model references.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomWeightModels } from "./verdicts.ts";
 * const data = { summary: [{ model: "preset:small", weights: "random" }], perplexity: [{ model: "m", weights: "trained" }] };
 * assert.deepEqual(randomWeightModels(data), ["preset:small"]);
 * ```
 */
export function randomWeightModels(
  data: {
    summary: readonly Pick<SummaryRow, "model" | "weights">[];
    perplexity: readonly Pick<PerplexityRow, "model" | "weights">[];
  },
): string[] {
  const models = [...data.summary, ...data.perplexity].filter((r) => r.weights === "random")
    .map((r) => r.model);
  return [...new Set(models)];
}

/** The answer to "is 4-bit worth it?", one word the prose and the JSON share. */
export type FourBitVerdict =
  | "yes"
  | "no"
  | "within_noise"
  | "only_for_memory"
  | "not_on_this_device"
  | "undecided";

/** Inputs of {@linkcode fourBitVerdict}. */
export interface FourBitInputs {
  /** ΔPPL of the 4-bit dtype, percent; null when not measured. */
  deltaPplPct: number | null;
  /** The budget, percent. */
  budgetPct: number;
  /** 4-bit ÷ reference decode speed at a shared context; null when none is shared. */
  speedRatio: number | null;
  /** The paired comparison's verdict there (lib/analysis `compare`). */
  speedVerdict: SpeedVerdict;
  /** Reference ÷ 4-bit peak memory (median over rounds); null when not compared. */
  memoryRatio: number | null;
  /** Whether 4-bit's smaller peak is established over rounds (lib/analysis `memoryLess`). */
  memoryEstablished: boolean;
  /** The setup's weights. */
  weights: WeightsOrigin;
}

/**
 * The 4-bit verdict and its reason: `undecided` for random weights or without the numbers, `no`
 * when the ΔPPL is not within budget (`withinPplBudget`: strictly under it), `within_noise` when
 * the paired comparison does not establish a difference, else by speed and memory; a memory
 * advantage counts only when established over rounds.
 *
 * @param inputs Quality, speed verdict and memory.
 * @returns The verdict and a one-line reason.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fourBitVerdict } from "./verdicts.ts";
 * const base = { deltaPplPct: 0.8, budgetPct: 5, speedRatio: 1.3, speedVerdict: "not established" as const,
 *   memoryRatio: 1, memoryEstablished: false, weights: "trained" as const };
 * assert.equal(fourBitVerdict(base).verdict, "within_noise");
 * assert.equal(fourBitVerdict({ ...base, speedVerdict: "faster" }).verdict, "yes");
 * assert.equal(fourBitVerdict({ ...base, deltaPplPct: 5 }).verdict, "no");
 * assert.equal(fourBitVerdict({ ...base, weights: "random" }).verdict, "undecided");
 * ```
 */
export function fourBitVerdict(inputs: FourBitInputs): { verdict: FourBitVerdict; reason: string } {
  const { deltaPplPct: delta, budgetPct: budget, speedRatio: speed } = inputs;
  if (inputs.weights === "random") return { verdict: "undecided", reason: RANDOM_WEIGHTS_REASON };
  const within = withinPplBudget(delta, budget);
  if (within === null) {
    return {
      verdict: "undecided",
      reason: "no perplexity measurement: the quality cost is unknown",
    };
  }
  if (!within) {
    return {
      verdict: "no",
      reason: `ΔPPL ${round(delta, 2)} % is not under the ${budget} % budget`,
    };
  }
  if (speed === null) {
    return {
      verdict: "undecided",
      reason:
        "within the ΔPPL budget, but not measured at the same longest context as the reference",
    };
  }
  if (inputs.speedVerdict === "not established") {
    return {
      verdict: "within_noise",
      reason: `within the ΔPPL budget, but the paired comparison over rounds does not establish ` +
        `a speed difference (${round(speed, 2)}×)`,
    };
  }
  if (inputs.speedVerdict === "slower") {
    return inputs.memoryEstablished && inputs.memoryRatio !== null && inputs.memoryRatio > 1
      ? { verdict: "only_for_memory", reason: "within budget and smaller, but decodes slower" }
      : {
        verdict: "not_on_this_device",
        reason: inputs.memoryRatio !== null && inputs.memoryRatio > 1
          ? "within budget, but decodes slower, and a smaller peak is not established over rounds"
          : "within budget, but decodes slower and is not smaller",
      };
  }
  return { verdict: "yes", reason: `within budget and ${round(speed, 2)}× faster` };
}

/** A cell whose runs disagree too much to trust its mean. */
export interface NoisyCell {
  /** Weight dtype. */
  dtype: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Context, tokens. */
  context: number;
  /** Runs. */
  runs: number;
  /** CV of per-run decode tokens/s, percent. */
  decode_cv_pct: number | null;
  /** CV of per-run prefill ms, percent. */
  prefill_cv_pct: number | null;
  /** Highest 1-minute load average read around the cell. */
  load1_max: number | null;
}

/**
 * The cells flagged noisy (a coefficient of variation above 20 %), in summary order.
 *
 * @param cells Summary rows.
 * @returns The noisy ones, with their CVs and the load around them.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noisyCells } from "./verdicts.ts";
 * const row = { dtype: "q4", use_cache: true, context_tokens: 128, runs: 3, noisy: true,
 *   decode_tokens_per_s_cv: 0.31, prefill_ms_cv: 0.05, load1_before_max: 1.5, load1_after_max: 2 };
 * assert.equal(noisyCells([row])[0]!.decode_cv_pct, 31);
 * ```
 */
export function noisyCells(
  cells: readonly Pick<
    SummaryRow,
    | "dtype"
    | "use_cache"
    | "context_tokens"
    | "runs"
    | "noisy"
    | "decode_tokens_per_s_cv"
    | "prefill_ms_cv"
    | "load1_before_max"
    | "load1_after_max"
  >[],
): NoisyCell[] {
  const pct = (cv: number | null) => cv === null ? null : round(cv * 100, 1);
  return cells.filter((c) => c.noisy).map((c) => {
    const loads = [c.load1_before_max, c.load1_after_max].filter((v): v is number => v !== null);
    return {
      dtype: c.dtype,
      use_cache: c.use_cache,
      context: c.context_tokens,
      runs: c.runs,
      decode_cv_pct: pct(c.decode_tokens_per_s_cv),
      prefill_cv_pct: pct(c.prefill_ms_cv),
      load1_max: loads.length === 0 ? null : round(Math.max(...loads), 2),
    };
  });
}

/** The CV threshold, percent, as the report prints it. */
export const NOISY_CV_PCT = NOISY_CV * 100;
