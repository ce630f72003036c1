/**
 * A deterministic WordPiece vocabulary and the `tokenizer.json` / `tokenizer_config.json` of a
 * BERT uncased tokenizer built on it (BertNormalizer lowercasing, BertPreTokenizer, `##`
 * continuation pieces, `[CLS] A [SEP]` template), as transformers.js and Hugging Face tokenizers
 * load them. The vocabulary is a function of its size and seed only: specials at BERT's ids, every
 * printable ASCII character (whole and `##`), the words of the project's synthetic prompts, then
 * seeded syllable words and `##` pieces up to the size.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";
import { PROMPT_FAMILIES, promptText } from "../engine/prompts.ts";

/** The special tokens and their ids, as `bert-base-uncased` numbers them. */
export const WORDPIECE_SPECIALS: Readonly<{
  pad: { token: "[PAD]"; id: 0 };
  unk: { token: "[UNK]"; id: 100 };
  cls: { token: "[CLS]"; id: 101 };
  sep: { token: "[SEP]"; id: 102 };
  mask: { token: "[MASK]"; id: 103 };
}> = Object.freeze(
  {
    pad: { token: "[PAD]", id: 0 },
    unk: { token: "[UNK]", id: 100 },
    cls: { token: "[CLS]", id: 101 },
    sep: { token: "[SEP]", id: 102 },
    mask: { token: "[MASK]", id: 103 },
  } as const,
);

/** Prefix of a piece that continues a word. */
export const CONTINUATION_PREFIX = "##";

const ONSETS = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w"];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const CODAS = ["", "", "n", "r", "s", "t", "l", "m"];

/**
 * A WordPiece vocabulary of exactly `size` distinct tokens, ordered by id.
 *
 * @param size Vocabulary size (≥ 200).
 * @param seed Seed of the filler words. @default 42
 * @returns Tokens; `tokens[id]` is the piece of that id.
 * @throws {RangeError} when `size` is below 200 or not an integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wordPieceVocab } from "./wordpiece.ts";
 * const vocab = wordPieceVocab(1000);
 * assert(vocab.length === 1000 && vocab[101] === "[CLS]" && new Set(vocab).size === 1000);
 * ```
 */
export function wordPieceVocab(size: number, seed = 42): string[] {
  if (!Number.isInteger(size) || size < 200) {
    throw new RangeError(`Cannot build WordPiece vocabulary: 'size' must be >= 200, got ${size}`);
  }
  const tokens: string[] = [];
  const seen = new Set<string>();
  const add = (t: string) => {
    if (tokens.length < size && !seen.has(t)) {
      seen.add(t);
      tokens.push(t);
    }
  };
  const { pad, unk, cls, sep, mask } = WORDPIECE_SPECIALS;
  add(pad.token);
  for (let i = 1; i < unk.id; i++) add(`[unused${i - 1}]`);
  for (const t of [unk.token, cls.token, sep.token, mask.token]) add(t);
  const chars: string[] = [];
  for (let c = 0x21; c < 0x7f; c++) {
    const ch = String.fromCharCode(c);
    if (ch === ch.toLowerCase()) chars.push(ch);
  }
  for (const ch of chars) add(ch);
  for (const ch of chars) if (/[a-z0-9]/.test(ch)) add(CONTINUATION_PREFIX + ch);
  for (const word of promptWords()) add(word);
  const r = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  while (tokens.length < size) {
    let word = "";
    const syllables = 1 + Math.floor(r() * 3);
    for (let s = 0; s < syllables; s++) word += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    add(r() < 0.25 ? CONTINUATION_PREFIX + word : word);
  }
  return tokens;
}

/** The lowercased words of the synthetic prompts (lib/engine/prompts.ts), in first-seen order. */
function promptWords(): string[] {
  const words: string[] = [];
  const seen = new Set<string>();
  for (const family of PROMPT_FAMILIES) {
    for (let i = 0; i < 8; i++) {
      for (const w of promptText(family, 12, i).toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        if (!seen.has(w)) {
          seen.add(w);
          words.push(w);
        }
      }
    }
  }
  return words;
}

/**
 * The `tokenizer.json` and `tokenizer_config.json` of a BERT uncased WordPiece tokenizer.
 *
 * @param vocab Tokens by id, e.g. from {@linkcode wordPieceVocab}.
 * @param options `modelMaxLength` for `tokenizer_config.json`.
 * @returns Both JSON objects, ready to stringify.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wordPieceTokenizerFiles, wordPieceVocab } from "./wordpiece.ts";
 * const { tokenizerJson } = wordPieceTokenizerFiles(wordPieceVocab(300), { modelMaxLength: 128 });
 * assert((tokenizerJson.model as { type: string }).type === "WordPiece");
 * ```
 */
export function wordPieceTokenizerFiles(
  vocab: readonly string[],
  options: { modelMaxLength: number },
): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const { pad, unk, cls, sep, mask } = WORDPIECE_SPECIALS;
  const specials = [pad, unk, cls, sep, mask];
  for (const s of specials) {
    if (vocab[s.id] !== s.token) {
      throw new RangeError(`Cannot write tokenizer: 'vocab[${s.id}]' must be ${s.token}`);
    }
  }
  const addedToken = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((s) => addedToken(s.id, s.token)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: cls.token, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sep.token, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls.token, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: sep.token, type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: sep.token, type_id: 1 } },
      ],
      special_tokens: {
        [cls.token]: { id: cls.token, ids: [cls.id], tokens: [cls.token] },
        [sep.token]: { id: sep.token, ids: [sep.id], tokens: [sep.token] },
      },
    },
    decoder: { type: "WordPiece", prefix: CONTINUATION_PREFIX, cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: unk.token,
      continuing_subword_prefix: CONTINUATION_PREFIX,
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, id) => [t, id])),
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    tokenize_chinese_chars: true,
    strip_accents: null,
    clean_up_tokenization_spaces: true,
    model_max_length: options.modelMaxLength,
    padding_side: "right",
    pad_token: pad.token,
    unk_token: unk.token,
    cls_token: cls.token,
    sep_token: sep.token,
    mask_token: mask.token,
    model_input_names: ["input_ids", "token_type_ids", "attention_mask"],
    added_tokens_decoder: Object.fromEntries(
      specials.map((s) => [String(s.id), addedToken(s.id, s.token)]),
    ),
  };
  return { tokenizerJson, tokenizerConfig };
}
