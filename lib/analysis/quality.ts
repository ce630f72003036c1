/**
 * The one rule at the perplexity budget: a dtype is within budget when its ΔPPL is strictly
 * below 5 % (the product brief: "should stay under 5 %"). The sweet spot, the 4-bit check, the
 * 4-bit verdict and the ΔPPL figure all call {@linkcode withinPplBudget}, so a dtype at exactly
 * 5.00 % is out of budget everywhere.
 *
 * @module
 */

/** The ΔPPL budget, percent. */
export const DELTA_PPL_BUDGET_PCT = 5;

/**
 * Whether a ΔPPL is within the budget: `delta < budget`.
 *
 * @param deltaPplPct (ppl ÷ baseline − 1) × 100; null or undefined when not measured.
 * @param budgetPct The budget, percent. @default DELTA_PPL_BUDGET_PCT
 * @returns true within budget, false over it or at it, null when not measured.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withinPplBudget } from "./quality.ts";
 * assert.equal(withinPplBudget(4.99), true);
 * assert.equal(withinPplBudget(5), false);
 * assert.equal(withinPplBudget(null), null);
 * ```
 */
export function withinPplBudget(
  deltaPplPct: number | null | undefined,
  budgetPct: number = DELTA_PPL_BUDGET_PCT,
): boolean | null {
  if (deltaPplPct === null || deltaPplPct === undefined || !Number.isFinite(deltaPplPct)) {
    return null;
  }
  return deltaPplPct < budgetPct;
}
