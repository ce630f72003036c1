/**
 * A ratio in words: "1.27× faster" above 1, "1.28× slower" below (the inverse, so the number is
 * always ≥ 1), "the same" within noise. One place for the phrasing every answer uses.
 *
 * @module
 */
import { fmt } from "./_util.ts";

/** The words for a ratio above 1, below 1, and equal within noise. */
export interface RatioWords {
  /** After the factor when the ratio is above 1, e.g. `faster`. */
  more: string;
  /** After the inverse factor when the ratio is below 1, e.g. `slower`. */
  less: string;
  /** The whole phrase when the two cannot be told apart, e.g. `about as fast`. */
  same: string;
}

/** Speeds: a ratio of tokens/s (or its inverse for times). */
export const SPEED_WORDS: RatioWords = Object.freeze({
  more: "faster",
  less: "slower",
  same: "about as fast",
});

/** Options of {@linkcode ratioWords}. */
export interface RatioWordsOptions {
  /** Decimals of the factor. @default 2 */
  digits?: number;
  /**
   * Relative difference still called "the same", e.g. the runs' CI95 over the mean. A ratio
   * that prints as 1.00 at `digits` is always the same.
   * @default 0
   */
  noise?: number;
}

/**
 * Says a ratio in words.
 *
 * @param ratio The ratio (e.g. new ÷ old tokens/s), or null when either side is missing.
 * @param words The words for above, below and the same.
 * @param options Decimals and the noise band.
 * @returns `"1.27× faster"`, `"1.28× slower"`, the `same` phrase, or `"—"` for null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";
 * assert.equal(ratioWords(1.27, SPEED_WORDS), "1.27× faster");
 * assert.equal(ratioWords(0.78, SPEED_WORDS), "1.28× slower");
 * assert.equal(ratioWords(0.999, SPEED_WORDS), "about as fast");
 * assert.equal(ratioWords(1.04, SPEED_WORDS, { noise: 0.05 }), "about as fast");
 * assert.equal(ratioWords(1.0, { more: "less", less: "more", same: "the same" }), "the same");
 * ```
 */
export function ratioWords(
  ratio: number | null | undefined,
  words: RatioWords,
  options: RatioWordsOptions = {},
): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio) || ratio <= 0) return "—";
  const digits = options.digits ?? 2;
  const factor = ratio >= 1 ? ratio : 1 / ratio;
  if (fmt(factor, digits) === fmt(1, digits) || factor - 1 <= (options.noise ?? 0)) {
    return words.same;
  }
  return `${fmt(factor, digits)}× ${ratio >= 1 ? words.more : words.less}`;
}
