/**
 * The GPU check's own result (`<device>.json`) and its Markdown (`<device>.md`): one line per
 * sweep cell (provider that ran, nodes off it, whether the KV cache stayed on the device, decode
 * and prefill means, the decode rate as a fraction of the measured bandwidth bound), the
 * perplexity of the trained model on the device against the CPU, and every step's status. Built
 * from the sweep's `results.csv` rows and the step outputs only; the Markdown renders the JSON.
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import { summarize } from "../measure/stats.ts";
import type { Dtype } from "../dtypes.ts";
import type { Bandwidth } from "./bandwidth.ts";
import { boundFraction, type DecodeBytes } from "./decode_bound.ts";

/** How one step of the check went. */
export interface StepResult {
  /** Step name (`sysinfo`, `doctor`, `bandwidth`, `ppl-cpu`, `ppl-device`, `build`, `sweep`). */
  name: string;
  /** `ok`, `failed` or `timeout` (`skipped` when the deadline left no time). */
  status: "ok" | "failed" | "timeout" | "skipped";
  /** Wall time, seconds. */
  seconds: number;
  /** Exit code, or null. */
  exit_code: number | null;
  /** Why it did not succeed, else empty. */
  error: string;
}

/** One sweep cell of the check. */
export interface CellResult {
  /** The dtype. */
  dtype: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Prompt tokens. */
  context_tokens: number;
  /** `ok` when every measured run was, else `error`. */
  status: "ok" | "error";
  /** The first error, else empty. */
  error: string;
  /** Execution provider that ran. */
  execution_provider: string;
  /** Nodes ORT placed off that provider (null when not read). */
  nodes_off_provider: number | null;
  /** How the KV cache was kept (`device`: in GPU buffers between steps). */
  kv_mode: string;
  /** Whether the KV cache stayed on the device (`kv_mode` is `device`); null with the cache off. */
  kv_on_device: boolean | null;
  /** Measured runs. */
  runs: number;
  /** Mean decode tokens/s (tokens 2..N). */
  decode_tokens_per_s: number | null;
  /** Mean prefill milliseconds. */
  prefill_ms: number | null;
  /** Weight bytes a decode step reads (null when the model file was not found). */
  weight_bytes_per_token: number | null;
  /** KV bytes a decode step reads. */
  kv_bytes_per_token: number | null;
  /** Bytes/s the decode rate implies (cache on only). */
  decode_bytes_per_s: number | null;
  /** That over the measured bandwidth (cache on only). */
  fraction_of_bandwidth: number | null;
}

/** Perplexity of the trained model on the CPU and on the device. */
export interface PerplexityCheck {
  /** Model. */
  model: string;
  /** CPU perplexity. */
  cpu: number | null;
  /** Device perplexity. */
  device: number | null;
  /** Execution provider of the device run. */
  device_provider: string;
  /** |device − cpu| / cpu. */
  relative_difference: number | null;
  /** Largest relative difference that passes. */
  tolerance: number;
  /** Whether it passed (null when a value is missing). */
  pass: boolean | null;
}

/**
 * Groups the sweep's rows into cells and adds the bandwidth fraction of each cache-on cell.
 *
 * @param rows The sweep's rows.
 * @param bytesOf Bytes per decode token of a cell, or null when unknown.
 * @param bandwidth The measured bandwidth, or null.
 * @returns One result per cell, in the rows' order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellResults } from "./report.ts";
 * import { benchRowFixture } from "./_fixture.ts";
 * const rows = [benchRowFixture({ decode_tokens_per_s: 10 }), benchRowFixture({ decode_tokens_per_s: 30 })];
 * const [cell] = cellResults(rows, () => ({ weightBytes: 90, kvBytes: 10 }), {
 *   method: "m", device_name: "d", bytes_per_s: 4000, seconds: [], bytes_moved: 0,
 * });
 * assert.equal(cell!.decode_tokens_per_s, 20);
 * assert.equal(cell!.fraction_of_bandwidth, 0.5);
 * ```
 */
