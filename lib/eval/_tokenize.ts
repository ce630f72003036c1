/**
 * Tokenising the evaluation text once, or only as much of it as a token cap needs. Private to
 * lib/eval.
 *
 * @module
 */

/**
 * Token ids of `text` as the tokenizer makes them by default, cut to `maxTokens`. With a cap,
 * only a prefix of the text is tokenised, cut at a line break far enough past the last kept token
 * (≥ 64 tokens of margin) that the kept ids equal those of the whole text.
 *
 * @param encode The tokenizer's default encoding.
 * @param text The whole text.
 * @param maxTokens Keep the first N tokens, or null for all.
 * @returns The token ids.
 */
export function tokenizePrefix(
  encode: (text: string) => number[],
  text: string,
  maxTokens: number | null,
): number[] {
  if (maxTokens === null) return encode(text);
  let chars = Math.max(1024, (maxTokens + 64) * 8);
  while (true) {
    if (chars >= text.length) return encode(text).slice(0, maxTokens);
    const cut = text.indexOf("\n", chars);
    if (cut === -1) return encode(text).slice(0, maxTokens);
    const ids = encode(text.slice(0, cut));
    if (ids.length >= maxTokens + 64) return ids.slice(0, maxTokens);
    chars *= 2;
  }
}
