/**
 * `deno task bench`: the single-model benchmark. Loads one model at one dtype on one device,
 * runs warmups (discarded) then measured greedy generations of a synthetic (or given) prompt, and
 * writes the classic single-model benchmark JSON (stats, individual runs, GPU memory, system
 * info, the execution provider actually used). Summary table on stdout, progress on stderr.
 *
 * ```
 * deno task bench --model preset:small --dtype q4 --device cpu --use-cache true \
 *   --prompt-tokens 512 --max-new-tokens 100 --warmup 3 --runs 10 --output out.json
 * ```
 *
 * `throughput_*` and `tokens_per_second` are end-to-end (output tokens ÷ total time, the classic
 * shape); `decode_tokens_per_s_*` is the brief's decoding-phase figure (tokens 2..N).
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { type BenchmarkResult, runBenchmark } from "../engine/benchmark.ts";
import { type DecoderModel, loadDecoder } from "../engine/decoder.ts";
import { chatPromptIds } from "../engine/chat.ts";
import { promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { recordBenchOutput } from "../history/record.ts";
import { gpuMemory } from "../measure/gpu.ts";
import { preflightWarnings, resultWarnings } from "../measure/run_checks.ts";
import { type SampleSummary, summarizeSamples } from "../analysis/mod.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { finishBenchTelemetry, startBenchTelemetry } from "./_bench_telemetry.ts";
import { checkWritable, runCli, writeTextAtomic } from "./_cli.ts";
import { BENCH_USAGE, type BenchSettings, benchSettings } from "./_bench_args.ts";

async function main(): Promise<number> {
  const s = benchSettings(Deno.args);
  if (s === null) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const progress = (line: string) => console.error(line);
  // Before the benchmark: a run must not end on an unwritable --output.
  if (s.output !== undefined) await checkWritable(s.output, "--output");
  const resolved = await resolveModel(s.model, { dtypes: [s.dtype], onProgress: progress });
  resolved.onnxPath(s.dtype); // a dtype the model lacks fails here, listing the ones it has
  const tokenizeStart = performance.now();
  const prompts = s.prompt === undefined
    ? Array.from(
      { length: s.batch },
      (_, b) => promptIds(resolved.tokenizer, s.family, s.promptTokens, b),
    )
    : Array.from(
      { length: s.batch },
      () =>
        s.chat
          ? chatPromptIds(resolved.tokenizer, s.prompt!)
          : resolved.tokenizer.encode(s.prompt!),
    );
  const tokenizeMs = performance.now() - tokenizeStart;
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest + s.maxNewTokens > resolved.config.maxPositions) {
    throw new RangeError(
      `prompt (${longest} tokens) + '--max-new-tokens' (${s.maxNewTokens}) exceeds the model's ${resolved.config.maxPositions} positions`,
    );
  }
  // After every input check, so a bad input still fails with exactly one line.
  const preflight = preflightWarnings();
  for (const warning of preflight) progress(`warning: ${warning}`);
  progress(`loading ${s.model} (${s.dtype}) on ${s.device}`);
  const model = await loadDecoder(resolved, {
    dtype: s.dtype,
    device: s.device,
    threads: s.threads,
  });
  try {
    progress(
      `execution provider: ${model.executionProvider} (${
        model.placement
          ? `${model.placement.nodes} nodes profiled, ${model.placement.offProvider} on another provider`
          : model.placementError
      }); logits of ${model.logitsPositions === "last" ? "the last position" : "every position"}`,
    );
    const window = await startBenchTelemetry(s.telemetryIntervalMs, s.device);
    const result = await runBenchmark(model, prompts, {
      maxNewTokens: s.maxNewTokens,
      useCache: s.useCache,
      warmup: s.warmup,
      runs: s.runs,
      onProgress: progress,
      ...(window ? { onWindow: window.onWindow } : {}),
    });
    const generated = result.runs.reduce((a, r) => a + r.newTokens * r.batch, 0);
    const telemetry = await finishBenchTelemetry(window, s.output, generated);
    const checks = [
      ...resultWarnings("prefill ms", result.summary.prefillMs),
      ...(result.summary.decodeTokensPerS
        ? resultWarnings("decode tokens/s", result.summary.decodeTokensPerS)
        : []),
    ];
    for (const warning of checks) progress(`warning: ${warning}`);
    const report = {
      ...await benchReport(s, model, prompts, result, tokenizeMs),
      checks: { preflight, results: checks },
      telemetry,
    };
    console.log(table(s, model, result));
    if (s.output) {
      await writeTextAtomic(s.output, JSON.stringify(report, null, 2) + "\n");
      recordBenchOutput(report, s.output); // history: benchmarks/history.sqlite ($TURBO_HISTORY_DB)
      progress(`wrote ${s.output}`);
    }
  } finally {
    await model.dispose();
  }
  return 0;
}

async function benchReport(
  s: BenchSettings,
  model: DecoderModel,
  prompts: number[][],
  result: BenchmarkResult,
  tokenizeMs: number,
) {
  const { summary } = result;
  const samples = sampleSummaries(result);
  const tokenizer = model.resolved.tokenizer;
  const runs = result.runs.map((r) => {
    const output = r.newTokens * r.batch;
    const input = r.promptTokens.reduce((a, b) => a + b, 0);
    return {
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      total_time_s: r.totalMs / 1000,
      tokens_per_second: output / (r.totalMs / 1000),
      prefill_ms: r.prefillMs,
      decode_ms: r.decodeMs,
      decode_tokens_per_s: r.decodeTokensPerS,
      token_latencies_ms: r.tokenLatenciesMs,
      prompt_token_ids: prompts.length === 1 ? prompts[0] : prompts,
      generated_token_ids: r.tokens.length === 1 ? r.tokens[0] : r.tokens,
      generated_text: r.tokens.length === 1
        ? tokenizer.decode(r.tokens[0]!, { skip_special_tokens: true })
        : r.tokens.map((t) => tokenizer.decode(t, { skip_special_tokens: true })),
    };
  });
  const throughput = summarizeSamples(runs.map((r) => r.tokens_per_second));
  const gpu = gpuMemory();
  return {
    timestamp: new Date().toISOString(),
    model: s.model,
    device: s.device,
    execution_provider: model.executionProvider,
    nodes_off_provider: model.nodesOffProvider,
    logits_positions: model.logitsPositions,
    quantization: s.dtype,
    use_cache: s.useCache,
    batch: s.batch,
    prompt_family: s.prompt === undefined ? s.family : s.chat ? "custom-chat" : "custom",
    prompt_tokens: Math.max(...prompts.map((p) => p.length)),
    max_new_tokens: s.maxNewTokens,
    warmup_runs: s.warmup,
    test_runs: s.runs,
    threads: s.threads,
    load_ms: model.loadMs,
    tokenize_ms: tokenizeMs,
    results: {
      stats: {
        throughput_mean: throughput.mean,
        throughput_std: throughput.std,
        throughput_min: throughput.min,
        throughput_max: throughput.max,
        latency_mean_s: summary.totalMs.mean / 1000,
        latency_std_s: summary.totalMs.std / 1000,
        ...flat("prefill_ms", samples.prefillMs),
        ...flat("decode_ms", samples.decodeMs),
        ...flat("decode_tokens_per_s", samples.decodeTokensPerS),
        decode_tokens_per_s_pooled: summary.pooledDecodeTokensPerS,
        ...flat("token_latency_ms", samples.tokenLatencyMs),
        ...flat("total_ms", samples.totalMs),
      },
      individual_runs: runs,
      memory: { peak_rss_bytes: result.memory.peakRssBytes },
      gpu_memory: gpu.available
        ? {
          available: true,
          source: gpu.source,
          total_bytes: gpu.totalBytes,
          used_bytes_after: gpu.usedBytes,
          process_used_bytes: gpu.processUsedBytes,
          peak_used_bytes: result.memory.peakGpuUsedBytes,
        }
        : { available: false, reason: gpu.reason },
    },
    system_info: await systemInfo(),
  };
}

/** Per-metric summaries of the measured runs (lib/analysis `summarizeSamples`). */
interface Samples {
  prefillMs: SampleSummary;
  decodeMs: SampleSummary;
  totalMs: SampleSummary;
  decodeTokensPerS: SampleSummary | null;
  tokenLatencyMs: SampleSummary | null;
}

