/**
 * Greedy generation with a {@linkcode DecoderModel}, timed the way the brief asks: prefill
 * (prompt → first token's logits) apart from decoding (tokens 2..N), with the KV cache on or off.
 *
 * - Cache on: one prefill run over the prompt, then one run per new token whose
 *   `past_key_values.*` are the previous run's `present.*` output tensors themselves (no copy).
 * - Cache off: every new token recomputes the whole sequence from an empty past (Hugging Face
 *   `use_cache=False`); only the logits are fetched.
 * - The prefill is the same run with the cache on and off: it fetches `present.*` either way (a
 *   cache-off run then drops them), so `prefillMs` compares like with like.
 * - Each run asks for the last position's logits only where the graph can (see
 *   `DecoderModel.logitsPositions`); `GenerationResult.logitsPositions` says which happened.
 * - Batches are left-padded: padding is masked out and positions start at 0 after it, so each
 *   row decodes exactly as it would alone.
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
 * Generates greedily from token-id prompts.
 *
 * @param model A loaded decoder.
 * @param prompts Token ids per row (any lengths; shorter rows are left-padded).
 * @param options New tokens, cache on/off, EOS handling.
 * @returns Generated ids and timings.
 * @throws {RangeError} naming the field for an empty batch or prompt, `maxNewTokens` ≤ 0, or a
 * prompt plus new tokens longer than the model's maximum positions.
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

  const started = performance.now();
  let out = await model.step(
    int64Tensor(padded),
    mask(promptLen),
    positionIds(batch, promptLen, 0, leftPad),
    null,
    // The prefill returns present.* with the cache on and off, so both time the same run. With
    // the cache every later run returns present.* too (as in a real generation loop, where the
    // next step needs it), the last one included, so every decode step pays the same output copy.
    true,
  );
  await argmax(out.logits, next);
  const prefillEnd = performance.now();
  if (!useCache) {
    for (const tensor of out.present) tensor.dispose();
    out = { logits: out.logits, present: [] };
  }
  let stopped = accept();
  const latencies: number[] = [];
  for (let t = 1; t < n && !stopped; t++) {
    const stepStart = performance.now();
    if (useCache) {
      const past = out.present;
      const pastLen = promptLen + t - 1;
      for (let b = 0; b < batch; b++) stepIds[b] = BigInt(next[b]!);
      out = await model.step(
        new ort.Tensor("int64", stepIds, [batch, 1]),
        mask(pastLen + 1),
        positionIds(batch, 1, pastLen, leftPad),
        past,
        true,
      );
      for (const tensor of past) tensor.dispose();
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
    await argmax(out.logits, next);
    latencies.push(performance.now() - stepStart);
    stopped = accept();
  }
  const end = performance.now();
  for (const tensor of out.present) tensor.dispose();
  const decodeMs = end - prefillEnd;
  const made = tokens[0]!.length;
  return {
    tokens,
    batch,
    promptTokens: lengths,
    newTokens: made,
    useCache,
    stoppedAtEos: stopAtEos && made < n,
    prefillMs: prefillEnd - started,
    tokenLatenciesMs: latencies,
    decodeMs,
    decodeTokensPerS: made > 1 && decodeMs > 0 ? (made - 1) / decodeMs * 1000 * batch : null,
    totalMs: end - started,
    logitsPositions: model.logitsPositions,
  };
}

async function argmax(logits: ort.Tensor, out: number[]): Promise<void> {
  try {
    if (logits.location === "cpu") {
      argmaxLastPosition(logits, out);
    } else {
      const data = await logits.getData(true);
      argmaxLastPosition({ dims: logits.dims, data } as unknown as ort.Tensor, out);
    }
  } finally {
    logits.dispose();
  }
}
