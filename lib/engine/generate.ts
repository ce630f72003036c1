/**
 * Greedy generation with a {@linkcode DecoderModel}, timed the way the brief asks: prefill
 * (prompt → first token's logits) apart from decoding (tokens 2..N), with the KV cache on or off.
 *
 * - Cache on: one prefill run over the prompt, then one run per new token; the cache is kept
 *   by a {@linkcode KvRunner} in the mode the model allows (`copy`: the previous run's
 *   `present.*` tensors fed back; `in_place`: one fixed-size buffer written in place;
 *   `device`: GPU buffers), recorded as `kvMode`.
 * - Cache off: every new token recomputes the whole sequence from an empty past (Hugging Face
 *   `use_cache=False`); only the logits are fetched.
 * - The prefill is the same run with the cache on and off: it fetches `present.*` either way (a
 *   cache-off run then drops them), so `prefillMs` compares like with like.
 * - Each run asks for the last position's logits only where the graph can (see
 *   `DecoderModel.logitsPositions`); `GenerationResult.logitsPositions` says which happened.
 * - Batches are left-padded: padding is masked out and positions start at 0 after it, so each
 *   row decodes exactly as it would alone. A GroupQueryAttention graph ignores left padding, so
 *   there prompts of unequal length are refused (`DecoderModel.leftPadding`).
 * - `stopAtEos: false` (benchmark mode) makes exactly `maxNewTokens` tokens; `true` stops when
 *   every row has produced an EOS (finished rows then get the pad id, as Hugging Face does).
 *
 * Timing uses `performance.now()` around each `session.run` plus the argmax that follows it (see
 * decoder.ts for when a run resolves on cpu, cuda and webgpu). Tokenisation is not timed here.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { attentionMask, int64Tensor, positionIds } from "../runtime/tensors.ts";
import { argmaxLastPosition } from "./_argmax.ts";
import type { DecoderModel } from "./decoder.ts";
import type { KvMode } from "./kv_cache.ts";
import { type KvRunner, openKv } from "./kv_runner.ts";
import { pickLastPosition, type TokenPicker } from "./sampling.ts";

/** Options of {@linkcode generate}. */
export interface GenerateOptions {
  /** Tokens to generate per row (the first comes from the prefill). */
  maxNewTokens: number;
  /** Reuse the KV cache between steps. @default true */
  useCache?: boolean;
  /** Stop once every row has produced an EOS (generation mode). @default false (benchmark mode) */
  stopAtEos?: boolean;
  /** Id used to left-pad shorter prompts and to fill finished rows. @default config.padTokenId */
  padTokenId?: number;
  /**
   * A time floor for benchmarks: stop decoding once tokens 2..N have taken this many ms (at
   * least one decode step runs), `maxNewTokens` staying the cap. @default none (exactly N tokens)
   */
  decodeFloorMs?: number;
  /** Picks each row's next token (sampling.ts `createSampler`). @default greedy (arg-max) */
  pick?: TokenPicker;
}

/** The tokens and timings of one generation. */
export interface GenerationResult {
  /** Generated ids per row (prompts excluded). */
  tokens: number[][];
  /** Rows in the batch. */
  batch: number;
  /** Prompt length of each row, in tokens (padding excluded). */
  promptTokens: number[];
  /** Steps run = tokens generated per row. */
  newTokens: number;
  /** Whether the KV cache was used. */
  useCache: boolean;
  /** How the cache was kept (`copy`, `in_place`, `device`); `null` with the cache off. */
  kvMode: KvMode | null;
  /** Bytes the cache reserved up front (`in_place`: its fixed buffer); 0 otherwise. */
  kvReservedBytes: number;
  /** Whether generation stopped early at EOS. */
  stoppedAtEos: boolean;
  /** Prompt → first token's logits and argmax, milliseconds. */
  prefillMs: number;
  /** Latency of each decode step (tokens 2..N), milliseconds, raw. */
  tokenLatenciesMs: number[];
  /** Tokens 2..N, milliseconds (wall time from the end of the prefill). */
  decodeMs: number;
  /** (newTokens − 1) / decodeMs × 1000 × batch; `null` when only one token was made. */
  decodeTokensPerS: number | null;
  /** prefillMs + decodeMs. */
  totalMs: number;
  /** Positions each run's logits covered: `last` (num_logits_to_keep = 1) or `all`. */
  logitsPositions: "last" | "all";
}

/**
 * Generates from token-id prompts: greedily, or with `options.pick` (a sampler).
 *
 * @param model A loaded decoder.
 * @param prompts Token ids per row (any lengths; shorter rows are left-padded).
 * @param options New tokens, cache on/off, EOS handling.
 * @returns Generated ids and timings.
 * @throws {RangeError} naming the field for an empty batch or prompt, `maxNewTokens` ≤ 0, a
 * prompt plus new tokens longer than the model's maximum positions, or prompts of unequal length
 * on a graph that ignores left padding (GroupQueryAttention).
 * @example
 * ```ts ignore
 * import { generate, loadDecoder, resolveModel } from "./mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32" });
 * const r = await generate(model, [[1, 2, 3]], { maxNewTokens: 8 });
 * console.log(r.tokens[0], r.prefillMs, r.decodeTokensPerS);
 * ```
 */
