/**
 * `deno task bench`'s telemetry: a sampler over the measured runs (`--telemetry-interval MS`,
 * default 100), `telemetry.csv` beside `--output`, and the summary in the JSON report.
 *
 * @module
 */
import { dirname, join } from "node:path";
import {
  DEFAULT_TELEMETRY_INTERVAL_MS,
  gpuOptionFor,
  WindowTelemetry,
  type WindowTelemetryResult,
} from "../measure/window_telemetry.ts";
import { tokensPerJoule } from "../measure/telemetry_summary.ts";
import { writeTelemetry } from "../results/telemetry_table.ts";

/**
 * Parses `--telemetry-interval`: an integer between 10 and 1000 ms.
 *
 * @param value The flag's text, or undefined for the default.
 * @returns Milliseconds.
 * @throws {RangeError} naming the flag.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { telemetryIntervalFlag } from "./_bench_telemetry.ts";
 * assert.equal(telemetryIntervalFlag(undefined), 100);
 * assert.throws(() => telemetryIntervalFlag("5"), /'--telemetry-interval' must be an integer between 10 and 1000/);
 * ```
 */
export function telemetryIntervalFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TELEMETRY_INTERVAL_MS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 1000) {
    throw new RangeError(
      `'--telemetry-interval' must be an integer between 10 and 1000 (ms), got ${
        JSON.stringify(value)
      }`,
    );
  }
  return n;
}

/**
 * Starts sampling for a bench run (the window opens with the measured runs).
 *
 * @param intervalMs Milliseconds between samples.
 * @param device The run's device (GPU sampled only off the CPU).
 * @returns The window, or null when the sampler cannot start (the run goes on without it).
 */
export async function startBenchTelemetry(
  intervalMs: number,
  device: string,
): Promise<WindowTelemetry | null> {
  return await WindowTelemetry.start("bench", { intervalMs, gpu: gpuOptionFor(device) }).catch(
    (error) => {
      console.error(`warning: telemetry off: ${error instanceof Error ? error.message : error}`);
      return null;
    },
  );
}

/**
 * Finishes the window, writes `telemetry.csv` beside `output` (when given) and returns the
 * report's `telemetry` block.
 *
 * @param window From {@linkcode startBenchTelemetry}.
 * @param output The JSON report's path, or undefined (no file).
 * @param generatedTokens Tokens generated in the measured runs (for tokens per joule).
 * @returns The block: interval, GPU source, the row summary, tokens per joule and the file.
 */
export async function finishBenchTelemetry(
  window: WindowTelemetry | null,
  output: string | undefined,
  generatedTokens: number,
): Promise<Record<string, unknown>> {
  if (window === null) return { available: false, reason: "the sampler did not start" };
  const t: WindowTelemetryResult = await window.finish();
  const file = output === undefined ? null : join(dirname(output), "telemetry.csv");
  if (file !== null) await writeTelemetry(file, t.run);
  return {
    available: true,
    interval_ms: t.run.intervalMs,
    gpu_source: t.run.gpuSource,
    gpu_reason: t.run.gpuReason,
    window_ms: t.summary.durationMs,
    ...t.fields,
    tokens_per_joule: tokensPerJoule(generatedTokens, t.summary.gpuEnergyJ),
    tokens_per_joule_reason: t.summary.gpuEnergyJ === null
      ? "no GPU energy counter read (CPU run, or NVML unavailable)"
      : !(t.summary.gpuEnergyJ > 0)
      ? "the GPU energy counter did not advance over the window"
      : null,
    file,
  };
}
