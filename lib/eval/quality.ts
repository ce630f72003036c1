/**
 * Quantisation quality: several models (one per dtype) scored on the same windows in one pass,
 * each compared with a baseline model. Per scored position, the baseline and the compared model's
 * next-token distributions give
 * - KL(base ‖ q) = Σ_v p_base(v) (log p_base(v) − log p_q(v)), nats, averaged over positions;
 * - top-1 agreement: the share of positions where both arg-maxes agree, percent;
 * and over the whole text ΔPPL % = (PPL_q / PPL_base − 1) × 100.
 *
 * Window by window, the baseline runs first and keeps its logits while each other model runs on
 * the same window, is compared and is dropped; the baseline's logits are dropped before the next
 * window. So at most two models' logits of one batch of windows are held at once. Each model's
 * `seconds` count its forward calls and its own NLL arithmetic; the comparison is charged to none.
 *
 * @module
 */
import { evaluateWindows, summarizeTotals } from "./_evaluate.ts";
import type { WindowLogits } from "./logits.ts";
import type { PerplexityOptions, PerplexityResult } from "./perplexity.ts";

/** Options of {@linkcode compareQuality}: the perplexity options plus the baseline. */
export interface QualityOptions extends PerplexityOptions {
  /** Key of `scorers` that the others are compared with. */
  baseline: string;
}

/** The perplexity and quality of one model against the baseline. */
export interface QualityResult {
  /** The scorer's key (a dtype). */
  name: string;
  /** Its perplexity, or null when it failed. */
  result: PerplexityResult | null;
  /** (PPL / baseline PPL − 1) × 100; null when either failed. */
  deltaPplPct: number | null;
  /** Mean KL(baseline ‖ this) in nats over the scored positions; null when either failed. */
  kl: number | null;
  /** Scored positions whose arg-max equals the baseline's, percent; null when either failed. */
  top1Agreement: number | null;
  /** The failure, or null. */
  error: Error | null;
}

/**
 * Scores every model in `scorers` on the same windows and compares each with the baseline.
 *
 * @param scorers Scorers by name (dtype); must contain `options.baseline`.
 * @param tokens The token ids of the whole text.
 * @param options Perplexity options and the baseline's name.
 * @returns One result per scorer, in the order of `scorers`; a scorer that throws gets `error`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareQuality } from "./quality.ts";
 * const model = (rows: number[][]) =>
 *   Promise.resolve({
 *     data: Float32Array.from({ length: rows.length * rows[0]!.length * 3 }, (_, i) => i % 3),
 *     dims: [rows.length, rows[0]!.length, 3],
 *   });
 * const [base, same] = await compareQuality({ fp32: model, q4: model }, [0, 1, 2, 1, 0], {
 *   window: 4,
 *   baseline: "fp32",
 * });
 * assert(same!.kl === 0 && same!.top1Agreement === 100 && base!.deltaPplPct === 0);
 * ```
 */
export async function compareQuality(
  scorers: Readonly<Record<string, WindowLogits>>,
  tokens: readonly number[],
  options: QualityOptions,
): Promise<QualityResult[]> {
  const names = Object.keys(scorers);
  if (!names.includes(options.baseline)) {
    throw new RangeError(
      `'baseline' must be one of the scorers (${names.join(", ")}), got ${
        JSON.stringify(options.baseline)
      }`,
    );
  }
  const ordered = [options.baseline, ...names.filter((n) => n !== options.baseline)];
  const loop = await evaluateWindows(ordered.map((n) => scorers[n]!), tokens, options, true);
  const results = new Map<string, QualityResult>();
  const baseTotal = loop.totals[0]!;
  const baseOk = baseTotal.error === null && loop.comparedAll;
  const basePpl = baseOk ? summarizeTotals(baseTotal, loop.scoredBytes).ppl : null;
  ordered.forEach((name, i) => {
    const total = loop.totals[i]!;
    if (total.error !== null) {
      results.set(name, {
        name,
        result: null,
        deltaPplPct: null,
        kl: null,
        top1Agreement: null,
        error: total.error,
      });
      return;
    }
    const result = { ...summarizeTotals(total, loop.scoredBytes), windows: loop.windows.length };
    const isBase = i === 0;
    const compared = isBase ? total.count : total.compared;
    const comparable = basePpl !== null && compared === total.count && compared > 0;
    results.set(name, {
      name,
      result,
      deltaPplPct: comparable ? (result.ppl / basePpl - 1) * 100 : null,
      kl: comparable ? (isBase ? 0 : total.kl / compared) : null,
      top1Agreement: comparable ? (isBase ? 100 : (total.top1 / compared) * 100) : null,
      error: null,
    });
  });
  return names.map((n) => results.get(n)!);
}
