/**
 * The latency scenario of one configuration, shared by `deno task bench` and the sweep worker:
 * warmup runs (discarded), then measured runs of {@linkcode generate}, with memory sampled over
 * the measured runs only and the loaded-model baseline read before the first warmup.
 *
 * @module
 */
import { type MemoryReport, MemorySampler } from "../measure/memory_sampler.ts";
import { currentRssBytes } from "../measure/rss.ts";
import { summarize, type Summary } from "../measure/stats.ts";
import { pooledRate } from "../analysis/cell.ts";
import type { DecoderModel } from "./decoder.ts";
import { generate, type GenerationResult } from "./generate.ts";

/** Token ids per batch row: the prompts of one generation. */
export type PromptBatch = readonly (readonly number[])[];

/** Options of {@linkcode measureRuns}. */
export interface MeasureOptions {
  /** Tokens per run (EOS ignored: every run makes exactly this many). */
  maxNewTokens: number;
  /** KV cache on or off. @default true */
  useCache?: boolean;
  /** Discarded runs (of the first measured batch) before measuring. @default 3 */
  warmup?: number;
  /** Progress lines (for stderr). @default none */
  onProgress?: (line: string) => void;
  /** Sample GPU memory through NVML. @default true */
  sampleGpu?: boolean;
  /** Called after each measured run with its index and start time (RFC 3339). @default none */
  onRun?: (run: GenerationResult, index: number, timestamp: string) => void;
  /** Milliseconds between memory samples. @default 50 */
  sampleIntervalMs?: number;
  /**
   * Called as the measured window opens (after the warmups) and as it closes (after the last
   * measured run, also on an error): telemetry marks its cell's window with it. @default none
   */
  onWindow?: (edge: "start" | "end") => void;
}

/** What {@linkcode measureRuns} measured. */
export interface MeasuredRuns {
  /** Every measured run, raw, in order (warmups are never kept). */
  runs: GenerationResult[];
  /** Memory over the measured runs only (the kernel's peak is reset after the warmups). */
  memory: MemoryReport;
  /**
   * Process RSS with the model loaded, before the first warmup, bytes: the baseline that
   * `peakRssBytes − baselineRssBytes` is measured from (`null` off Linux).
   */
  baselineRssBytes: number | null;
  /** `memory.peakRssBytes − baselineRssBytes`, bytes; `null` when either is unknown. */
  peakRssIncreaseBytes: number | null;
}

/**
 * The one warmup/measure loop: `warmup` discarded generations of the first batch, then one
 * measured generation per entry of `batches`, in order. The memory window covers the measured
 * runs only; the baseline is the RSS before the warmups (model loaded, nothing generated).
 *
 * @param model A loaded decoder.
 * @param batches The prompts of each measured run (repeat a batch to repeat a run).
 * @param options Tokens, cache, warmup, callbacks.
 * @returns The raw runs and memory.
 * @throws {RangeError} naming `warmup` or `batches` when they are not valid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { measureRuns } from "./benchmark.ts";
 * import { loadDecoder, resolveModel } from "./mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32", threads: 1 });
 * const r = await measureRuns(model, [[[1, 2, 3]], [[4, 5, 6]]], { maxNewTokens: 3, warmup: 1, sampleGpu: false });
 * assert.equal(r.runs.length, 2);
 * assert(r.peakRssIncreaseBytes === null || r.peakRssIncreaseBytes >= 0);
 * await model.dispose();
 * ```
 */
export async function measureRuns(
  model: DecoderModel,
  batches: readonly PromptBatch[],
  options: MeasureOptions,
): Promise<MeasuredRuns> {
  const warmup = options.warmup ?? 3;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(
      `Cannot benchmark: 'warmup' must be a non-negative integer, got ${warmup}`,
    );
  }
  if (batches.length < 1) {
    throw new RangeError("Cannot benchmark: 'batches' must hold at least one run");
  }
  const generation = { maxNewTokens: options.maxNewTokens, useCache: options.useCache ?? true };
  const baselineRssBytes = currentRssBytes();
  for (let i = 0; i < warmup; i++) {
    await generate(model, batches[0]!, generation);
    options.onProgress?.(`warmup ${i + 1}/${warmup}`);
  }
  const sampler = new MemorySampler({
    gpu: options.sampleGpu ?? true,
    intervalMs: options.sampleIntervalMs ?? 50,
  }).start();
  const runs: GenerationResult[] = [];
  let memory: MemoryReport;
  options.onWindow?.("start");
  try {
    for (const [i, batch] of batches.entries()) {
      const timestamp = new Date().toISOString();
      const r = await generate(model, batch, generation);
      runs.push(r);
      options.onRun?.(r, i, timestamp);
      options.onProgress?.(
        `run ${i + 1}/${batches.length}: prefill ${r.prefillMs.toFixed(1)} ms, decode ${
          r.decodeTokensPerS?.toFixed(1) ?? "-"
        } tokens/s`,
      );
    }
  } finally {
    options.onWindow?.("end");
    memory = sampler.stop();
  }
  const peakRssIncreaseBytes = memory.peakRssBytes === null || baselineRssBytes === null
    ? null
    : Math.max(0, memory.peakRssBytes - baselineRssBytes);
  return { runs, memory, baselineRssBytes, peakRssIncreaseBytes };
}

