/**
 * The shared window loop behind `perplexity()` and `compareQuality()`: runs each scorer on the
 * same batch of windows, scores the planned targets, compares each scorer with the first one, and
 * drops the batch's logits before the next batch. Private to lib/eval.
 *
 * @module
 */
import {
  klDivergence,
  type LogitsData,
  logitsView,
  rowSummary,
  type WindowLogits,
} from "./logits.ts";
import type { PerplexityOptions as LoopOptions } from "./perplexity.ts";
import { type EvalWindow, planWindows } from "./windows.ts";

/** What the loop accumulates for one scorer. */
export interface ScorerTotals {
  /** Scored targets. */
  count: number;
  /** Σ NLL, nats. */
  nll: number;
  /** Running mean of the NLL (Welford), nats. */
  mean: number;
  /** Running Σ (NLL − mean)² (Welford), nats². */
  m2: number;
  /** Seconds in this scorer's forward calls and its NLL arithmetic (comparisons excluded). */
  seconds: number;
  /** Σ KL(first ‖ this) over compared positions. */
  kl: number;
  /** Positions where the arg-max equals the first scorer's. */
  top1: number;
  /** Positions compared with the first scorer. */
  compared: number;
  /** Execution failure, if any (the scorer is skipped from then on). */
  error: Error | null;
}

/** The loop's output. */
export interface LoopResult {
  /** Per scorer, in input order. */
  totals: ScorerTotals[];
  /** The windows run. */
  windows: EvalWindow[];
  /** UTF-8 bytes of the scored text, or null without `decode`. */
  scoredBytes: number | null;
  /** Whether comparisons with the first scorer cover every scored position. */
  comparedAll: boolean;
}

/**
 * Runs `scorers` over the planned windows of `tokens`.
 *
 * @param scorers Scorers; the first is the comparison baseline when `compare` is set.
 * @param tokens The token ids.
 * @param options Window plan, batch, BOS, decode and progress.
 * @param compare Whether to compute KL and top-1 agreement against the first scorer.
 * @returns Totals per scorer.
 */
export async function evaluateWindows(
  scorers: readonly WindowLogits[],
  tokens: readonly number[],
  options: LoopOptions,
  compare: boolean,
): Promise<LoopResult> {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) {
    throw new RangeError(`'batch' must be an integer >= 1, got ${batch}`);
  }
  const windows = planWindows(tokens.length, options);
  const totals: ScorerTotals[] = scorers.map(() => ({
    count: 0,
    nll: 0,
    mean: 0,
    m2: 0,
    seconds: 0,
    kl: 0,
    top1: 0,
    compared: 0,
    error: null,
  }));
  let comparedAll = compare;
  let done = 0;
  for (const group of batches(windows, batch)) {
    const rows = group.map((w) => windowIds(tokens, w, options));
    const seq = group[0]!.end - group[0]!.start;
    let base: { data: LogitsData; lse: Float64Array; argmax: Int32Array } | null = null;
    for (let s = 0; s < scorers.length; s++) {
      const total = totals[s]!;
      if (total.error !== null) continue;
      let t0 = performance.now();
      try {
        const logits = await scorers[s]!(rows.map((r) => [...r]));
        const vocab = checkDims(logits.dims, rows.length, seq);
        const data = logitsView(logits.data);
        if (data.length !== rows.length * seq * vocab) {
          throw new RangeError(
            `logits have ${data.length} elements, dims ${logits.dims.join("x")} need ${
              rows.length * seq * vocab
            }`,
          );
        }
        const scoredInGroup = group.reduce((n, w) => n + w.end - w.scoreFrom, 0);
        const lse = new Float64Array(scoredInGroup);
        const argmax = new Int32Array(scoredInGroup);
        const against = s > 0 && compare && base !== null ? base : null;
        if (against !== null && against.data.length !== data.length) {
          throw new RangeError(
            `logits have ${data.length} elements, the baseline's have ${against.data.length}`,
          );
        }
        let k = 0;
        group.forEach((w, b) => {
          for (let target = w.scoreFrom; target < w.end; target++, k++) {
            const offset = (b * seq + target - 1 - w.start) * vocab;
            const id = tokens[target]!;
            if (!(id >= 0 && id < vocab)) {
              throw new RangeError(
                `token ${target} has id ${id}, outside the logits' vocabulary of ${vocab}`,
              );
            }
            const row = rowSummary(data, offset, vocab);
            const nll = row.logSumExp - data[offset + id]!;
            total.nll += nll;
            const delta = nll - total.mean;
            total.mean += delta / (total.count + k + 1);
            total.m2 += delta * (nll - total.mean);
            lse[k] = row.logSumExp;
            argmax[k] = row.argmax;
          }
        });
        total.count += scoredInGroup;
        total.seconds += (performance.now() - t0) / 1000;
        t0 = NaN;
        if (s === 0 && compare) base = { data, lse, argmax };
        if (against === null) continue;
        // The comparison is charged to neither model's time.
        k = 0;
        group.forEach((w, b) => {
          for (let target = w.scoreFrom; target < w.end; target++, k++) {
            const offset = (b * seq + target - 1 - w.start) * vocab;
            total.kl += klDivergence(
              against.data,
              offset,
              against.lse[k]!,
              data,
              offset,
              lse[k]!,
              vocab,
            );
            if (against.argmax[k] === argmax[k]) total.top1++;
            total.compared++;
          }
        });
      } catch (error) {
        total.error = error instanceof Error ? error : new Error(String(error));
        if (s === 0) comparedAll = false;
        if (!Number.isNaN(t0)) total.seconds += (performance.now() - t0) / 1000;
      }
    }
    base = null;
    done += group.length;
    options.onProgress?.(done, windows.length);
  }
  return {
    totals,
    windows,
    scoredBytes: options.decode ? scoredBytes(tokens, windows, options.decode) : null,
    comparedAll,
  };
}

