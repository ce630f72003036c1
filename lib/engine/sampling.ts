/**
 * Token choice from one row of next-token logits: greedy (temperature 0), or sampling with
 * temperature, top-k and top-p (nucleus) from a seeded generator, so the same seed gives the same
 * tokens; and the log-probabilities clients ask for (`logprobs`), computed from the model's raw
 * logits (before temperature, top-k and top-p), as vLLM and OpenAI report them.
 *
 * Order of the sampling filters, as Hugging Face and vLLM apply them: the logits are divided by
 * the temperature, the `topK` most likely tokens are kept (0 = all), then the smallest set of the
 * most likely tokens whose probabilities sum to at least `topP` (1 = all); one token is drawn from
 * what is left, renormalised. All sums are in float64.
 *
 * @module
 */
import type * as ort from "onnxruntime-node";
import { mulberry32 } from "../_rng.ts";
import { toFloat32 } from "../runtime/tensors.ts";

/** A row of logits: any array of numbers (a `Float32Array` view of a model output). */
export type LogitsRow = ArrayLike<number>;

/** Sampling settings (OpenAI's `temperature`, `top_p`, vLLM's `top_k`, `seed`). */
export interface SamplingParams {
  /** 0 = greedy; otherwise the logits are divided by it. @default 0 */
  temperature?: number;
  /** Nucleus mass kept, in (0, 1]. @default 1 */
  topP?: number;
  /** Most likely tokens kept; 0 = all. @default 0 */
  topK?: number;
  /** Seed of the generator; `null` draws one. @default null */
  seed?: number | null;
}

/** Picks the next token from a row of logits. */
export type TokenPicker = (row: LogitsRow) => number;

/**
 * A token picker for the settings: greedy at temperature 0 (or `topK` 1), else a seeded sampler.
 * Each picker owns its generator, so two pickers with the same settings and seed pick alike.
 *
 * @param params Temperature, top-p, top-k, seed.
 * @returns The picker.
 * @throws {RangeError} naming the setting out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSampler } from "./sampling.ts";
 * const row = new Float32Array([1, 3, 2, 0]);
 * assert.equal(createSampler({})(row), 1); // greedy
 * const a = createSampler({ temperature: 1, seed: 7 });
 * const b = createSampler({ temperature: 1, seed: 7 });
 * const draws = Array.from({ length: 20 }, () => a(row));
 * assert.deepEqual(Array.from({ length: 20 }, () => b(row)), draws);
 * assert(createSampler({ temperature: 1, topK: 2, seed: 1 })(row) !== 3);
 * ```
 */
export function createSampler(params: SamplingParams = {}): TokenPicker {
  const temperature = params.temperature ?? 0;
  const topP = params.topP ?? 1;
  const topK = params.topK ?? 0;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`'temperature' must be a number >= 0, got ${temperature}`);
  }
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`'topP' must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`'topK' must be an integer >= 0, got ${topK}`);
  }
  if (temperature === 0 || topK === 1) return greedyPick;
  const seed = params.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const random = mulberry32(seed);
  return (row) => samplePick(row, temperature, topP, topK, random());
}

/**
 * The id of the largest logit (ties: the lowest id, as `torch.argmax`).
 *
 * @param row The logits.
 * @returns The id.
 * @throws {RangeError} when no value is above −Infinity (all NaN).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { greedyPick } from "./sampling.ts";
 * assert.equal(greedyPick([0, 2, 2, 1]), 1);
 * ```
 */
export function greedyPick(row: LogitsRow): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let v = 0; v < row.length; v++) {
    if (row[v]! > bestValue) {
      bestValue = row[v]!;
      best = v;
    }
  }
  if (!(bestValue > -Infinity)) throw new RangeError("Invalid logits: all NaN or -Infinity");
  return best;
}

/**
 * One draw: `u` in [0, 1) picks a token from the filtered, renormalised distribution.
 *
 * @param row The logits.
 * @param temperature > 0.
 * @param topP Nucleus mass in (0, 1].
 * @param topK Tokens kept (0 = all).
 * @param u A uniform number in [0, 1).
 * @returns The id.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { samplePick } from "./sampling.ts";
 * const row = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
 * assert.equal(samplePick(row, 1, 1, 0, 0.49), 0);
 * assert.equal(samplePick(row, 1, 1, 0, 0.51), 1);
 * assert.equal(samplePick(row, 1, 0.5, 0, 0.99), 0); // top-p 0.5 keeps token 0 only
 * ```
 */