export async function generate(
  model: DecoderModel,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): Promise<GenerationResult> {
  const n = options.maxNewTokens;
  const useCache = options.useCache ?? true;
  const stopAtEos = options.stopAtEos ?? false;
  const pad = options.padTokenId ?? model.config.padTokenId;
  const batch = prompts.length;
  if (batch === 0) throw new RangeError("Cannot generate: 'prompts' is empty");
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`Cannot generate: 'maxNewTokens' must be a positive integer, got ${n}`);
  }
  const lengths = prompts.map((p) => p.length);
  const promptLen = Math.max(...lengths);
  if (Math.min(...lengths) === 0) {
    throw new RangeError(`Cannot generate: prompt ${lengths.indexOf(0)} is empty`);
  }
  if (promptLen + n > model.config.maxPositions) {
    throw new RangeError(
      `Cannot generate: prompt (${promptLen} tokens) + 'maxNewTokens' (${n}) exceeds the model's ${model.config.maxPositions} positions`,
    );
  }
  const leftPad = lengths.map((l) => promptLen - l);
  if (model.leftPadding === false && leftPad.some((p) => p > 0)) {
    throw new RangeError(
      `Cannot generate: 'prompts' differ in length (${
        Math.min(...lengths)
      }..${promptLen} tokens) and this GroupQueryAttention graph decodes left-padded rows wrongly; batch prompts of equal token length`,
    );
  }
  const padded = prompts.map((p, b) => [...new Array<number>(leftPad[b]!).fill(pad), ...p]);
  const unpadded = leftPad.every((p) => p === 0);
  // One all-ones mask buffer, viewed at each length (rows are contiguous, so any prefix works).
  const ones = unpadded ? new BigInt64Array(batch * (promptLen + n)).fill(1n) : null;
  const mask = (length: number): ort.Tensor =>
    ones
      ? new ort.Tensor("int64", ones.subarray(0, batch * length), [batch, length])
      : attentionMask(batch, length, leftPad);
  const eos = new Set(model.config.eosTokenIds);
  const tokens: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(batch).fill(false);
  const next = new Array<number>(batch).fill(0);
  const stepIds = new BigInt64Array(batch);
  const sequence = padded.map((row) => [...row]);

  const accept = (): boolean => {
    for (let b = 0; b < batch; b++) {
      const id = done[b] ? pad : next[b]!;
      next[b] = id;
      tokens[b]!.push(id);
      if (stopAtEos && eos.has(id)) done[b] = true;
    }
    return stopAtEos && done.every(Boolean);
  };

  // With the cache every run returns present.* (as in a real generation loop, where the next
  // step needs it), the last one too, so every decode step pays the same output copy.
  const started = performance.now();
  // Opened inside the prefill's time: an in-place cache allocates its whole buffer here.
  const kv: KvRunner | null = useCache
    ? openKv(model, { batch, maxLength: promptLen + n, leftPad })
    : null;
  const prefillIds = int64Tensor(padded);
  const prefillPositions = positionIds(batch, promptLen, 0, leftPad);
  let out = kv
    ? await kv.run(prefillIds, prefillPositions)
    // Cache off: the same prefill run, present.* fetched (then dropped), so both time alike.
    : await model.step(prefillIds, mask(promptLen), prefillPositions, null, true);
  await argmax(out.logits, next, options.pick);
  const prefillEnd = performance.now();
  if (!useCache) {
    for (const tensor of out.present) tensor.dispose();
    out = { logits: out.logits, present: [] };
  }
  let stopped = accept();
  const latencies: number[] = [];
  const floorMs = options.decodeFloorMs;
  for (let t = 1; t < n && !stopped; t++) {
    if (floorMs !== undefined && t > 1 && performance.now() - prefillEnd >= floorMs) break;
    const stepStart = performance.now();
    if (kv) {
      const pastLen = promptLen + t - 1;
      for (let b = 0; b < batch; b++) stepIds[b] = BigInt(next[b]!);
      out = await kv.run(
        new ort.Tensor("int64", stepIds, [batch, 1]),
        positionIds(batch, 1, pastLen, leftPad),
      );
    } else {
      for (let b = 0; b < batch; b++) sequence[b]!.push(next[b]!);
      const length = promptLen + t;
      out = await model.step(
        int64Tensor(sequence),
        mask(length),
        positionIds(batch, length, 0, leftPad),
        null,
        false,
      );
    }
    await argmax(out.logits, next, options.pick);
    latencies.push(performance.now() - stepStart);
    stopped = accept();
  }
  const end = performance.now();
  kv?.dispose();
  const decodeMs = end - prefillEnd;
  const made = tokens[0]!.length;
  return {
    tokens,
    batch,
    promptTokens: lengths,
    newTokens: made,
    useCache,
    kvMode: kv?.mode ?? null,
    kvReservedBytes: kv?.reservedBytes ?? 0,
    stoppedAtEos: stopAtEos && made < n,
    prefillMs: prefillEnd - started,
    tokenLatenciesMs: latencies,
    decodeMs,
    decodeTokensPerS: made > 1 && decodeMs > 0 ? (made - 1) / decodeMs * 1000 * batch : null,
    totalMs: end - started,
    logitsPositions: model.logitsPositions,
  };
}

async function argmax(logits: ort.Tensor, out: number[], pick?: TokenPicker): Promise<void> {
  try {
    if (logits.location === "cpu") {
      pick ? pickLastPosition(logits, out, pick) : argmaxLastPosition(logits, out);
    } else {
      const data = await logits.getData(true);
      const cpu = { type: logits.type, dims: logits.dims, data } as unknown as ort.Tensor;
      pick ? pickLastPosition(cpu, out, pick) : argmaxLastPosition(cpu, out);
    }
  } finally {
    logits.dispose();
  }
}
