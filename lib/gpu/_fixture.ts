/**
 * Fixtures for the tests of lib/gpu (private; never re-exported).
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import type { CheckReport } from "./report.ts";

/** One measured run of `preset:tiny` fp32, cache on, 32 tokens, with overrides. */
export function benchRowFixture(overrides: Partial<BenchRow> = {}): BenchRow {
  const cell = "preset:tiny|fp32|webgpu|true|32|conversational|1";
  return {
    run_id: `${cell}#0#0`,
    cell_id: cell,
    timestamp: "2026-12-07T04:00:00Z",
    model: "preset:tiny",
    dtype: "fp32",
    device: "webgpu",
    execution_provider: "WebGpuExecutionProvider",
    nodes_off_provider: 3,
    kv_mode: "device",
    use_cache: true,
    batch: 1,
    context_tokens: 32,
    family: "conversational",
    prompt_id: 0,
    run_index: 0,
    new_tokens: 8,
    prefill_ms: 5,
    decode_ms: 70,
    decode_tokens_per_s: 100,
    token_p50_ms: 10,
    token_p95_ms: null,
    total_ms: 75,
    peak_rss_bytes: 1e8,
    peak_vram_bytes: null,
    status: "ok",
    error: "",
    git_commit: "abc1234",
    deno_version: "2.9.6",
    ort_version: "1.30.0",
    transformers_version: "4.3.1",
    device_name: "Synthetic GPU",
    ...overrides,
  };
}

/** A small complete report. */
export function checkReportFixture(): CheckReport {
  return {
    mode: "gpu",
    device_slug: "synthetic-gpu",
    device: "webgpu",
    device_name: "Synthetic GPU",
    started_at: "2026-12-07T04:00:00Z",
    seconds: 300,
    git_commit: "abc1234",
    backends: { cpu: true, webgpu: true, cuda: false },
    providers_loaded: ["WebGpuExecutionProvider"],
    vulkan: "ICD found",
    bandwidth: {
      method: "m",
      device_name: "Synthetic GPU",
      bytes_per_s: 2e12,
      seconds: [0.001],
      bytes_moved: 2e9,
    },
    perplexity: {
      model: "models/wikitext-llama",
      cpu: 20,
      device: 20.001,
      device_provider: "WebGpuExecutionProvider",
      relative_difference: 5e-5,
      tolerance: 1e-3,
      pass: true,
    },
    cells_planned: 16,
    cells: [{
      dtype: "fp32",
      use_cache: true,
      context_tokens: 128,
      status: "ok",
      error: "",
      execution_provider: "WebGpuExecutionProvider",
      nodes_off_provider: 3,
      kv_mode: "device",
      kv_on_device: true,
      runs: 5,
      decode_tokens_per_s: 100,
      prefill_ms: 20,
      weight_bytes_per_token: 4e9,
      kv_bytes_per_token: 1e6,
      decode_bytes_per_s: 4.0001e11,
      fraction_of_bandwidth: 0.2,
    }],
    steps: [{ name: "sweep", status: "ok", seconds: 200, exit_code: 0, error: "" }],
  };
}
