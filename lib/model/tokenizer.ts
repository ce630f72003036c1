/**
 * A byte-level BPE tokenizer in Hugging Face `tokenizer.json` form, learned deterministically
 * from generated English-like and code filler text. All 256 bytes are tokens, so any UTF-8 text
 * round-trips; transformers.js `AutoTokenizer` loads it.
 *
 * @module
 */
import { fillerText } from "./_corpus.ts";

/** Special tokens, in id order after the learned vocabulary. */
export const SPECIAL_TOKENS: Readonly<{ bos: "<|begin_of_text|>"; eos: "<|end_of_text|>" }> = Object
  .freeze(
    {
      bos: "<|begin_of_text|>",
      eos: "<|end_of_text|>",
    } as const,
  );

/** GPT-2 pre-tokenisation (what the `ByteLevel` pre-tokenizer with `use_regex` applies). */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** A simple chat template: `role: content` lines after the BOS token. */
export const CHAT_TEMPLATE: string = "{{ bos_token }}{% for message in messages %}" +
  "{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}";

/** A learned tokenizer. */
export interface TrainedTokenizer {
  /** Token strings (byte-level alphabet) by id, specials last. */
  tokens: string[];
  /** Merges in rank order. */
  merges: [string, string][];
  /** Id of `<|begin_of_text|>`. */
  bosTokenId: number;
  /** Id of `<|end_of_text|>`. */
  eosTokenId: number;
}

/**
 * GPT-2's byte → printable character map used by byte-level BPE.
 *
 * @returns 256 single-character strings, indexed by byte.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byteAlphabet } from "./tokenizer.ts";
 * assert(byteAlphabet()[32] === "Ġ" && byteAlphabet()[65] === "A");
 * ```
 */
export function byteAlphabet(): string[] {
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCharCode(printable ? b : 256 + extra++);
  }
  return out;
}

/**
 * Learns a byte-level BPE of exactly `vocabSize` tokens (256 bytes + merges + 2 specials) from
 * filler text; the same size always gives the same tokenizer.
 *
 * @param vocabSize Total tokens, at least 258.
 * @returns Tokens, merges and special ids.
 * @throws {RangeError} when `vocabSize` is below 258.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainTokenizer } from "./tokenizer.ts";
 * const t = trainTokenizer(300);
 * assert(t.tokens.length === 300 && t.eosTokenId === 299);
 * ```
 */
export function trainTokenizer(vocabSize: number): TrainedTokenizer {
  if (!Number.isInteger(vocabSize) || vocabSize < 258) {
    throw new RangeError(
      `Cannot train tokenizer: 'vocabSize' must be an integer >= 258, got ${vocabSize}`,
    );
  }
  const numMerges = vocabSize - 258;
  const alphabet = byteAlphabet();
  const text = fillerText(Math.max(4000, numMerges * 40));
  const counts = new Map<string, number>();
  const encoder = new TextEncoder();
  for (const piece of text.match(GPT2_PATTERN) ?? []) {
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [piece, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    words.push(Array.from(encoder.encode(piece)));
    freq.push(n);
  }
  const tokens = [...alphabet];
  const merges = learnMerges(words, freq, numMerges, tokens);
  // Too little text for every merge: pad with merges of learned tokens (still valid BPE).
  for (let i = 0; merges.length < numMerges; i++) {
    const a = tokens[256 + (i % Math.max(1, tokens.length - 256))] ?? alphabet[i % 256]!;
    const b = alphabet[(i * 7) % 256]!;
    if (tokens.includes(a + b)) continue;
    merges.push([a, b]);
    tokens.push(a + b);
  }
  tokens.push(SPECIAL_TOKENS.bos, SPECIAL_TOKENS.eos);
  return { tokens, merges, bosTokenId: vocabSize - 2, eosTokenId: vocabSize - 1 };
}

const KEY_BASE = 1 << 20;

/** Classic BPE training with incremental pair counts and a lazy max-heap. */
function learnMerges(
  words: number[][],
  freq: number[],
  numMerges: number,
  tokens: string[],
): [string, string][] {
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, touched: Set<number>) => {
    const ids = words[w]!;
    for (let i = 0; i + 1 < ids.length; i++) {
      const key = ids[i]! * KEY_BASE + ids[i + 1]!;
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]!);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, set = new Set());
        set.add(w);
      }
      touched.add(key);
    }
  };
  const heap = new MaxHeap();
  const initial = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, initial);
  for (const key of initial) heap.push(pairCount.get(key)!, key);
  const merges: [string, string][] = [];
  while (merges.length < numMerges && heap.size > 0) {
    const [count, key] = heap.pop();
    if (pairCount.get(key) !== count || count <= 0) continue;
    const a = Math.floor(key / KEY_BASE);
    const b = key % KEY_BASE;
    const id = tokens.length;
    tokens.push(tokens[a]! + tokens[b]!);
    merges.push([tokens[a]!, tokens[b]!]);
    const touched = new Set<number>();
    for (const w of [...(pairWords.get(key) ?? [])].sort((x, y) => x - y)) {
      addPairs(w, -1, touched);
      const ids = words[w]!;
      const merged: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          merged.push(id);
          i++;
        } else merged.push(ids[i]!);
      }
      words[w] = merged;
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    pairCount.delete(key);
    for (const t of touched) {
      const c = pairCount.get(t);
      if (c !== undefined && c > 0) heap.push(c, t);
    }
  }
  return merges;
}