function sampleSummaries(r: BenchmarkResult): Samples {
  const rates = r.runs.map((x) => x.decodeTokensPerS).filter((v): v is number => v !== null);
  const latencies = r.runs.flatMap((x) => x.tokenLatenciesMs);
  return {
    prefillMs: summarizeSamples(r.runs.map((x) => x.prefillMs)),
    decodeMs: summarizeSamples(r.runs.map((x) => x.decodeMs)),
    totalMs: summarizeSamples(r.runs.map((x) => x.totalMs)),
    decodeTokensPerS: rates.length > 0 ? summarizeSamples(rates) : null,
    tokenLatencyMs: latencies.length > 0 ? summarizeSamples(latencies) : null,
  };
}

function flat(prefix: string, s: SampleSummary | null): Record<string, number | null> {
  const keys = [
    "mean",
    "std",
    "min",
    "max",
    "p50",
    "p90",
    "p95",
    "p99",
    "ci95Low",
    "ci95High",
  ] as const;
  const names = ["mean", "std", "min", "max", "p50", "p90", "p95", "p99", "ci95_low", "ci95_high"];
  return Object.fromEntries(
    keys.map((k, i) => [`${prefix}_${names[i]}`, s === null ? null : s[k]]),
  );
}

function table(s: BenchSettings, model: DecoderModel, r: BenchmarkResult): string {
  const x = sampleSummaries(r);
  const row = (
    name: string,
    v: SampleSummary | null,
    digits = 2,
  ) => [
    name,
    ...(["mean", "std", "p50", "p95", "p99"] as const).map((k) => {
      const n = v?.[k] ?? null;
      return n === null ? "-" : n.toFixed(digits);
    }),
  ];
  const rows = [
    ["metric", "mean", "std", "p50", "p95", "p99"],
    row("prefill ms", x.prefillMs),
    row("decode ms", x.decodeMs),
    row("decode tokens/s", x.decodeTokensPerS),
    row("token latency ms", x.tokenLatencyMs, 3),
    row("total ms", x.totalMs),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((cells) =>
    cells.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)).join("  ")
  );
  const head = `${s.model} ${s.dtype} on ${model.executionProvider}, cache ${
    s.useCache ? "on" : "off"
  }, batch ${s.batch}, ${
    Math.max(...r.runs[0]!.promptTokens)
  } prompt + ${s.maxNewTokens} new tokens, ${s.runs} runs`;
  const peak = r.memory.peakRssBytes;
  return [head, ...lines, `peak RSS ${peak === null ? "-" : (peak / 2 ** 20).toFixed(0) + " MiB"}`]
    .join("\n");
}

if (import.meta.main) await runCli(main);
