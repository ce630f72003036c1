/**
 * Models loaded for the OpenAI-compatible routes, and token streaming on them (greedy or sampled,
 * with log-probabilities and the prompt scored on request). A model is
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
import {
  greedyPick,
  rowLogprobs,
  type TokenLogprob,
  type TokenPicker,
} from "../engine/sampling.ts";
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
  /** Most new tokens (0: score the prompt only, with `echo`). */
  maxTokens: number;
  /** Stop at an end-of-sequence token (not emitted). @default true */
  stopAtEos?: boolean;
  /** Aborts generation (the client went away). */
  signal?: AbortSignal;
  /** Picks each token (sampling.ts `createSampler`). @default greedy */
  pick?: TokenPicker;
  /** Log-probabilities: `null` none, else the chosen token's and this many top ones. @default null */
  logprobs?: number | null;
  /** First yield the prompt's tokens, scored (the first one has no score). @default false */
  echo?: boolean;
}

/** One token of a stream. */
export interface StreamedToken {
  /** Token id. */
  id: number;
  /** Whether it is a prompt token (echo). */
  prompt: boolean;
  /** Its log-probability under the model's raw logits; `null` without `logprobs` and for the first prompt token. */
  logprob: number | null;
  /** The most likely tokens at its position (`logprobs` of them), most likely first. */
  top: TokenLogprob[];
}

/**
 * Generation with the KV cache, one token at a time: greedy, or sampled with `options.pick`.
 *
 * @param pooled A pooled model.
 * @param promptIds Prompt token ids.
 * @param options Token budget, EOS handling, sampler, log-probabilities, echo, abort signal.
 * @returns The tokens as they are made; `return` value says why it stopped.
 */
export async function* streamTokens(
  pooled: PooledModel,
  promptIds: readonly number[],
  options: StreamOptions,
): AsyncGenerator<StreamedToken, "stop" | "length" | "aborted"> {
  const { model } = pooled;
  const eos = new Set(model.config.eosTokenIds);
  const stopAtEos = options.stopAtEos ?? true;
  const pick = options.pick ?? greedyPick;
  const top = options.logprobs ?? null;
  const echo = options.echo ?? false;
  let past: ort.Tensor[] = [];
  let length = promptIds.length;
  const choose = (row: Float32Array, prompt: boolean, id = pick(row)): StreamedToken => {
    if (top === null) return { id, prompt, logprob: null, top: [] };
    const scored = rowLogprobs(row, id, top);
    return { id, prompt, logprob: scored.logprob, top: scored.top };
  };
  pooled.active++;
  try {
    const echoed: StreamedToken[] = [];
    let next = await pooled.exclusive(async () => {
      const out = await model.step(
        int64Tensor([promptIds]),
        filledInt64(1, length),
        positionIds(1, length, 0),
        null,
        true,
        echo && top !== null, // every position's logits only when the prompt is scored
      );
      past = out.present;
      const rows = logitRows(out.logits);
      if (echo) {
        echoed.push({ id: promptIds[0]!, prompt: true, logprob: null, top: [] });
        for (let i = 1; i < promptIds.length; i++) {
          echoed.push(
            top === null
              ? { id: promptIds[i]!, prompt: true, logprob: null, top: [] }
              : choose(rows.at(i - 1), true, promptIds[i]!),
          );
        }
      }
      return choose(rows.at(rows.count - 1), false);
    });
    yield* echoed;
    for (let made = 0; made < options.maxTokens; made++) {
      if (options.signal?.aborted) return "aborted";
      if (stopAtEos && eos.has(next.id)) return "stop";
      yield next;
      if (made + 1 === options.maxTokens) break;
      const id = next.id;
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
        const rows = logitRows(out.logits);
        return choose(rows.at(rows.count - 1), false);
      });
      length++;
    }
    return "length";
  } finally {
    pooled.active--;
    for (const t of past) t.dispose();
  }
}

/** The rows of `[1, seq, vocab]` logits as float32 views (the tensor is released). */
function logitRows(logits: ort.Tensor): { count: number; at(i: number): Float32Array } {
  try {
    const values = toFloat32(logits);
    const vocab = logits.dims[logits.dims.length - 1]!;
    // A CPU tensor's dispose() drops its reference to the data; `values` keeps it alive.
    return {
      count: values.length / vocab,
      at: (i) => values.subarray(i * vocab, (i + 1) * vocab),
    };
  } finally {
    logits.dispose();
  }
}