/** Options of {@linkcode runBenchmark}. */
export interface BenchmarkOptions extends Omit<MeasureOptions, "onRun"> {
  /** Measured runs. @default 10 */
  runs?: number;
}

/** Measured runs and their summaries. */
export interface BenchmarkResult extends MeasuredRuns {
  /** Summaries over the measured runs (`null` where no run has the figure). */
  summary: {
    prefillMs: Summary;
    decodeMs: Summary;
    totalMs: Summary;
    /** Per-run decode tokens/s (their mean is not the pooled rate: see `pooledDecodeTokensPerS`). */
    decodeTokensPerS: Summary | null;
    /** All per-token decode latencies of all runs together. */
    tokenLatencyMs: Summary | null;
    /** Decode tokens of all runs ÷ their decode time, tokens/s; `null` without decode steps. */
    pooledDecodeTokensPerS: number | null;
  };
}

/**
 * Decode tokens of all runs over their decode time: Σ (newTokens − 1) · batch / Σ decodeMs
 * (lib/analysis `pooledRate`).
 *
 * @param runs Measured runs.
 * @returns Tokens/s, or `null` when no run has a decode step.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pooledTokensPerS } from "./benchmark.ts";
 * const run = (newTokens: number, decodeMs: number) => ({ newTokens, decodeMs, batch: 1 });
 * // 10 tokens in 100 ms and 10 in 900 ms: 20 tokens per second, not the mean rate (55.6).
 * assert.equal(pooledTokensPerS([run(11, 100), run(11, 900)]), 20);
 * ```
 */
export function pooledTokensPerS(
  runs: readonly Pick<GenerationResult, "newTokens" | "decodeMs" | "batch">[],
): number | null {
  // The one pooled rate of lib/analysis, on the engine's field names.
  return pooledRate(runs.map((r) => ({
    new_tokens: r.newTokens,
    batch: r.batch,
    decode_ms: r.decodeMs,
    status: "ok" as const,
  })));
}

/**
 * Runs warmups then measured generations of the same prompts and summarises them
 * ({@linkcode measureRuns} with one batch repeated `runs` times).
 *
 * @param model A loaded decoder.
 * @param prompts Token ids per batch row.
 * @param options Tokens, cache, warmup and run counts.
 * @returns Raw runs, summaries and memory.
 * @throws {RangeError} naming `warmup` or `runs` when they are not valid counts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadDecoder, resolveModel, runBenchmark } from "./mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32", threads: 1 });
 * const r = await runBenchmark(model, [[1, 2, 3]], { maxNewTokens: 4, warmup: 1, runs: 2, sampleGpu: false });
 * assert.equal(r.summary.prefillMs.count, 2);
 * assert(r.summary.pooledDecodeTokensPerS! > 0);
 * await model.dispose();
 * ```
 */
export async function runBenchmark(
  model: DecoderModel,
  prompts: PromptBatch,
  options: BenchmarkOptions,
): Promise<BenchmarkResult> {
  const runs = options.runs ?? 10;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`Cannot benchmark: 'runs' must be a positive integer, got ${runs}`);
  }
  const measured = await measureRuns(model, Array.from({ length: runs }, () => prompts), options);
  const all = measured.runs;
  const tokensPerS = all.flatMap((r) => r.decodeTokensPerS === null ? [] : [r.decodeTokensPerS]);
  const latencies = all.flatMap((r) => r.tokenLatenciesMs);
  return {
    ...measured,
    summary: {
      prefillMs: summarize(all.map((r) => r.prefillMs)),
      decodeMs: summarize(all.map((r) => r.decodeMs)),
      totalMs: summarize(all.map((r) => r.totalMs)),
      decodeTokensPerS: tokensPerS.length ? summarize(tokensPerS) : null,
      tokenLatencyMs: latencies.length ? summarize(latencies) : null,
      pooledDecodeTokensPerS: pooledTokensPerS(all),
    },
  };
}