export function samplePick(
  row: LogitsRow,
  temperature: number,
  topP: number,
  topK: number,
  u: number,
): number {
  const vocab = row.length;
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (row[v]! > max) max = row[v]!;
  if (!(max > -Infinity)) throw new RangeError("Invalid logits: all NaN or -Infinity");
  const weights = new Float64Array(vocab);
  for (let v = 0; v < vocab; v++) {
    const x = row[v]!;
    weights[v] = x === x ? Math.exp((x - max) / temperature) : 0;
  }
  let ids: number[] | null = null; // candidates, most likely first (null = every id)
  if ((topK > 0 && topK < vocab) || topP < 1) {
    ids = Array.from({ length: vocab }, (_, v) => v).sort((a, b) =>
      weights[b]! - weights[a]! || a - b
    );
    if (topK > 0 && topK < vocab) ids.length = topK;
    if (topP < 1) {
      let total = 0;
      for (const id of ids) total += weights[id]!;
      let kept = 0;
      let mass = 0;
      while (kept < ids.length) {
        mass += weights[ids[kept]!]!;
        kept++;
        if (mass >= topP * total) break;
      }
      ids.length = kept;
    }
  }
  let total = 0;
  if (ids) { for (const id of ids) total += weights[id]!; }
  else for (let v = 0; v < vocab; v++) total += weights[v]!;
  const target = u * total;
  let cumulative = 0;
  if (ids) {
    for (const id of ids) {
      cumulative += weights[id]!;
      if (cumulative > target) return id;
    }
    return ids[ids.length - 1]!;
  }
  let last = 0;
  for (let v = 0; v < vocab; v++) {
    if (weights[v]! === 0) continue;
    cumulative += weights[v]!;
    last = v;
    if (cumulative > target) return v;
  }
  return last;
}

/** A token and its log-probability. */
export interface TokenLogprob {
  /** Token id. */
  id: number;
  /** Natural log of its probability under the model's raw logits. */
  logprob: number;
}

/**
 * Log-probabilities of one row: the chosen token's, and the `top` most likely tokens'.
 *
 * @param row The logits.
 * @param id The token whose log-probability is wanted.
 * @param top How many of the most likely tokens to list (0 = none).
 * @returns `logprob` of `id` and `top` (most likely first, ties: lowest id).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowLogprobs } from "./sampling.ts";
 * const r = rowLogprobs([0, 0, Math.log(2)], 2, 1);
 * assert(Math.abs(r.logprob - Math.log(0.5)) < 1e-12);
 * assert.equal(r.top[0]!.id, 2);
 * ```
 */
export function rowLogprobs(
  row: LogitsRow,
  id: number,
  top: number,
): { logprob: number; top: TokenLogprob[] } {
  const vocab = row.length;
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (row[v]! > max) max = row[v]!;
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(row[v]! - max);
  const lse = max + Math.log(sum);
  const best: TokenLogprob[] = [];
  if (top > 0) {
    for (let v = 0; v < vocab; v++) {
      const x = row[v]!;
      if (best.length === top && x <= best[best.length - 1]!.logprob) continue;
      let at = best.length;
      while (at > 0 && best[at - 1]!.logprob < x) at--;
      best.splice(at, 0, { id: v, logprob: x });
      if (best.length > top) best.pop();
    }
    for (const b of best) b.logprob -= lse;
  }
  return { logprob: row[id]! - lse, top: best };
}

/**
 * Applies a picker at the last position of each row of `[batch, seq, vocab]` logits.
 *
 * @param logits A CPU tensor (float32, or float16).
 * @param out Where the ids go (length ≥ batch).
 * @param pick The picker.
 * @returns `out`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { greedyPick, pickLastPosition } from "./sampling.ts";
 * const logits = new ort.Tensor("float32", new Float32Array([0, 1, 5, 0, 2, 0]), [2, 1, 3]);
 * assert.deepEqual(pickLastPosition(logits, [], greedyPick), [2, 1]);
 * ```
 */
export function pickLastPosition(
  logits: ort.Tensor,
  out: number[],
  pick: TokenPicker,
): number[] {
  const [batch, seq, vocab] = logits.dims as [number, number, number];
  const data = toFloat32(logits);
  for (let b = 0; b < batch; b++) {
    const end = (b * seq + seq) * vocab;
    out[b] = pick(data.subarray(end - vocab, end));
  }
  return out;
}