/** Consecutive windows of equal length, at most `size` per batch. */
function* batches(windows: readonly EvalWindow[], size: number): Generator<EvalWindow[]> {
  let group: EvalWindow[] = [];
  for (const w of windows) {
    const first = group[0];
    if (first && (group.length === size || first.end - first.start !== w.end - w.start)) {
      yield group;
      group = [];
    }
    group.push(w);
  }
  if (group.length > 0) yield group;
}

/** The ids a window feeds, with llama.cpp's BOS in place of the first when asked. */
function windowIds(tokens: readonly number[], w: EvalWindow, options: LoopOptions): number[] {
  const ids = tokens.slice(w.start, w.end);
  if (options.method === "llama-cpp" && options.bosTokenId !== undefined) {
    ids[0] = options.bosTokenId;
  }
  return ids;
}

/** Checks `[batch, seq, vocab]` and returns vocab. */
function checkDims(dims: readonly number[], batch: number, seq: number): number {
  const [b, s, vocab] = dims;
  if (dims.length !== 3 || b !== batch || s !== seq || vocab === undefined || vocab < 1) {
    throw new RangeError(
      `logits dims must be [${batch}, ${seq}, vocab], got [${dims.join(", ")}]`,
    );
  }
  return vocab;
}

/**
 * UTF-8 bytes of the scored text: for each maximal run of consecutively scored targets
 * `a … b−1`, whose first window starts at `c`, bytes(decode(ids[c..b))) − bytes(decode(ids[c..a))).
 */
function scoredBytes(
  tokens: readonly number[],
  windows: readonly EvalWindow[],
  decode: (ids: number[]) => string,
): number {
  const encoder = new TextEncoder();
  const bytes = (from: number, to: number) =>
    to > from ? encoder.encode(decode(tokens.slice(from, to))).length : 0;
  let total = 0;
  let run: { context: number; from: number; to: number } | null = null;
  for (const w of windows) {
    if (run !== null && run.to === w.scoreFrom) {
      run.to = w.end;
      continue;
    }
    if (run !== null) total += bytes(run.context, run.to) - bytes(run.context, run.from);
    run = { context: w.start, from: w.scoreFrom, to: w.end };
  }
  if (run !== null) total += bytes(run.context, run.to) - bytes(run.context, run.from);
  return total;
}

/** The summary of one scorer's totals, as `PerplexityResult` reports it. */
export interface TotalsSummary {
  ppl: number;
  scoredTokens: number;
  nll: number;
  stderr: number | null;
  bitsPerByte: number | null;
  seconds: number;
  tokensPerS: number;
}

/**
 * PPL = exp(Σ NLL / n); stderr as llama-perplexity computes it: PPL × √((E[NLL²] − E[NLL]²) /
 * (n − 1)) (null below two tokens), with n·(E[NLL²] − E[NLL]²) accumulated by Welford's method so
 * that equal NLLs give exactly 0; bits per byte = Σ NLL / ln 2 / scored bytes.
 */
export function summarizeTotals(total: ScorerTotals, scoredBytes: number | null): TotalsSummary {
  const n = total.count;
  const ppl = Math.exp(total.nll / n);
  const variance = Math.max(0, total.m2 / n);
  return {
    ppl,
    scoredTokens: n,
    nll: total.nll,
    stderr: n >= 2 ? ppl * Math.sqrt(variance / (n - 1)) : null,
    bitsPerByte: scoredBytes !== null && scoredBytes > 0
      ? total.nll / Math.LN2 / scoredBytes
      : null,
    seconds: total.seconds,
    tokensPerS: total.seconds > 0 ? n / total.seconds : 0,
  };
}
