/**
 * A prefix cache shared across conversations: token sequences with their KV cache, looked up by
 * longest common prefix (a common system prompt, a document two conversations both quote), with
 * a capacity in tokens and/or bytes and least-recently-used eviction.
 *
 * The counters are in tokens, as vLLM's prefix-cache hit rate is: `hitRate` = reused prompt
 * tokens / prompt tokens looked up. `hits` counts lookups that reused at least one token,
 * `misses` those that reused none, `evictions` entries dropped to make room (an entry replaced
 * by a longer sequence that starts with it is not an eviction: nothing reusable was lost).
 *
 * Entries hold the KV tensors by reference; `bytes` is the sum of each entry's tensor sizes (an
 * entry and a live conversation may share the same tensors, so it is not RSS).
 *
 * @module
 */
import { commonPrefixLength, kvBytes, kvLength, type KvTensors, sliceKv } from "./kv.ts";

/** Options of {@linkcode PrefixCache}. */
export interface PrefixCacheOptions {
  /** Most tokens held over all entries. @default Infinity */
  capacityTokens?: number;
  /** Most bytes of KV tensors held over all entries. @default Infinity */
  capacityBytes?: number;
}

/** Counters of a {@linkcode PrefixCache}. */
export interface PrefixCacheStats {
  /** Lookups made. */
  lookups: number;
  /** Prompt tokens looked up (sum of the prompts' lengths). */
  promptTokens: number;
  /** Prompt tokens served from the cache. */
  reusedTokens: number;
  /** reusedTokens / promptTokens (0 before any lookup). */
  hitRate: number;
  /** Lookups that reused at least one token. */
  hits: number;
  /** Lookups that reused none. */
  misses: number;
  /** Entries dropped (least recently used first) to respect the capacity. */
  evictions: number;
  /** Entries held now. */
  entries: number;
  /** Tokens held now. */
  tokens: number;
  /** KV bytes held now. */
  bytes: number;
}

/** What a lookup found. */
export interface PrefixMatch {
  /** Reusable leading tokens of the prompt (0 on a miss). */
  length: number;
  /** The KV cache of those tokens (cut to `length`), or `null` on a miss. */
  past: KvTensors | null;
}

interface Entry {
  tokens: readonly number[];
  past: KvTensors;
  bytes: number;
}

/**
 * Token sequences and their KV caches, shared across conversations, with LRU eviction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { PrefixCache } from "./prefix_cache.ts";
 * const kv = (n: number) => [new ort.Tensor("float32", new Float32Array(n * 2), [1, 1, n, 2])];
 * const cache = new PrefixCache({ capacityTokens: 8 });
 * cache.insert([1, 2, 3, 4], kv(4)); // a system prompt
 * const match = cache.lookup([1, 2, 3, 9, 9, 9]);
 * assert.equal(match.length, 3);
 * assert.equal(cache.stats().hitRate, 3 / 6);
 * ```
 */
export class PrefixCache {
  readonly #capacityTokens: number;
  readonly #capacityBytes: number;
  /** Insertion order is recency order: the first entry is the least recently used. */
  readonly #entries = new Set<Entry>();
  #lookups = 0;
  #promptTokens = 0;
  #reusedTokens = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  /**
   * @param options Capacity in tokens and/or bytes (both unbounded by default).
   * @throws {RangeError} naming the field when a capacity is not a positive number.
   */
  constructor(options: PrefixCacheOptions = {}) {
    this.#capacityTokens = capacity(options.capacityTokens, "capacityTokens");
    this.#capacityBytes = capacity(options.capacityBytes, "capacityBytes");
  }

