/**
 * Models loaded for the OpenAI-compatible routes, and greedy token streaming on them. A model is
 * loaded on first request (presets are built on first use) and kept; requests on one model take
 * turns step by step (a lock around each graph run), so concurrent streams interleave token by
 * token instead of waiting for each other's whole answer.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import type { Dtype } from "../dtypes.ts";
import { type DecoderModel, loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { filledInt64, int64Tensor, positionIds, toFloat32 } from "../runtime/tensors.ts";

/** A loaded model and the lock its requests share. */
export interface PooledModel {
  /** The decoder. */
  model: DecoderModel;
  /** Runs `fn` when no other step of this model runs. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Generations in progress (a model in use is never evicted). */
  active: number;
}

/**
 * Loaded models, keyed by model id and dtype; at most `capacity` kept: the least recently used
 * idle one is dropped (a model with a generation in progress is kept, even past the capacity).
 *
 * @example
 * ```ts ignore
 * const pool = new ModelPool();
 * const { model } = await pool.get("preset:tiny", "fp32");
 * ```
 */
export class ModelPool {
  readonly #capacity: number;
  readonly #models = new Map<string, Promise<PooledModel>>();
  readonly #loaded = new Map<string, PooledModel>();

  /** @param capacity Models kept loaded. @default 2 */
  constructor(capacity = 2) {
    this.#capacity = capacity;
  }

  /**
   * The loaded model, loading it first when needed.
   *
   * @param ref Model reference.
   * @param dtype Weight dtype.
   * @returns The pooled model.
   */
  get(ref: string, dtype: Dtype): Promise<PooledModel> {
    const key = `${ref}\0${dtype}`;
    let entry = this.#models.get(key);
    if (entry) {
      this.#models.delete(key); // re-insert: most recently used last
      this.#models.set(key, entry);
      return entry;
    }
    entry = load(ref, dtype);
    entry.then((p) => this.#loaded.set(key, p), () => this.#models.delete(key));
    this.#models.set(key, entry);
    for (const oldKey of [...this.#models.keys()]) {
      if (this.#models.size <= this.#capacity) break;
      const old = this.#loaded.get(oldKey);
      if (oldKey === key || old === undefined || old.active > 0) continue;
      this.#models.delete(oldKey);
      this.#loaded.delete(oldKey);
      old.exclusive(() => old.model.dispose()).catch(() => {});
    }
    return entry;
  }

  /** Releases every model. */
  async close(): Promise<void> {
    const all = [...this.#models.values()];
    this.#models.clear();
    this.#loaded.clear();
    await Promise.all(
      all.map((p) => p.then((m) => m.exclusive(() => m.model.dispose())).catch(() => {})),
    );
  }
}

async function load(ref: string, dtype: Dtype): Promise<PooledModel> {
  const resolved = await resolveModel(ref, { dtypes: [dtype] });
  const model = await loadDecoder(resolved, { dtype, device: "cpu" });
  let tail: Promise<unknown> = Promise.resolve();
  return {
    model,
    active: 0,
    exclusive<T>(fn: () => Promise<T>): Promise<T> {
      const run = tail.then(fn);
      tail = run.catch(() => {});
      return run;
    },
  };
}

/** Options of {@linkcode streamTokens}. */
export interface StreamOptions {
  /** Most new tokens. */
  maxTokens: number;
  /** Stop at an end-of-sequence token (not emitted). @default true */
  stopAtEos?: boolean;
  /** Aborts generation (the client went away). */
  signal?: AbortSignal;
}

/**
 * Greedy generation with the KV cache, one token at a time.
 *
 * @param pooled A pooled model.
 * @param promptIds Prompt token ids.
 * @param options Token budget, EOS handling, abort signal.
 * @returns The ids as they are made; `return` value says why it stopped.
 */
export async function* streamTokens(
  pooled: PooledModel,
  promptIds: readonly number[],
  options: StreamOptions,
): AsyncGenerator<number, "stop" | "length" | "aborted"> {
  const { model } = pooled;
  const eos = new Set(model.config.eosTokenIds);
  const stopAtEos = options.stopAtEos ?? true;
  let past: ort.Tensor[] = [];
  let length = promptIds.length;
  pooled.active++;
  try {
    let next = await pooled.exclusive(async () => {
      const out = await model.step(
        int64Tensor([promptIds]),
        filledInt64(1, length),
        positionIds(1, length, 0),
        null,
        true,
      );
      past = out.present;
      return lastArgmax(out.logits);
    });
    for (let made = 0; made < options.maxTokens; made++) {
      if (options.signal?.aborted) return "aborted";
      if (stopAtEos && eos.has(next)) return "stop";
      yield next;
      if (made + 1 === options.maxTokens) break;
      const id = next;
      next = await pooled.exclusive(async () => {
        const out = await model.step(
          new ort.Tensor("int64", BigInt64Array.of(BigInt(id)), [1, 1]),
          filledInt64(1, length + 1),
          positionIds(1, 1, length),
          past,
          true,
        );
        for (const t of past) t.dispose();
        past = out.present;
        return lastArgmax(out.logits);
      });
      length++;
    }
    return "length";
  } finally {
    pooled.active--;
    for (const t of past) t.dispose();
  }
}

/** Greedy id at the last position of `[1, seq, vocab]` logits (ties: lowest id). */
function lastArgmax(logits: ort.Tensor): number {
  try {
    const values = toFloat32(logits);
    const vocab = logits.dims[logits.dims.length - 1]!;
    const start = values.length - vocab;
    let best = 0;
    let bestValue = -Infinity;
    for (let v = 0; v < vocab; v++) {
      if (values[start + v]! > bestValue) {
        bestValue = values[start + v]!;
        best = v;
      }
    }
    if (!(bestValue > -Infinity)) throw new RangeError("Invalid logits: all NaN or -Infinity");
    return best;
  } finally {
    logits.dispose();
  }
}
