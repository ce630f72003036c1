/**
 * A conversation session: keeps the KV cache between turns and prefills only the tokens after the
 * longest common prefix of the cached sequence and the new prompt, as onnxruntime-genai's
 * `append_tokens` and vLLM's automatic prefix caching do. When the new prompt diverges inside the
 * cached part (a RAG block removed, history edited), the cache is cut back to the common prefix
 * (sliced along the sequence axis) and never reused past it. At least the prompt's last token is
 * always run, since its logits give the first new token.
 *
 * Built on the decoder's public `step()`: prefill feeds the cut `past_key_values.*` and the new
 * tokens at positions `reused … prompt − 1`; decoding feeds each step's `present.*` back, as
 * `generate()` does (an `in_place` graph instead writes each step's new keys and values into a
 * fixed-size buffer seeded with the reused prefix, copied out once at the end of the turn). After a turn the session holds the prompt plus every generated token but
 * the last (which was never run).
 *
 * With a shared {@linkcode PrefixCache}, a turn reuses whichever is longer: the session's own
 * cache or the cache's best entry (a system prompt another conversation computed), and the
 * turn's sequence is offered to the shared cache afterwards.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import type { DecoderModel } from "../engine/decoder.ts";
import { halfToFloat, int64Tensor, positionIds } from "../runtime/tensors.ts";
import { KvCache } from "../engine/kv_cache.ts";
import { commonPrefixLength, kvLength, type KvTensors, sliceKv } from "./kv.ts";
import type { PrefixCache } from "./prefix_cache.ts";

/** Options of {@linkcode ChatSession}. */
export interface ChatSessionOptions {
  /** Reuse cached prefixes between turns (off: every turn prefills its whole prompt). @default true */
  reuse?: boolean;
  /** A prefix cache shared with other sessions. @default none */
  prefixCache?: PrefixCache;
}

/** Options of one {@linkcode ChatSession.turn}. */
export interface TurnOptions {
  /** Tokens to generate (the first comes from the prefill). */
  maxNewTokens: number;
  /** Stop at an EOS id (chat mode). @default false (benchmark mode: exactly maxNewTokens) */
  stopAtEos?: boolean;
}

/** Where a turn's reused prefix came from. */
export type ReuseSource = "none" | "session" | "shared";

/** One turn's tokens, reuse and timings. */
export interface TurnResult {
  /** Generated ids. */
  tokens: number[];
  /** Prompt length, tokens. */
  promptTokens: number;
  /** Leading prompt tokens whose KV cache was reused. */
  reusedTokens: number;
  /** Prompt tokens run in the prefill (promptTokens − reusedTokens). */
  prefilledTokens: number;
  /** Cached tokens dropped because the prompt diverged inside (or stopped before) them. */
  cutTokens: number;
  /** Where the reused prefix came from. */
  source: ReuseSource;
  /** Reuse lookup + cut + prefill + first argmax: time to first token, milliseconds. */
  ttftMs: number;
  /** Tokens 2..N, milliseconds. */
  decodeMs: number;
  /** (tokens − 1) / decodeMs × 1000; `null` with one token. */
  decodeTokensPerS: number | null;
}

/**
 * One conversation on a loaded decoder, turn after turn.
 *
 * @example
 * ```ts ignore
 * import { ChatSession } from "./session.ts";
 * import { loadDecoder, resolveModel } from "../engine/mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32" });
 * const chat = new ChatSession(model);
 * const first = await chat.turn([1, 5, 6, 7], { maxNewTokens: 4 });
 * const second = await chat.turn([1, 5, 6, 7, ...first.tokens, 8, 9], { maxNewTokens: 4 });
 * console.log(second.reusedTokens); // 7: the prompt and 3 of the 4 generated tokens
 * ```
 */
export class ChatSession {
  readonly #model: DecoderModel;
  readonly #reuse: boolean;
  readonly #shared: PrefixCache | null;
  #tokens: number[] = [];
  #past: KvTensors = [];

  /**
   * @param model A loaded decoder whose KV cache comes back to the CPU (not webgpu with the
   * cache kept on the GPU: load it with `gpuKvCache: false`).
   * @param options Reuse on/off and a shared prefix cache.
   * @throws {TypeError} when the model keeps its KV cache on the GPU.
   */
  constructor(model: DecoderModel, options: ChatSessionOptions = {}) {
    if (model.kvOnDevice) {
      throw new TypeError(
        "Cannot start a chat session: the model keeps its KV cache on the GPU; load it with gpuKvCache: false",
      );
    }
    this.#model = model;
    this.#reuse = options.reuse ?? true;
    this.#shared = options.prefixCache ?? null;
  }

  /** The token sequence whose KV cache the session holds. */
  get cachedTokens(): readonly number[] {
    return this.#tokens;
  }

  /** Forgets the cached sequence (the shared cache keeps its entries). */
  reset(): void {
    this.#tokens = [];
    this.#past = [];
  }

