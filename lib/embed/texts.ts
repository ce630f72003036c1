/**
 * The benchmark's texts: seeded synthetic prose and code (lib/engine/prompts.ts, the three prompt
 * families round-robin, the n-th text of a family starting 3n words in so that texts of one
 * template do not share their opening), each cut at a word boundary and completed with one-token words so the
 * model's tokenizer gives exactly `seqLen` tokens, special tokens included. No truncation is then
 * needed, so the transformers.js pipeline (which pads and truncates on its own) sees the same
 * tokens as the ORT loop.
 *
 * @module
 */
import { PROMPT_FAMILIES, promptText } from "../engine/prompts.ts";
import type { Tokenizer } from "../engine/resolve.ts";

/** Options of {@linkcode embedTexts}. */
export interface EmbedTextsOptions {
  /** Number of texts. */
  count: number;
  /** Tokens per text with the tokenizer's special tokens (≥ 3). */
  seqLen: number;
  /** Generator seed. @default 42 */
  seed?: number;
}

/**
 * Texts of exactly `seqLen` tokens each under `tokenizer`.
 *
 * @param tokenizer The model's tokenizer.
 * @param options Count, length, seed.
 * @returns `count` distinct texts.
 * @throws {RangeError} for a bad count or length, or a tokenizer that cannot reach the length.
 * @example
 * ```ts ignore
 * import { embedTexts } from "./texts.ts";
 * const texts = embedTexts(tokenizer, { count: 8, seqLen: 128 });
 * ```
 */
export function embedTexts(tokenizer: Tokenizer, options: EmbedTextsOptions): string[] {
  const { count, seqLen } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot make texts: 'count' must be a positive integer, got ${count}`);
  }
  if (!Number.isInteger(seqLen) || seqLen < 3) {
    throw new RangeError(`Cannot make texts: 'seqLen' must be an integer >= 3, got ${seqLen}`);
  }
  const length = (text: string) => tokenizer.encode(text).length;
  const filler = fillerWord(tokenizer);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const family = PROMPT_FAMILIES[i % PROMPT_FAMILIES.length]!;
    const index = Math.floor(i / PROMPT_FAMILIES.length);
    let units = Math.max(2, Math.ceil(seqLen / 12));
    // Texts of one family share the template's opening words: start the i-th a few words in.
    const skip = 3 * index;
    let words: string[];
    for (;;) {
      words = promptText(family, units, index, options.seed).split(/\s+/).filter(Boolean)
        .slice(skip);
      if (length(words.join(" ")) >= seqLen) break;
      units *= 2;
    }
    // Longest word prefix within seqLen tokens (token count grows with the prefix).
    let lo = 0, hi = words.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (length(words.slice(0, mid).join(" ")) <= seqLen) lo = mid;
      else hi = mid - 1;
    }
    let text = words.slice(0, lo).join(" ");
    for (let guard = 0; length(text) < seqLen; guard++) {
      if (guard > seqLen) break;
      text = text === "" ? filler : `${text} ${filler}`;
    }
    if (length(text) !== seqLen) {
      throw new RangeError(
        `Cannot make texts: the tokenizer cannot give exactly ${seqLen} tokens (got ${
          length(text)
        } for text ${i})`,
      );
    }
    texts.push(text);
  }
  return texts;
}

/** A word the tokenizer encodes as exactly one token after a space. */
function fillerWord(tokenizer: Tokenizer): string {
  const base = tokenizer.encode("the").length;
  for (const word of ["a", "the", "of", "and", "x", "."]) {
    if (tokenizer.encode(`the ${word}`).length === base + 1) return word;
  }
  throw new RangeError("Cannot make texts: no one-token filler word in this tokenizer");
}