/** Max-heap of (count, key); ties broken by the smaller key, so training is deterministic. */
class MaxHeap {
  #counts: number[] = [];
  #keys: number[] = [];
  get size(): number {
    return this.#counts.length;
  }
  #above(i: number, j: number): boolean {
    const ci = this.#counts[i]!, cj = this.#counts[j]!;
    return ci > cj || (ci === cj && this.#keys[i]! < this.#keys[j]!);
  }
  #swap(i: number, j: number): void {
    [this.#counts[i], this.#counts[j]] = [this.#counts[j]!, this.#counts[i]!];
    [this.#keys[i], this.#keys[j]] = [this.#keys[j]!, this.#keys[i]!];
  }
  push(count: number, key: number): void {
    this.#counts.push(count);
    this.#keys.push(key);
    let i = this.#counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.#counts[0]!, this.#keys[0]!];
    const lastCount = this.#counts.pop()!;
    const lastKey = this.#keys.pop()!;
    if (this.#counts.length > 0) {
      this.#counts[0] = lastCount;
      this.#keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let best = i;
        if (l < this.#counts.length && this.#above(l, best)) best = l;
        if (r < this.#counts.length && this.#above(r, best)) best = r;
        if (best === i) break;
        this.#swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * The `tokenizer.json` and `tokenizer_config.json` contents of a learned tokenizer.
 *
 * @param tokenizer The learned tokenizer.
 * @param options `modelMaxLength` for `tokenizer_config.json`.
 * @returns Both JSON objects, ready to stringify.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizerFiles, trainTokenizer } from "./tokenizer.ts";
 * const { tokenizerJson } = tokenizerFiles(trainTokenizer(300), { modelMaxLength: 256 });
 * assert((tokenizerJson.model as { type: string }).type === "BPE");
 * ```
 */
export function tokenizerFiles(
  tokenizer: TrainedTokenizer,
  options: { modelMaxLength: number },
): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const { bos, eos } = SPECIAL_TOKENS;
  const vocab: Record<string, number> = {};
  tokenizer.tokens.forEach((t, id) => {
    if (id < tokenizer.bosTokenId) vocab[t] = id;
  });
  const added = [[tokenizer.bosTokenId, bos], [tokenizer.eosTokenId, eos]] as const;
  const addedToken = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  const tokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added.map(([id, content]) => addedToken(id, content)),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [tokenizer.bosTokenId], tokens: [bos] } },
    },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tokenizer.merges,
    },
  };
  const tokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: bos,
    eos_token: eos,
    pad_token: eos,
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength,
    padding_side: "left",
    chat_template: CHAT_TEMPLATE,
    model_input_names: ["input_ids", "attention_mask"],
    added_tokens_decoder: Object.fromEntries(
      added.map(([id, content]) => [String(id), addedToken(id, content)]),
    ),
  };
  return { tokenizerJson, tokenizerConfig };
}