export function cellResults(
  rows: readonly BenchRow[],
  bytesOf: (dtype: Dtype, context: number, newTokens: number) => DecodeBytes | null,
  bandwidth: Bandwidth | null,
): CellResult[] {
  const cells = new Map<string, BenchRow[]>();
  for (const row of rows) {
    const list = cells.get(row.cell_id) ?? [];
    list.push(row);
    cells.set(row.cell_id, list);
  }
  return [...cells.values()].map((list) => {
    const first = list[0]!;
    const ok = list.filter((r) => r.status === "ok");
    const decode = ok.map((r) => r.decode_tokens_per_s).filter((v): v is number => v !== null);
    const prefill = ok.map((r) => r.prefill_ms).filter((v): v is number => v !== null);
    const tps = decode.length > 0 ? summarize(decode).mean : null;
    const bytes = first.use_cache
      ? bytesOf(first.dtype as Dtype, first.context_tokens, first.new_tokens)
      : null;
    const bound = bytes && tps !== null && bandwidth
      ? boundFraction(bytes, tps, bandwidth.bytes_per_s)
      : null;
    const kvMode = first.kv_mode ?? "";
    return {
      dtype: first.dtype,
      use_cache: first.use_cache,
      context_tokens: first.context_tokens,
      status: ok.length === list.length ? "ok" : "error",
      error: list.find((r) => r.status !== "ok")?.error ?? "",
      execution_provider: first.execution_provider,
      nodes_off_provider: first.nodes_off_provider ?? null,
      kv_mode: kvMode,
      kv_on_device: first.use_cache ? kvMode === "device" : null,
      runs: ok.length,
      decode_tokens_per_s: tps,
      prefill_ms: prefill.length > 0 ? summarize(prefill).mean : null,
      weight_bytes_per_token: bytes?.weightBytes ?? null,
      kv_bytes_per_token: bytes?.kvBytes ?? null,
      decode_bytes_per_s: bound?.bytesPerS ?? null,
      fraction_of_bandwidth: bound?.fraction ?? null,
    };
  });
}

/**
 * Compares the two perplexities.
 *
 * @param model The model.
 * @param cpu CPU perplexity, or null.
 * @param device Device perplexity and its provider, or null.
 * @param tolerance Largest relative difference that passes.
 * @returns The comparison.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparePerplexity } from "./report.ts";
 * assert.equal(comparePerplexity("m", 10, { ppl: 10.005, provider: "W" }, 1e-3).pass, true);
 * assert.equal(comparePerplexity("m", 10, { ppl: 10.1, provider: "W" }, 1e-3).pass, false);
 * assert.equal(comparePerplexity("m", null, null, 1e-3).pass, null);
 * ```
 */
export function comparePerplexity(
  model: string,
  cpu: number | null,
  device: { ppl: number | null; provider: string } | null,
  tolerance: number,
): PerplexityCheck {
  const d = device?.ppl ?? null;
  const rel = cpu !== null && d !== null && cpu !== 0 ? Math.abs(d - cpu) / Math.abs(cpu) : null;
  return {
    model,
    cpu,
    device: d,
    device_provider: device?.provider ?? "",
    relative_difference: rel,
    tolerance,
    pass: rel === null ? null : rel <= tolerance,
  };
}

/** Everything `<device>.json` holds. */
export interface CheckReport {
  /** `gpu` or `cpu` (the dry run). */
  mode: string;
  /** File-name slug of the device. */
  device_slug: string;
  /** Device asked for. */
  device: string;
  /** GPU or CPU name. */
  device_name: string;
  /** RFC 3339 start. */
  started_at: string;
  /** Seconds from the start of check.sh to the report. */
  seconds: number;
  /** The bundle's commit. */
  git_commit: string;
  /** ONNX Runtime backends the binding lists (name → bundled). */
  backends: Record<string, boolean>;
  /** Execution providers that ran (sweep cells and perplexity). */
  providers_loaded: string[];
  /** The Vulkan setup check.sh found or made. */
  vulkan: string;
  /** Memory bandwidth, or null. */
  bandwidth: Bandwidth | null;
  /** Perplexity of the trained model. */
  perplexity: PerplexityCheck;
  /** Cells the plan has (dtypes × lengths × cache on/off); fewer ran when the deadline came. */
  cells_planned: number;
  /** Sweep cells that ran. */
  cells: CellResult[];
  /** Steps. */
  steps: StepResult[];
}

