/**
 * Perplexity of a causal language model over a token sequence.
 *
 * Method (the text is tokenised once, as the tokenizer does by default, and optionally cut to
 * its first N tokens):
 * - `hf` (default): sliding windows of `window` tokens starting at 0, stride, 2·stride, …
 *   (default stride window/2; the last window ends at the end of the text). Each window is a
 *   fresh sequence (positions from 0, no past) and scores only the tokens past the end of the
 *   previous window, so with stride < window every token after the first is scored exactly once,
 *   predicted with at least `window − stride` tokens of left context (except in the first window).
 *   With stride = window the first token of each window is not scored (it has no left context).
 * - `llama-cpp`: ⌊n / window⌋ non-overlapping windows; each scores only the tokens of its second
 *   half (positions ⌊window/2⌋+1 … window−1), `window − ⌊window/2⌋ − 1` per window, as
 *   `llama-perplexity` does. When `bosTokenId` is given (the tokenizer adds a BOS token by
 *   default), each window's first token is replaced by BOS before the forward pass, as llama.cpp
 *   does; that position is never scored.
 *
 * For each scored token t, NLL_t = logsumexp(logits) − logits[t] of the row that predicts it,
 * computed in float64 directly on the Float32/Float16 output (max, then Σ exp(x − max)).
 * - PPL = exp(Σ NLL_t / n) over the n scored tokens.
 * - stderr (llama-perplexity's): PPL × √((mean(NLL²) − mean(NLL)²) / (n − 1)), the standard error of
 *   the mean NLL carried to PPL by the delta method.
 * - bits per byte = Σ NLL_t / ln 2 / B, where B is the UTF-8 byte length of the scored text: for
 *   each run of consecutively scored tokens a … b−1 whose first window starts at c,
 *   |decode(ids[c..b))| − |decode(ids[c..a))| (special tokens skipped by the decoder given).
 * - seconds: time in the model's forward calls and the arithmetic above (loading and tokenising
 *   excluded); tokens/s = n / seconds.
 *
 * @module
 */
import { evaluateWindows, summarizeTotals } from "./_evaluate.ts";
import type { WindowLogits } from "./logits.ts";
import type { PerplexityMethod, WindowPlanOptions } from "./windows.ts";

/** Options of {@linkcode perplexity}. */
export interface PerplexityOptions extends WindowPlanOptions {
  /** Window length in tokens (≥ 2, ≤ `maxPositions`). */
  window: number;
  /** Step between windows (`hf` only). @default window / 2 (rounded down) */
  stride?: number;
  /** `hf` or `llama-cpp`. @default "hf" */
  method?: PerplexityMethod;
  /** Windows per forward call (equal-length windows only are batched). @default 1 */
  batch?: number;
  /** `llama-cpp` only: the id put in place of each window's first token. @default none */
  bosTokenId?: number;
  /** Decodes ids to text; needed for `bitsPerByte`. @default none (bitsPerByte is null) */
  decode?: (ids: number[]) => string;
  /** Called after each batch with windows done and windows in all. @default none */
  onProgress?: (done: number, total: number) => void;
}

/** The perplexity of one model over one token sequence. */
export interface PerplexityResult {
  /** exp(mean NLL). */
  ppl: number;
  /** Tokens whose NLL was summed. */
  scoredTokens: number;
  /** Σ NLL, nats. */
  nll: number;
  /** Standard error of `ppl` (llama-perplexity's); null below two scored tokens. */
  stderr: number | null;
  /** Σ NLL / ln 2 / UTF-8 bytes of the scored text; null without `decode`. */
  bitsPerByte: number | null;
  /** Seconds in forward calls and scoring. */
  seconds: number;
  /** scoredTokens / seconds. */
  tokensPerS: number;
  /** Windows run. */
  windows: number;
}

/**
 * Computes the perplexity of `scorer` over `tokens` (method in the module doc).
 *
 * @param scorer Returns `[batch, seq, vocab]` logits for a batch of windows.
 * @param tokens The token ids of the whole text.
 * @param options Window, stride, method, batch and the optional extras.
 * @returns PPL, scored tokens, stderr, bits per byte and timing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexity } from "./perplexity.ts";
 * // A model that knows nothing: uniform logits over 10 tokens.
 * const uniform = (rows: number[][]) =>
 *   Promise.resolve({
 *     data: new Float32Array(rows.length * rows[0]!.length * 10),
 *     dims: [rows.length, rows[0]!.length, 10],
 *   });
 * const result = await perplexity(uniform, [1, 2, 3, 4, 5, 6], { window: 4, stride: 2 });
 * assert(Math.abs(result.ppl - 10) < 1e-9 && result.scoredTokens === 5);
 * ```
 */
export async function perplexity(
  scorer: WindowLogits,
  tokens: readonly number[],
  options: PerplexityOptions,
): Promise<PerplexityResult> {
  const loop = await evaluateWindows([scorer], tokens, options, false);
  const total = loop.totals[0]!;
  if (total.error !== null) throw total.error;
  return { ...summarizeTotals(total, loop.scoredBytes), windows: loop.windows.length };
}
