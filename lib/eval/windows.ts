/**
 * The windows a perplexity evaluation runs and the tokens each one scores.
 *
 * - `hf` (Hugging Face "perplexity of fixed-length models"): windows of `window` tokens start at
 *   0, stride, 2·stride, … and the last one is cut at the end of the text; each window scores the
 *   tokens past the end of the previous window (the first window: every token but its first).
 *   With `stride < window` every token after the first is scored exactly once, predicted with the
 *   longest left context any window gives it. With `stride == window` (non-overlapping windows)
 *   the first token of each window has no left context inside the window and is not scored, as in
 *   Hugging Face's code.
 * - `llama-cpp` (llama.cpp's `llama-perplexity`): ⌊tokens / window⌋ non-overlapping windows
 *   (`stride = window`, the remainder is dropped); each scores the tokens of its second half,
 *   positions ⌊window/2⌋+1 … window−1, i.e. `window − ⌊window/2⌋ − 1` tokens per window.
 *
 * @module
 */

/** The perplexity methods, by CLI name. */
export const PERPLEXITY_METHODS = ["hf", "llama-cpp"] as const;

/** One of {@linkcode PERPLEXITY_METHODS}. */
export type PerplexityMethod = typeof PERPLEXITY_METHODS[number];

/** One window of the token sequence and the targets it scores. */
export interface EvalWindow {
  /** Index of the window's first token. */
  start: number;
  /** Index one past the window's last token. */
  end: number;
  /** Index of the first scored target; targets `scoreFrom … end−1` are scored. */
  scoreFrom: number;
}

/** How to cut the sequence into windows. */
export interface WindowPlanOptions {
  /** Window length in tokens (≥ 2). */
  window: number;
  /** Step between window starts; `hf` only (llama-cpp always steps by `window`). @default window / 2 (rounded down) */
  stride?: number;
  /** The method. @default "hf" */
  method?: PerplexityMethod;
  /** The model's maximum positions; a larger window throws a RangeError. @default unchecked */
  maxPositions?: number;
}

/**
 * Whether `value` names a perplexity method.
 *
 * @param value Any string.
 * @returns `true` for `hf` and `llama-cpp`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPerplexityMethod } from "./windows.ts";
 * assert(isPerplexityMethod("hf") && !isPerplexityMethod("lm-eval"));
 * ```
 */
export function isPerplexityMethod(value: string): value is PerplexityMethod {
  return (PERPLEXITY_METHODS as readonly string[]).includes(value);
}

/**
 * The stride a method actually uses: `window` for llama-cpp, else the given or default stride.
 *
 * @param options Window, stride and method.
 * @returns The stride in tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveStride } from "./windows.ts";
 * assert(effectiveStride({ window: 512 }) === 256);
 * assert(effectiveStride({ window: 512, method: "llama-cpp" }) === 512);
 * ```
 */
export function effectiveStride(options: WindowPlanOptions): number {
  const method = options.method ?? "hf";
  switch (method) {
    case "hf":
      return options.stride ?? Math.max(1, Math.floor(options.window / 2));
    case "llama-cpp":
      return options.window;
    default: {
      const never: never = method;
      throw new RangeError(
        `'method' must be one of ${PERPLEXITY_METHODS.join(", ")}, got ${JSON.stringify(never)}`,
      );
    }
  }
}

/**
 * Cuts `tokenCount` tokens into evaluation windows (see the module doc for the two methods).
 *
 * @param tokenCount Tokens in the sequence.
 * @param options Window, stride and method.
 * @returns The windows in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planWindows } from "./windows.ts";
 * const windows = planWindows(10, { window: 4, stride: 2 });
 * assert(windows.map((w) => w.end - w.scoreFrom).join() === "3,2,2,2");
 * ```
 */
export function planWindows(tokenCount: number, options: WindowPlanOptions): EvalWindow[] {
  const { window } = options;
  const method = options.method ?? "hf";
  if (!isPerplexityMethod(method)) {
    throw new RangeError(
      `'method' must be one of ${PERPLEXITY_METHODS.join(", ")}, got ${JSON.stringify(method)}`,
    );
  }
  if (!Number.isInteger(window) || window < 2) {
    throw new RangeError(`'window' must be an integer >= 2, got ${window}`);
  }
  if (options.maxPositions !== undefined && window > options.maxPositions) {
    throw new RangeError(
      `'window' is ${window}, more than the model's max positions ${options.maxPositions}`,
    );
  }
  if (method === "llama-cpp" && options.stride !== undefined && options.stride !== window) {
    throw new RangeError(
      `'stride' must equal 'window' (${window}) with method llama-cpp, got ${options.stride}`,
    );
  }
  const stride = effectiveStride(options);
  if (!Number.isInteger(stride) || stride <= 0 || stride > window) {
    throw new RangeError(`'stride' must be an integer in 1..${window} (the window), got ${stride}`);
  }
  if (tokenCount < window) {
    throw new RangeError(
      `the text is shorter than one window: ${tokenCount} tokens, 'window' is ${window}`,
    );
  }
  const windows: EvalWindow[] = [];
  if (method === "llama-cpp") {
    const first = Math.floor(window / 2);
    for (let start = 0; start + window <= tokenCount; start += window) {
      windows.push({ start, end: start + window, scoreFrom: start + first + 1 });
    }
    return windows;
  }
  let previousEnd = 0;
  for (let start = 0;; start += stride) {
    const end = Math.min(start + window, tokenCount);
    windows.push({ start, end, scoreFrom: Math.max(previousEnd, start + 1) });
    previousEnd = end;
    if (end === tokenCount) return windows;
  }
}
