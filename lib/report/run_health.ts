/**
 * What a run's report says beside its numbers: post-run warnings (noisy cells, GPU throttling,
 * error rows, the pre-flight's warnings and failures) and tokens per joule where the GPU's energy
 * counter was read (null with the reason elsewhere, e.g. on the CPU). Read from the raw rows
 * of `results.csv` (telemetry columns) and `benchmarks/preflight.json`.
 *
 * @module
 */
import type { CheckResult } from "../doctor/check.ts";
import { isThrottled } from "../measure/gpu_telemetry.ts";
import { NOISY_CV } from "../measure/run_checks.ts";
import { summarize } from "../measure/stats.ts";
import type { BenchRow } from "../results/schema.ts";

/** The pre-flight record as the report reads it (`benchmarks/preflight.json`). */
export interface PreflightSummary {
  /** When the checks ran. */
  checked_at: string;
  /** Every verdict. */
  checks: CheckResult[];
  /** Counts by status. */
  counts: { pass: number; warn: number; fail: number };
}

/** Tokens per joule of one setup (model, dtype, device, cache mode, batch). */
export interface EnergyEntry {
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device. */
  device: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Sequences per batch. */
  batch: number;
  /** Generated tokens (all sequences) of the cells whose energy is known; null when none is. */
  tokens: number | null;
  /** GPU energy of those cells' measured windows (NVML counter deltas), J; null unknown. */
  energy_j: number | null;
  /** `tokens / energy_j`; null when the energy is unknown. */
  tokens_per_joule: number | null;
  /** Why `tokens_per_joule` is null, else null. */
  reason: string | null;
}

/** Most warnings of one kind listed one by one; the rest are counted. */
const MAX_LISTED = 12;

function listed(lines: string[], what: string): string[] {
  return lines.length <= MAX_LISTED
    ? lines
    : [...lines.slice(0, MAX_LISTED), `… and ${lines.length - MAX_LISTED} more ${what}`];
}

function byCell(rows: readonly BenchRow[]): Map<string, BenchRow[]> {
  const cells = new Map<string, BenchRow[]>();
  for (const r of rows) cells.set(r.cell_id, [...(cells.get(r.cell_id) ?? []), r]);
  return cells;
}

/**
 * The post-run warnings, one sentence each.
 *
 * @param rows Every row of `results.csv`.
 * @param preflight The pre-flight record, or null when none was written.
 * @returns Warnings: pre-flight first, then error rows, noisy cells, throttling.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runWarnings } from "./run_health.ts";
 * const row = (rate: number, reasons: string | null = null) => ({ cell_id: "c", status: "ok", decode_tokens_per_s: rate, gpu_throttle_reasons: reasons });
 * const w = runWarnings([row(50), row(100, "sw_thermal_slowdown"), row(150)] as never, null);
 * assert(w.some((l) => l.includes("CV 50 %")) && w.some((l) => l.includes("throttled")));
 * ```
 */
export function runWarnings(
  rows: readonly BenchRow[],
  preflight: PreflightSummary | null,
): string[] {
  const out: string[] = [];
  for (const c of preflight?.checks ?? []) {
    if (c.status === "pass") continue;
    out.push(`pre-flight ${c.status}: ${c.name}: ${c.detail}${c.advice ? ` (${c.advice})` : ""}`);
  }
  const errors = rows.filter((r) => r.status !== "ok");
  if (errors.length > 0) {
    const cells = new Set(errors.map((r) => r.cell_id)).size;
    out.push(
      `${errors.length} error row(s) in ${cells} cell(s), excluded from every number; first: ` +
        `${errors[0]!.cell_id}: ${errors[0]!.error}`,
    );
  }
  const noisy: string[] = [];
  const throttled: string[] = [];
  for (const [cell, cellRows] of byCell(rows.filter((r) => r.status === "ok"))) {
    const rates = cellRows.flatMap((r) =>
      typeof r.decode_tokens_per_s === "number" ? [r.decode_tokens_per_s] : []
    );
    if (rates.length >= 2) {
      const s = summarize(rates);
      const cv = s.mean === 0 ? 0 : s.std / s.mean;
      if (cv > NOISY_CV) {
        noisy.push(
          `${cell}: decode tokens/s CV ${(cv * 100).toFixed(0)} % over ${rates.length} runs ` +
            `(over ${NOISY_CV * 100} %)`,
        );
      }
    }
    const reasons = [
      ...new Set(cellRows.flatMap((r) => r.gpu_throttle_reasons?.split(";") ?? [])),
    ].filter((r) => r !== "");
    if (isThrottled(reasons)) throttled.push(`${cell}: GPU throttled (${reasons.join(", ")})`);
  }
  out.push(...listed(noisy, "noisy cells"), ...listed(throttled, "throttled cells"));
  return out;
}

