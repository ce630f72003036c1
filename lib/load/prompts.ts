/**
 * Prompts for a load run: synthetic ones with an exact token count for the target's tokenizer
 * (when it is known), each starting with a unique prefix so that no server's prefix cache can
 * reuse one request's work for another; or prompts read from a JSONL file.
 *
 * @module
 */
import { promptText } from "../engine/prompts.ts";

/** The part of a transformers.js tokenizer the prompts need. */
export interface PromptTokenizer {
  /** Token ids of a text (with the tokenizer's special tokens, as a server adds them). */
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
  /** Text of token ids. */
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

/** One prompt of a load run. */
export interface LoadPrompt {
  /** The text sent. */
  text: string;
  /** Its tokens for the target's tokenizer (BOS included when it adds one), `null` when unknown. */
  tokens: number | null;
  /** `max_tokens` for it (from the JSONL line, else the run's). */
  outputTokens: number;
}

function uniquePrefix(index: number, seed: number): string {
  return `${index}.${seed.toString(36)} `;
}

/**
 * Synthetic prompts: a unique prefix, then seeded conversational text; cut to exactly
 * `inputTokens` tokens when a tokenizer is given (the cut is re-encoded and adjusted until the
 * count holds), else about `inputTokens` words' worth of text with `tokens: null`.
 *
 * @param n How many.
 * @param options Input and output tokens, the tokenizer, the seed.
 * @returns The prompts.
 * @throws {RangeError} naming the flag for non-positive counts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticPrompts } from "./prompts.ts";
 * const p = syntheticPrompts(3, { inputTokens: 50, outputTokens: 8 });
 * assert(p.length === 3 && p[0]!.tokens === null && new Set(p.map((x) => x.text.slice(0, 12))).size === 3);
 * ```
 */
export function syntheticPrompts(
  n: number,
  options: {
    inputTokens: number;
    outputTokens: number;
    tokenizer?: PromptTokenizer;
    seed?: number;
  },
): LoadPrompt[] {
  const { inputTokens, outputTokens, tokenizer } = options;
  const seed = options.seed ?? 42;
  if (!Number.isInteger(inputTokens) || inputTokens < 4) {
    throw new RangeError(`'input-tokens' must be an integer >= 4, got ${inputTokens}`);
  }
  if (!Number.isInteger(outputTokens) || outputTokens < 1) {
    throw new RangeError(`'output-tokens' must be a positive integer, got ${outputTokens}`);
  }
  return Array.from({ length: n }, (_, i) => {
    const prefix = uniquePrefix(i, seed);
    if (!tokenizer) {
      // ~0.75 words per token for English BPE; the server's usage gives the real count.
      const words = Math.max(1, Math.round(inputTokens * 0.75));
      const body = promptText("conversational", Math.ceil(words / 6), i, seed);
      const text = prefix + body.split(/\s+/).slice(0, words).join(" ");
      return { text, tokens: null, outputTokens };
    }
    let units = Math.ceil(inputTokens / 6);
    let ids: number[];
    for (;;) {
      ids = tokenizer.encode(prefix + promptText("conversational", units, i, seed));
      if (ids.length > inputTokens + 8) break;
      units *= 2;
    }
    const special = tokenizer.encode("").length; // BOS the tokenizer adds
    let best: { text: string; tokens: number } | null = null;
    for (let cut = inputTokens; cut > inputTokens - 8 && cut > special; cut--) {
      const text = tokenizer.decode(ids.slice(special, cut), { skip_special_tokens: true });
      const tokens = tokenizer.encode(text).length;
      if (best === null || Math.abs(tokens - inputTokens) < Math.abs(best.tokens - inputTokens)) {
        best = { text, tokens };
      }
      if (tokens === inputTokens) break;
    }
    return { text: best!.text, tokens: best!.tokens, outputTokens };
  });
}

/**
 * Prompts from a JSONL file: one `{"prompt": "...", "output_tokens"?: N}` per line.
 *
 * @param text The file's content.
 * @param options The run's output tokens (for lines without their own) and a tokenizer to count.
 * @returns The prompts in file order.
 * @throws {SyntaxError} naming the line and the field for a bad line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonlPrompts } from "./prompts.ts";
 * const p = jsonlPrompts('{"prompt":"hi"}\n{"prompt":"yo","output_tokens":3}\n', { outputTokens: 8 });
 * assert(p[0]!.outputTokens === 8 && p[1]!.outputTokens === 3);
 * ```
 */
export function jsonlPrompts(
  text: string,
  options: { outputTokens: number; tokenizer?: PromptTokenizer },
): LoadPrompt[] {
  const out: LoadPrompt[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new SyntaxError(`prompts file line ${i + 1}: not JSON`);
    }
    const { prompt, output_tokens: own } = (json ?? {}) as Record<string, unknown>;
    if (typeof prompt !== "string" || prompt === "") {
      throw new SyntaxError(`prompts file line ${i + 1}: 'prompt' must be a non-empty string`);
    }
    if (own !== undefined && !(Number.isInteger(own) && (own as number) > 0)) {
      throw new SyntaxError(
        `prompts file line ${i + 1}: 'output_tokens' must be a positive integer`,
      );
    }
    out.push({
      text: prompt,
      tokens: options.tokenizer ? options.tokenizer.encode(prompt).length : null,
      outputTokens: (own as number | undefined) ?? options.outputTokens,
    });
  });
  if (out.length === 0) throw new SyntaxError("prompts file has no prompt");
  return out;
}