function num(v: number | null, digits: number): string {
  return v === null ? "–" : v.toFixed(digits);
}

/**
 * Renders the report as Markdown (every figure read from the report).
 *
 * @param report The report.
 * @returns The Markdown text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderCheckMarkdown } from "./report.ts";
 * import { checkReportFixture } from "./_fixture.ts";
 * assert.match(renderCheckMarkdown(checkReportFixture()), /\| fp32 \| on \|/);
 * ```
 */
export function renderCheckMarkdown(report: CheckReport): string {
  const bw = report.bandwidth;
  const p = report.perplexity;
  const lines = [
    `# GPU check: ${report.device_name} (${
      report.mode === "gpu" ? report.device : "dry run on the CPU"
    })`,
    "",
    `Commit ${report.git_commit}, started ${report.started_at}, ${
      report.seconds.toFixed(0)
    } s. Backends the binding lists: ${
      Object.entries(report.backends).map(([k, v]) => `${k}${v ? "" : " (not bundled)"}`).join(
        ", ",
      )
    }. Providers that ran: ${
      report.providers_loaded.join(", ") || "none"
    }. Vulkan: ${report.vulkan}.`,
    "",
    bw
      ? `Memory bandwidth: ${
        (bw.bytes_per_s / 1e9).toFixed(1)
      } GB/s (${bw.method}; ${bw.device_name}).`
      : "Memory bandwidth: not measured.",
    "",
    `Perplexity of ${p.model}: CPU ${num(p.cpu, 4)}, ${report.device} ${num(p.device, 4)} ` +
    `(${p.device_provider || "–"}), relative difference ${
      p.relative_difference === null ? "–" : p.relative_difference.toExponential(2)
    } (tolerance ${p.tolerance}): ${p.pass === null ? "not compared" : p.pass ? "pass" : "FAIL"}.`,
    "",
    `${report.cells.length} of ${report.cells_planned} planned cells ran.`,
    "",
    "| dtype | cache | context | status | provider | nodes off | KV on device | decode tok/s | prefill ms | bytes/token | of bandwidth |",
    "| ----- | ----- | ------- | ------ | -------- | --------- | ------------ | ------------ | ---------- | ----------- | ------------ |",
  ];
  for (const c of report.cells) {
    const bytes = c.weight_bytes_per_token === null
      ? "–"
      : `${((c.weight_bytes_per_token + (c.kv_bytes_per_token ?? 0)) / 1e6).toFixed(1)} MB`;
    lines.push(
      `| ${c.dtype} | ${c.use_cache ? "on" : "off"} | ${c.context_tokens} | ${
        c.status === "ok" ? "ok" : `error: ${c.error.replaceAll("|", "/").slice(0, 80)}`
      } | ${c.execution_provider || "–"} | ${c.nodes_off_provider ?? "–"} | ${
        c.kv_on_device === null ? "–" : c.kv_on_device ? "yes" : `no (${c.kv_mode || "–"})`
      } | ${num(c.decode_tokens_per_s, 1)} | ${num(c.prefill_ms, 1)} | ${bytes} | ${
        c.fraction_of_bandwidth === null ? "–" : `${(c.fraction_of_bandwidth * 100).toFixed(1)} %`
      } |`,
    );
  }
  lines.push("", "| step | status | seconds | error |", "| ---- | ------ | ------- | ----- |");
  for (const s of report.steps) {
    lines.push(
      `| ${s.name} | ${s.status} | ${s.seconds.toFixed(1)} | ${
        s.error.replaceAll("|", "/").slice(0, 120)
      } |`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * A file-name slug of a device name (`NVIDIA H100 80GB HBM3` → `nvidia-h100-80gb-hbm3`).
 *
 * @param name The name.
 * @returns Lower-case letters, digits and dashes; `unknown` when nothing is left.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deviceSlug } from "./report.ts";
 * assert.equal(deviceSlug("NVIDIA H100 80GB HBM3"), "nvidia-h100-80gb-hbm3");
 * assert.equal(deviceSlug(" "), "unknown");
 * ```
 */
export function deviceSlug(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return slug || "unknown";
}
