/**
 * The row types every writer and reader shares: one field list per table drives CSV, Parquet,
 * JSONL and Markdown output, and every figure and report reads these names. Units live in the
 * field names.
 *
 * @module
 */
import { TELEMETRY_FIELDS } from "../measure/telemetry_summary.ts";

/** One measured run of one benchmark cell (never aggregated). `benchmarks/results.csv`. */
export interface BenchRow {
  /** Unique id of the run: `${cell_id}#${prompt_id}#${run_index}`. */
  run_id: string;
  /** Id of the grid cell (model, dtype, device, use_cache, context, family, batch). */
  cell_id: string;
  /** RFC 3339 time the run started. */
  timestamp: string;
  /** Model reference (Hub id, local dir or `preset:NAME`). */
  model: string;
  /** Weight dtype in transformers.js's names (`fp32`, `fp16`, `q8`, `q4`, `q4f16`, …). */
  dtype: string;
  /** Device asked for (`cpu`, `cuda`, `webgpu`). */
  device: string;
  /** Execution provider that actually ran (`CPUExecutionProvider`, …); empty when none did. */
  execution_provider: string;
  /** KV cache on (prefill once, then one token per step) or off (recompute every step). */
  use_cache: boolean;
  /** Sequences per run. */
  batch: number;
  /** Prompt length in tokens. */
  context_tokens: number;
  /** Prompt family (`conversational`, `code`, `summary`). */
  family: string;
  /** Index of the prompt within its length and family. */
  prompt_id: number;
  /** Index of the measured run (warmups are never recorded). */
  run_index: number;
  /**
   * Tokens generated per sequence in this repetition: a repetition decodes until its time floor
   * (`min_rep_seconds`) or `max_new_tokens`, so this varies from row to row.
   */
  new_tokens: number;
  /** Prompt → first token's logits, milliseconds. */
  prefill_ms: number | null;
  /** Tokens 2..N, milliseconds. */
  decode_ms: number | null;
  /**
   * Decode throughput of the whole batch: (new_tokens − 1) / decode_ms × 1000 × batch, tokens/s
   * summed over all sequences (equal to the per-sequence rate at batch 1).
   */
  decode_tokens_per_s: number | null;
  /** Median per-token decode latency, milliseconds. */
  token_p50_ms: number | null;
  /** 95th-percentile per-token decode latency of the run, milliseconds; null below 20 decode steps. */
  token_p95_ms: number | null;
  /** prefill_ms + decode_ms (tokenisation excluded), milliseconds. */
  total_ms: number | null;
  /**
   * Peak resident memory (VmHWM) of the cell's own worker process over its measured runs, bytes:
   * each cell runs in a fresh process, the kernel's peak is reset after the warmups, so this is
   * this cell's work plus the loaded model and the runtime (see `rss_baseline_bytes`), never an
   * earlier cell's arena.
   */
  peak_rss_bytes: number | null;
  /** Peak GPU memory used during the cell, bytes; null where no GPU memory can be read. */
  peak_vram_bytes: number | null;
  /** `ok` or `error`. */
  status: "ok" | "error";
  /** The reason when status is `error`, else empty. */
  error: string;
  /** Git commit of the project, or `unknown`. */
  git_commit: string;
  /** Deno version. */
  deno_version: string;
  /** onnxruntime-node version. */
  ort_version: string;
  /** Version of the @huggingface/transformers package. */
  transformers_version: string;
  /** CPU or GPU name the cell ran on. */
  device_name: string;
  /**
   * How the engine kept the KV cache (`copy`, `in_place`, `device`; see lib/engine/kv_cache.ts);
   * empty with the cache off and in error rows; null in files written before the column existed.
   */
  kv_mode?: string | null;
  /**
   * Bytes the KV cache reserved up front: the in-place buffer, max length × layers × kv heads ×
   * head dim × element bytes × 2 × batch (inside `peak_rss_bytes`); 0 for the other modes.
   */
  kv_cache_bytes?: number | null;
  /**
   * What the ONNX file says it was quantised with (`q4 b32 acc4`, `q8 nbits b32 acc4`,
   * `q8 dynamic`, `fp16`; see lib/quantize/quantization_metadata.ts); empty for float32 files and
   * files written elsewhere (Hub exports).
   */
  quantization?: string | null;
  /** RSS of the cell's fresh worker with the model loaded, before the warmups, bytes. */
  rss_baseline_bytes?: number | null;
  /** `peak_rss_bytes − rss_baseline_bytes`: what this cell's runs added to the loaded model, bytes. */
  peak_rss_increase_bytes?: number | null;
  /** The machine's 1-minute load average just before the cell's worker started. */
  load1_before?: number | null;
  /** The machine's 1-minute load average just after the cell's worker finished. */
  load1_after?: number | null;
  /** `random` (a `preset:` build: no language quality) or `trained`; empty when unknown. */
  weights?: string;
  /**
   * Nodes of the session that ORT placed on a provider other than `execution_provider` (read from
   * its profile; CPU fallbacks of a GPU session show here); null where it was not read.
   */
  nodes_off_provider?: number | null;
  /**
   * Positions the generation runs' logits covered: `last` (the graph takes `num_logits_to_keep`,
   * so only the last row is computed and copied) or `all` (a Hub export without it).
   */
  logits_positions?: string | null;
  /**
   * Decode throughput of one sequence of the batch: `decode_tokens_per_s / batch`, tokens/s
   * (see docs/batching.md); null where the run made one token or failed.
   */
  decode_tokens_per_s_per_seq?: number | null;
  /** `I/N` when a sharded sweep (`--shard`) ran the cell, empty when unsharded (lib/sweep/shard.ts). */
  shard?: string | null;
  /** Host the cell ran on: `$TURBO_HOST`, else the hostname. */
  host?: string | null;
  /** sha256 (16 hex) of the sweep spec minus name and time limits: rows of one grid share it. */
  spec_hash?: string | null;
  /**
   * Telemetry of the cell's measured window (lib/measure/telemetry_summary.ts; the same on every
   * row of a cell; null where a source is missing, never 0): samples taken in the window.
   */
  telemetry_samples?: number | null;
  /** Mean of this process's CPU, percent of one core (200 = two cores busy). */
  cpu_process_pct_mean?: number | null;
  /** 95th percentile of the process CPU, percent of one core (null below 20 samples). */
  cpu_process_pct_p95?: number | null;
  /** Largest process CPU reading, percent of one core. */
  cpu_process_pct_max?: number | null;
  /** Mean busy share of all cores, percent (other processes included). */
  cpu_system_pct_mean?: number | null;
  /** The busiest core's mean busy share, percent. */
  cpu_busiest_core_pct_mean?: number | null;
  /** Mean process RSS over the window, bytes. */
  rss_mean_bytes?: number | null;
  /** Lowest system `MemAvailable` in the window, bytes. */
  mem_available_min_bytes?: number | null;
  /** Mean 1-minute load average in the window. */
  load1_mean?: number | null;
  /** Mean GPU utilisation, percent (null on the CPU or without NVML / nvidia-smi). */
  gpu_util_pct_mean?: number | null;
  /** 95th percentile of GPU utilisation, percent (null below 20 samples). */
  gpu_util_pct_p95?: number | null;
  /** Largest GPU utilisation reading, percent. */
  gpu_util_pct_max?: number | null;
  /** Largest device memory used (all processes), bytes. */
  gpu_mem_used_max_bytes?: number | null;
  /** Largest device memory used by this process, bytes. */
  gpu_mem_process_max_bytes?: number | null;
  /** Highest GPU temperature, °C. */
  gpu_temp_c_max?: number | null;
  /** Mean GPU power draw, W. */
  gpu_power_w_mean?: number | null;
  /** Mean SM clock, MHz. */
  gpu_sm_clock_mhz_mean?: number | null;
  /** GPU energy over the window from NVML's energy counter (last − first reading), J. */
  gpu_energy_j?: number | null;
  /** Throttle reasons seen, joined with `;` (empty: none seen; null: not readable). */
  gpu_throttle_reasons?: string | null;
  /**
   * The round of its block in which this repetition ran, 1-based (every live arm of a block runs
   * its repetitions once per round; lib/measure/rounds.ts); null in files written before rounds.
   */
  round?: number | null;
  /** Position of this arm in that round's (seeded, shuffled) order, 0-based. */
  round_position?: number | null;
  /**
   * 0 for a normal arm; 1 for the A/A control: a second live worker of the block's baseline arm
   * (same dtype and cache mode), whose `cell_id` ends in `~aa`.
   */
  replica?: number | null;
  /**
   * The block the repetition belongs to: model × device × context × batch × family, the arms of
   * one block measured in the same rounds (`model|device|ctx=N|b=N|family`).
   */
  block?: string | null;
  /**
   * Run-queue delay of this worker's threads over the repetition (`/proc/self/task/<tid>/schedstat`
   * wait time, summed), ms: time runnable but not running; null where unreadable.
   */
  sched_wait_ms?: number | null;
  /** Steal time of the machine over the repetition (`/proc/stat`, all CPUs), ms; null where unreadable. */
  steal_ms?: number | null;
  // Roofline columns (lib/quantize/step_bytes.ts, lib/measure/bandwidth.ts).
  /**
   * Bytes one decode step of the whole batch must read: the weights as the ONNX file stores them
   * (packed 4-bit codes, scales, zero points; indexed tables by row) once, plus the KV cache at
   * the run's mean decode position (`context + new_tokens / 2`) for every sequence (0 with the
   * cache off, where the embedding rows of every recomputed token count instead); null when the
   * file could not be read.
   */
  bytes_per_token?: number | null;
  /** `bytes_per_token ÷` the mean decode step time (`decode_ms / (new_tokens − 1)`), GB/s. */
  effective_gb_s?: number | null;
  /**
   * `effective_gb_s ÷` the machine's read bandwidth measured once per sweep (`bandwidth.json`);
   * null on a GPU and where it was not measured.
   */
  bandwidth_fraction?: number | null;
}