  /**
   * The longest prefix of `prompt` held by any entry (that entry becomes the most recently
   * used), counted in the statistics.
   *
   * @param prompt The prompt's token ids.
   * @param options `limit`: reuse at most this many tokens (a caller that must still run at
   * least one token passes `prompt.length - 1`).
   * @returns The reusable length and its KV cache (cut to that length).
   */
  lookup(prompt: readonly number[], options: { limit?: number } = {}): PrefixMatch {
    const limit = Math.min(options.limit ?? prompt.length, prompt.length);
    let best: Entry | null = null;
    let length = 0;
    for (const entry of this.#entries) {
      const n = Math.min(commonPrefixLength(entry.tokens, prompt), limit);
      if (n > length) {
        length = n;
        best = entry;
      }
    }
    this.#lookups++;
    this.#promptTokens += prompt.length;
    this.#reusedTokens += length;
    if (best === null) {
      this.#misses++;
      return { length: 0, past: null };
    }
    this.#hits++;
    this.#touch(best);
    return { length, past: sliceKv(best.past, length) };
  }

  /**
   * Stores a sequence and its KV cache as the most recently used entry. Entries that are a
   * prefix of `tokens` are replaced by it; if an entry already starts with `tokens`, that entry
   * is only marked used. Then least recently used entries are evicted until the capacity holds;
   * a sequence larger than the whole capacity is stored cut to what fits.
   *
   * @param tokens The sequence (the KV cache covers exactly these tokens).
   * @param past Its KV cache, `kvLength(past) === tokens.length`.
   * @returns Tokens stored (0 when nothing fits).
   * @throws {RangeError} when the cache's length differs from the tokens'.
   */
  insert(tokens: readonly number[], past: KvTensors): number {
    if (kvLength(past) !== tokens.length) {
      throw new RangeError(
        `Cannot insert into the prefix cache: 'past' holds ${
          kvLength(past)
        } positions for ${tokens.length} tokens`,
      );
    }
    if (tokens.length === 0) return 0;
    for (const entry of this.#entries) {
      const n = commonPrefixLength(entry.tokens, tokens);
      if (n === tokens.length) {
        this.#touch(entry);
        return 0;
      }
      if (n === entry.tokens.length) this.#entries.delete(entry);
    }
    const bytesPerToken = kvBytes(past) / tokens.length;
    const fits = Math.min(
      tokens.length,
      Math.floor(this.#capacityTokens),
      bytesPerToken > 0 ? Math.floor(this.#capacityBytes / bytesPerToken) : tokens.length,
    );
    if (fits <= 0) return 0;
    const kept = fits === tokens.length ? past : sliceKv(past, fits);
    const entry: Entry = { tokens: tokens.slice(0, fits), past: kept, bytes: kvBytes(kept) };
    this.#entries.add(entry);
    while (this.#overCapacity()) {
      const oldest = this.#entries.values().next().value!;
      this.#entries.delete(oldest);
      this.#evictions++;
    }
    return fits;
  }

  /**
   * The counters and current size.
   *
   * @returns A snapshot.
   */
  stats(): PrefixCacheStats {
    let tokens = 0;
    let bytes = 0;
    for (const entry of this.#entries) {
      tokens += entry.tokens.length;
      bytes += entry.bytes;
    }
    return {
      lookups: this.#lookups,
      promptTokens: this.#promptTokens,
      reusedTokens: this.#reusedTokens,
      hitRate: this.#promptTokens === 0 ? 0 : this.#reusedTokens / this.#promptTokens,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      entries: this.#entries.size,
      tokens,
      bytes,
    };
  }

  /** Token sequences held, least recently used first (for tests and reports). */
  sequences(): number[][] {
    return [...this.#entries].map((e) => [...e.tokens]);
  }

  #touch(entry: Entry): void {
    this.#entries.delete(entry);
    this.#entries.add(entry);
  }

  #overCapacity(): boolean {
    let tokens = 0;
    let bytes = 0;
    for (const entry of this.#entries) {
      tokens += entry.tokens.length;
      bytes += entry.bytes;
    }
    return tokens > this.#capacityTokens || bytes > this.#capacityBytes;
  }
}

function capacity(value: number | undefined, field: string): number {
  if (value === undefined) return Infinity;
  if (!(value > 0)) {
    throw new RangeError(
      `Invalid prefix cache: '${field}' must be a positive number, got ${value}`,
    );
  }
  return value;
}