  /**
   * Runs one turn: reuse the longest cached prefix of `prompt`, prefill the rest, decode greedily.
   *
   * @param prompt The whole conversation so far as token ids (template applied).
   * @param options New tokens, EOS handling.
   * @returns The tokens, how much was reused, and the timings.
   * @throws {RangeError} naming the field for an empty prompt, a non-positive `maxNewTokens`,
   * or a prompt plus new tokens longer than the model's positions.
   */
  async turn(prompt: readonly number[], options: TurnOptions): Promise<TurnResult> {
    const n = options.maxNewTokens;
    const model = this.#model;
    if (prompt.length === 0) throw new RangeError("Cannot run a chat turn: 'prompt' is empty");
    if (!Number.isInteger(n) || n <= 0) {
      throw new RangeError(
        `Cannot run a chat turn: 'maxNewTokens' must be a positive integer, got ${n}`,
      );
    }
    if (prompt.length + n > model.config.maxPositions) {
      throw new RangeError(
        `Cannot run a chat turn: prompt (${prompt.length} tokens) + 'maxNewTokens' (${n}) exceeds the model's ${model.config.maxPositions} positions`,
      );
    }
    const started = performance.now();
    const limit = prompt.length - 1;
    let reused = 0;
    let source: ReuseSource = "none";
    let past: KvTensors = [];
    const own = this.#reuse ? Math.min(commonPrefixLength(this.#tokens, prompt), limit) : 0;
    const shared = this.#reuse && this.#shared ? this.#shared.lookup(prompt, { limit }) : null;
    if (shared !== null && shared.length > own) {
      reused = shared.length;
      source = "shared";
      past = shared.past!;
    } else if (own > 0) {
      reused = own;
      source = "session";
      past = sliceKv(this.#past, own);
    }
    const cutTokens = this.#reuse ? this.#tokens.length - own : 0;
    // The session's old cache is released before the prefill allocates the new one.
    this.#tokens = [];
    this.#past = [];

    const eos = new Set(model.config.eosTokenIds);
    const stopAtEos = options.stopAtEos ?? false;
    const fresh = prompt.slice(reused);
    const steps = model.kvMode === "in_place" ? inPlaceSteps(model, prompt.length + n, past) : {
      async run(ids: ort.Tensor, positions: ort.Tensor, length: number, prior: KvTensors) {
        const out = await model.step(
          ids,
          ones(length),
          positions,
          prior.length ? prior : null,
          true,
        );
        return { logits: out.logits, past: out.present as KvTensors };
      },
      held: (_length: number, last: KvTensors) => last,
    };
    let out = await steps.run(
      int64Tensor([fresh]),
      positionIds(1, fresh.length, reused),
      prompt.length,
      past,
    );
    let next = argmaxLast(out.logits);
    const firstTokenAt = performance.now();
    const tokens = [next];
    let length = prompt.length;
    const ids = new BigInt64Array(1);
    while (tokens.length < n && !(stopAtEos && eos.has(next))) {
      ids[0] = BigInt(next);
      out = await steps.run(
        new ort.Tensor("int64", ids, [1, 1]),
        positionIds(1, 1, length),
        length + 1,
        out.past,
      );
      length++;
      next = argmaxLast(out.logits);
      tokens.push(next);
    }
    const end = performance.now();
    this.#tokens = [...prompt, ...tokens.slice(0, -1)];
    this.#past = steps.held(length, out.past);
    if (kvLength(this.#past) !== this.#tokens.length) {
      throw new RangeError(
        `Chat session out of step: the KV cache holds ${
          kvLength(this.#past)
        } positions for ${this.#tokens.length} tokens`,
      );
    }
    if (this.#reuse && this.#shared) this.#shared.insert(this.#tokens, this.#past);
    const decodeMs = end - firstTokenAt;
    return {
      tokens,
      promptTokens: prompt.length,
      reusedTokens: reused,
      prefilledTokens: fresh.length,
      cutTokens,
      source,
      ttftMs: firstTokenAt - started,
      decodeMs,
      decodeTokensPerS: tokens.length > 1 && decodeMs > 0
        ? (tokens.length - 1) / decodeMs * 1000
        : null,
    };
  }
}

/**
 * Steps of an `in_place` graph (only the step's new keys and values come back): a fixed-size
 * buffer of the turn's length, seeded with the reused prefix, written in place each step; at the
 * end of the turn its filled part is copied out once, in the layout the session and the prefix
 * cache keep (`[1, kv_heads, length, head_dim]` per tensor).
 */
function inPlaceSteps(model: DecoderModel, maxLength: number, reused: KvTensors) {
  const cache = new KvCache({
    layers: model.numLayers,
    batch: 1,
    kvHeads: model.numKvHeads,
    headDim: model.headDim,
    maxLength,
    dtype: model.kvDtype,
  });
  if (reused.length > 0) cache.append(reused);
  return {
    async run(ids: ort.Tensor, positions: ort.Tensor, length: number, _prior: KvTensors) {
      const first = cache.length === 0;
      const steps = ids.dims[1]!;
      const out = await model.step(
        ids,
        first ? ones(length) : cache.mask(steps),
        positions,
        first ? null : cache.past(),
        true,
      );
      cache.append(out.present);
      for (const tensor of out.present) tensor.dispose();
      return { logits: out.logits, past: [] as KvTensors };
    },
    held: (length: number, _last: KvTensors): KvTensors => sliceKv(cache.past(), length),
  };
}

function ones(length: number): ort.Tensor {
  return new ort.Tensor("int64", new BigInt64Array(length).fill(1n), [1, length]);
}

/**
 * Greedy choice at the last position of `[1, seq, vocab]` logits, ties to the lowest id (as
 * `torch.argmax` and the engine's `generate()`); float16 logits read from their raw bits.
 */
function argmaxLast(logits: ort.Tensor): number {
  const [, seq, vocab] = logits.dims.map(Number) as [number, number, number];
  const data = logits.data as unknown as ArrayLike<number>;
  const half = data instanceof Uint16Array;
  const start = (seq - 1) * vocab;
  let best = 0;
  let bestValue = -Infinity;
  for (let v = 0; v < vocab; v++) {
    const x = half ? halfToFloat(data[start + v]!) : data[start + v]!;
    if (x > bestValue) {
      bestValue = x;
      best = v;
    }
  }
  if (!(bestValue > -Infinity)) {
    throw new RangeError(`Invalid logits: the last position is all NaN or -Infinity`);
  }
  return best;
}