/**
 * Tokens per joule per setup, from each cell's GPU energy (the same on every row of a cell).
 *
 * @param rows Every row of `results.csv`.
 * @returns One entry per setup with ok rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokensPerJouleBySetup } from "./run_health.ts";
 * const row = (device: string, energy: number | null) => ({ cell_id: device, model: "m", dtype: "q4", device, use_cache: true, status: "ok", new_tokens: 11, batch: 1, gpu_energy_j: energy });
 * const [cpu, gpu] = tokensPerJouleBySetup([row("cpu", null), row("cuda", 2), row("cuda", 2)] as never);
 * assert(cpu!.tokens_per_joule === null && cpu!.reason!.includes("CPU"));
 * assert(gpu!.tokens_per_joule === 11);
 * ```
 */
export function tokensPerJouleBySetup(rows: readonly BenchRow[]): EnergyEntry[] {
  const groups = new Map<string, BenchRow[]>();
  for (const r of rows.filter((r) => r.status === "ok")) {
    const key = JSON.stringify([r.model, r.dtype, r.device, r.use_cache, r.batch]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    let tokens = 0;
    let energy = 0;
    let known = 0;
    for (const cellRows of byCell(group).values()) {
      const e = cellRows[0]!.gpu_energy_j;
      if (typeof e !== "number" || !(e > 0)) continue;
      known++;
      energy += e;
      tokens += cellRows.reduce((a, r) => a + r.new_tokens * r.batch, 0);
    }
    const reason = known > 0
      ? null
      : first.device === "cpu"
      ? "CPU cells: no energy counter is read on the CPU (RAPL is not sampled)"
      : "no GPU energy counter was readable (NVML absent, or a GPU without one)";
    return {
      model: first.model,
      dtype: first.dtype,
      device: first.device,
      use_cache: first.use_cache,
      batch: first.batch,
      tokens: known > 0 ? tokens : null,
      energy_j: known > 0 ? energy : null,
      tokens_per_joule: known > 0 ? tokens / energy : null,
      reason,
    };
  });
}

/**
 * The report's "Warnings" and "Energy" sections as Markdown.
 *
 * @param warnings From {@linkcode runWarnings}.
 * @param energy From {@linkcode tokensPerJouleBySetup}.
 * @returns The sections, starting with a blank line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { healthMarkdown } from "./run_health.ts";
 * const md = healthMarkdown([], [{ model: "m", dtype: "q4", device: "cpu", use_cache: true, batch: 1, tokens: null, energy_j: null, tokens_per_joule: null, reason: "CPU cells" }]);
 * assert(md.includes("## Warnings") && md.includes("None.") && md.includes("not measured: CPU cells"));
 * ```
 */
export function healthMarkdown(
  warnings: readonly string[],
  energy: readonly EnergyEntry[],
): string {
  const lines = ["", "## Warnings", ""];
  if (warnings.length === 0) lines.push("None.");
  else lines.push(...warnings.map((w) => `- ${w}`));
  lines.push("", "## Energy: tokens per joule", "");
  const known = energy.filter((e) => e.tokens_per_joule !== null);
  if (known.length > 0) {
    lines.push(
      "Generated tokens of the measured runs ÷ the GPU energy counter's delta over them (prefill " +
        "included).",
      "",
      "| model | dtype | device | cache | batch | tokens | energy (J) | tokens/J |",
      "|---|---|---|---|---:|---:|---:|---:|",
      ...known.map((e) =>
        `| ${e.model} | ${e.dtype} | ${e.device} | ${
          e.use_cache ? "on" : "off"
        } | ${e.batch} | ${e.tokens} | ${e.energy_j!.toFixed(1)} | ${
          e.tokens_per_joule!.toFixed(2)
        } |`
      ),
    );
  }
  const reasons = [...new Set(energy.filter((e) => e.reason !== null).map((e) => e.reason!))];
  for (const r of reasons) {
    if (lines.at(-1) !== "") lines.push("");
    lines.push(`Tokens per joule not measured: ${r}.`);
  }
  if (energy.length === 0) lines.push("No ok rows.");
  return lines.join("\n") + "\n";
}