/**
 * Trailing `results.csv` columns added after the first reference run: a file whose header lacks
 * them (all, or only the later ones) is read with them null, so older runs stay readable.
 */
export const BENCH_FIELDS_ADDED = [
  "kv_mode",
  "kv_cache_bytes",
  "quantization",
  "rss_baseline_bytes",
  "peak_rss_increase_bytes",
  "load1_before",
  "load1_after",
  "weights",
  "nodes_off_provider",
  "logits_positions",
  "decode_tokens_per_s_per_seq",
  "shard",
  "host",
  "spec_hash",
  // Telemetry of each cell's measured window, in the summary's own column order.
  ...TELEMETRY_FIELDS,
  // The designed experiment: rounds over live arms, the A/A control, drift signals.
  "round",
  "round_position",
  "replica",
  "block",
  "sched_wait_ms",
  "steal_ms",
  // Roofline: bytes a decode step reads, the bandwidth that achieved, its share of the bound.
  "bytes_per_token",
  "effective_gb_s",
  "bandwidth_fraction",
] as const satisfies readonly (keyof BenchRow)[];

/** Column order of `results.csv`. */
export const BENCH_FIELDS = [
  "run_id",
  "cell_id",
  "timestamp",
  "model",
  "dtype",
  "device",
  "execution_provider",
  "use_cache",
  "batch",
  "context_tokens",
  "family",
  "prompt_id",
  "run_index",
  "new_tokens",
  "prefill_ms",
  "decode_ms",
  "decode_tokens_per_s",
  "token_p50_ms",
  "token_p95_ms",
  "total_ms",
  "peak_rss_bytes",
  "peak_vram_bytes",
  "status",
  "error",
  "git_commit",
  "deno_version",
  "ort_version",
  "transformers_version",
  "device_name",
  ...BENCH_FIELDS_ADDED,
] as const satisfies readonly (keyof BenchRow)[];

