/**
 * The latency scenario of one configuration: warmup runs (discarded), then measured runs of
 * {@linkcode generate} on the same prompts, with memory sampled over the measured runs only.
 *
 * @module
 */
import { type MemoryReport, MemorySampler } from "../measure/memory_sampler.ts";
import { summarize, type Summary } from "../measure/stats.ts";
import type { DecoderModel } from "./decoder.ts";
import { generate, type GenerationResult } from "./generate.ts";

/** Options of {@linkcode runBenchmark}. */
export interface BenchmarkOptions {
  /** Tokens per run (EOS ignored: every run makes exactly this many). */
  maxNewTokens: number;
  /** KV cache on or off. @default true */
  useCache?: boolean;
  /** Discarded runs before measuring. @default 3 */
  warmup?: number;
  /** Measured runs. @default 10 */
  runs?: number;
  /** Progress lines (for stderr). @default none */
  onProgress?: (line: string) => void;
  /** Sample GPU memory through NVML. @default true */
  sampleGpu?: boolean;
}

/** Measured runs and their summaries. */
export interface BenchmarkResult {
  /** Every measured run, raw (warmups are never kept). */
  runs: GenerationResult[];
  /** Summaries over the measured runs (`null` where no run has the figure). */
  summary: {
    prefillMs: Summary;
    decodeMs: Summary;
    totalMs: Summary;
    decodeTokensPerS: Summary | null;
    /** All per-token decode latencies of all runs together. */
    tokenLatencyMs: Summary | null;
  };
  /** Memory over the measured runs. */
  memory: MemoryReport;
}

/**
 * Runs warmups then measured generations of the same prompts and summarises them.
 *
 * @param model A loaded decoder.
 * @param prompts Token ids per batch row.
 * @param options Tokens, cache, warmup and run counts.
 * @returns Raw runs, summaries and memory.
 * @throws {RangeError} naming `warmup` or `runs` when they are not valid counts.
 * @example
 * ```ts ignore
 * import { loadDecoder, resolveModel, runBenchmark } from "./mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32" });
 * const r = await runBenchmark(model, [[1, 2, 3]], { maxNewTokens: 8, warmup: 1, runs: 3 });
 * console.log(r.summary.decodeTokensPerS?.mean);
 * ```
 */
export async function runBenchmark(
  model: DecoderModel,
  prompts: readonly (readonly number[])[],
  options: BenchmarkOptions,
): Promise<BenchmarkResult> {
  const warmup = options.warmup ?? 3;
  const runs = options.runs ?? 10;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(
      `Cannot benchmark: 'warmup' must be a non-negative integer, got ${warmup}`,
    );
  }
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`Cannot benchmark: 'runs' must be a positive integer, got ${runs}`);
  }
  const generation = { maxNewTokens: options.maxNewTokens, useCache: options.useCache ?? true };
  for (let i = 0; i < warmup; i++) {
    await generate(model, prompts, generation);
    options.onProgress?.(`warmup ${i + 1}/${warmup}`);
  }
  const sampler = new MemorySampler({ gpu: options.sampleGpu ?? true }).start();
  const measured: GenerationResult[] = [];
  let memory: MemoryReport;
  try {
    for (let i = 0; i < runs; i++) {
      const r = await generate(model, prompts, generation);
      measured.push(r);
      options.onProgress?.(
        `run ${i + 1}/${runs}: prefill ${r.prefillMs.toFixed(1)} ms, decode ${
          r.decodeTokensPerS?.toFixed(1) ?? "-"
        } tokens/s`,
      );
    }
  } finally {
    memory = sampler.stop();
  }
  const tokensPerS = measured.flatMap((r) =>
    r.decodeTokensPerS === null ? [] : [r.decodeTokensPerS]
  );
  const latencies = measured.flatMap((r) => r.tokenLatenciesMs);
  return {
    runs: measured,
    summary: {
      prefillMs: summarize(measured.map((r) => r.prefillMs)),
      decodeMs: summarize(measured.map((r) => r.decodeMs)),
      totalMs: summarize(measured.map((r) => r.totalMs)),
      decodeTokensPerS: tokensPerS.length ? summarize(tokensPerS) : null,
      tokenLatencyMs: latencies.length ? summarize(latencies) : null,
    },
    memory,
  };
}
