/**
 * Log-probabilities in OpenAI's two wire formats:
 *
 * - completions (legacy): `{tokens, token_logprobs, top_logprobs, text_offset}`, four parallel
 *   lists; `top_logprobs[i]` maps token text to log-probability for the `logprobs` most likely
 *   tokens plus the chosen one (so it may hold `logprobs + 1` entries, as OpenAI documents);
 *   `text_offset[i]` is where token `i` starts in the returned text (with `echo`, the prompt's
 *   first token is at 0; without it the completion's first token is at the prompt's length). The
 *   first echoed prompt token has no context, so its `token_logprobs` and `top_logprobs` are null.
 * - chat: `{content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], refusal}`.
 *
 * A token's text is the tokenizer's decoding of that one id (special tokens shown); a token that
 * is part of a multi-byte character decodes to U+FFFD, and `bytes` are the UTF-8 bytes of that
 * text.
 *
 * @module
 */
import type { StreamedToken } from "./model_pool.ts";

/** Decodes one token id to its text. */
export type TokenText = (id: number) => string;

/** The completions (legacy) `logprobs` object. */
export interface LegacyLogprobs {
  /** Token texts. */
  tokens: string[];
  /** Each token's log-probability (null: the first echoed prompt token). */
  token_logprobs: (number | null)[];
  /** Most likely tokens at each position, text → log-probability (null: as above). */
  top_logprobs: (Record<string, number> | null)[];
  /** Character offset of each token in the returned text. */
  text_offset: number[];
}

/**
 * The legacy `logprobs` object of some tokens.
 *
 * @param tokens The tokens (scored with `logprobs`).
 * @param text Decodes an id.
 * @param offset Character offset of the first token; advanced past the last one.
 * @returns The object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legacyLogprobs } from "./openai_logprobs.ts";
 * const text = (id: number) => ["A", " b"][id]!;
 * const offset = { at: 0 };
 * const lp = legacyLogprobs([
 *   { id: 0, prompt: true, logprob: null, top: [] },
 *   { id: 1, prompt: true, logprob: -0.5, top: [{ id: 0, logprob: -0.2 }] },
 * ], text, offset);
 * assert.deepEqual(lp.token_logprobs, [null, -0.5]);
 * assert.deepEqual(lp.top_logprobs, [null, { A: -0.2, " b": -0.5 }]);
 * assert.deepEqual(lp.text_offset, [0, 1]);
 * assert.equal(offset.at, 3);
 * ```
 */
export function legacyLogprobs(
  tokens: readonly StreamedToken[],
  text: TokenText,
  offset: { at: number },
): LegacyLogprobs {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const t of tokens) {
    const s = text(t.id);
    out.tokens.push(s);
    out.token_logprobs.push(t.logprob);
    if (t.logprob === null) out.top_logprobs.push(null);
    else {
      const top: Record<string, number> = {};
      for (const c of t.top) top[text(c.id)] ??= c.logprob;
      top[s] ??= t.logprob;
      out.top_logprobs.push(top);
    }
    out.text_offset.push(offset.at);
    offset.at += s.length;
  }
  return out;
}

/** One entry of chat `logprobs.content`. */
export interface ChatTokenLogprob {
  /** Token text. */
  token: string;
  /** Its log-probability. */
  logprob: number;
  /** UTF-8 bytes of the text. */
  bytes: number[];
  /** The most likely tokens at this position. */
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/**
 * The chat `logprobs` object of some generated tokens.
 *
 * @param tokens The tokens (scored).
 * @param text Decodes an id.
 * @returns `{content, refusal: null}`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatLogprobs } from "./openai_logprobs.ts";
 * const lp = chatLogprobs([{ id: 0, prompt: false, logprob: -1, top: [{ id: 0, logprob: -1 }] }],
 *   () => "é");
 * assert.deepEqual(lp.content[0], {
 *   token: "é", logprob: -1, bytes: [195, 169],
 *   top_logprobs: [{ token: "é", logprob: -1, bytes: [195, 169] }],
 * });
 * ```
 */
export function chatLogprobs(
  tokens: readonly StreamedToken[],
  text: TokenText,
): { content: ChatTokenLogprob[]; refusal: null } {
  const entry = (id: number, logprob: number) => {
    const token = text(id);
    return { token, logprob, bytes: [...new TextEncoder().encode(token)] };
  };
  return {
    content: tokens.map((t) => ({
      ...entry(t.id, t.logprob ?? 0),
      top_logprobs: t.top.map((c) => entry(c.id, c.logprob)),
    })),
    refusal: null,
  };
}