/** One perplexity measurement of one model and dtype. `benchmarks/perplexity.csv`. */
export interface PerplexityRow {
  /** RFC 3339 time the measurement started. */
  timestamp: string;
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device asked for. */
  device: string;
  /** Execution provider that actually ran. */
  execution_provider: string;
  /** `hf` (sliding window) or `llama-cpp` (non-overlapping, second half scored). */
  method: string;
  /** Window length in tokens. */
  window: number;
  /** Stride in tokens. */
  stride: number;
  /** Token cap applied to the text, or null for the whole split. */
  max_tokens: number | null;
  /** Tokens whose NLL was summed. */
  scored_tokens: number | null;
  /** exp(mean NLL). */
  ppl: number | null;
  /** Standard error of the PPL (llama-perplexity's method). */
  stderr: number | null;
  /** Total NLL in bits divided by the UTF-8 bytes of the scored text. */
  bits_per_byte: number | null;
  /** Baseline dtype the quality columns compare with. */
  baseline: string;
  /** (ppl / baseline ppl − 1) × 100. */
  delta_ppl_pct: number | null;
  /** Mean KL(baseline ‖ dtype) of next-token distributions, nats. */
  kl: number | null;
  /** Share of positions where the argmax agrees with the baseline, percent. */
  top1_agreement: number | null;
  /** Wall time, seconds. */
  seconds: number | null;
  /** Scored tokens per second. */
  tokens_per_s: number | null;
  /** `ok` or `error` (or `skipped` with the reason in `error`). */
  status: "ok" | "error" | "skipped";
  /** The reason when not ok, else empty. */
  error: string;
  /** Git commit of the project, or `unknown`. */
  git_commit: string;
  /** `random` (a `preset:` build: no language quality) or `trained`; empty when unknown. */
  weights?: string;
  /** `I/N` of the sharded sweep that measured it, empty when unsharded. */
  shard?: string | null;
  /** Host it ran on: `$TURBO_HOST`, else the hostname. */
  host?: string | null;
  /** The sweep spec's hash (see `BenchRow.spec_hash`). */
  spec_hash?: string | null;
}

/** Column order of `perplexity.csv`. */
export const PERPLEXITY_FIELDS = [
  "timestamp",
  "model",
  "dtype",
  "device",
  "execution_provider",
  "method",
  "window",
  "stride",
  "max_tokens",
  "scored_tokens",
  "ppl",
  "stderr",
  "bits_per_byte",
  "baseline",
  "delta_ppl_pct",
  "kl",
  "top1_agreement",
  "seconds",
  "tokens_per_s",
  "status",
  "error",
  "git_commit",
  "weights",
  "shard",
  "host",
  "spec_hash",
] as const satisfies readonly (keyof PerplexityRow)[];

/** `perplexity.csv` columns added after the first reference run (read as null when absent). */
export const PERPLEXITY_FIELDS_ADDED: readonly string[] = Object.freeze([
  "weights",
  "shard",
  "host",
  "spec_hash",
]);
