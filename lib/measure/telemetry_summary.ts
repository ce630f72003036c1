/**
 * Telemetry summaries for result rows: mean, max and p95 of each series over a window (a cell,
 * a job, a whole run), the GPU energy used in it, and the throttle reasons seen. A series with no
 * readings summarises to `null`, never 0.
 *
 * @module
 */
import { isThrottled } from "./gpu_telemetry.ts";
import { minSamplesForPercentile, summarize, supportedPercentile } from "./stats.ts";
import type { TelemetryMark, TelemetryRun, TelemetrySample } from "./telemetry.ts";

/**
 * p95 is reported only from at least this many samples (else `null`, with the count beside): the
 * one rule of lib/measure/stats.ts (`minSamplesForPercentile(0.95)`), not a second constant.
 */
export const MIN_SAMPLES_FOR_P95 = minSamplesForPercentile(0.95);

/** Mean, max and p95 of one series. */
export interface SeriesStats {
  /** Readings in the window. */
  count: number;
  /** Mean. */
  mean: number;
  /** Largest reading. */
  max: number;
  /** 95th percentile (linear interpolation); `null` below {@linkcode MIN_SAMPLES_FOR_P95}. */
  p95: number | null;
}

/** What a window's telemetry says. */
export interface TelemetrySummary {
  /** Samples in the window. */
  samples: number;
  /** Window length, ms. */
  durationMs: number;
  /** This process's CPU, percent of one core. */
  processCpuPct: SeriesStats | null;
  /** All cores' busy share, percent. */
  systemCpuPct: SeriesStats | null;
  /** The busiest core's mean busy share over the window, percent. */
  busiestCoreMeanPct: number | null;
  /** Process RSS, bytes. */
  rssBytes: SeriesStats | null;
  /** Lowest system `MemAvailable`, bytes. */
  memAvailableMinBytes: number | null;
  /** 1-minute load average. */
  load1: SeriesStats | null;
  /** GPU busy percent. */
  gpuUtilPct: SeriesStats | null;
  /** Device memory used (all processes), bytes. */
  gpuUsedBytes: SeriesStats | null;
  /** This process's device memory, bytes. */
  gpuProcessUsedBytes: SeriesStats | null;
  /** GPU temperature, °C. */
  gpuTemperatureC: SeriesStats | null;
  /** GPU power, W. */
  gpuPowerW: SeriesStats | null;
  /** SM clock, MHz. */
  gpuSmClockMhz: SeriesStats | null;
  /** Energy from NVML's counter over the window (last − first reading), J. */
  gpuEnergyJ: number | null;
  /** Throttle reasons seen in any sample; `null` when no sample had them. */
  throttleReasons: string[] | null;
  /** Whether a reason that slows a busy GPU was seen; `null` when unknown. */
  throttled: boolean | null;
}

function stats(values: readonly (number | null | undefined)[]): SeriesStats | null {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = summarize(v);
  return {
    count: s.count,
    mean: s.mean,
    max: s.max,
    p95: supportedPercentile(s, "p95"),
  };
}

/**
 * Summarises the samples in `[fromMs, toMs]` (the whole series by default).
 *
 * @param series Samples in time order.
 * @param window Bounds, ms since the sampler's start.
 * @returns The summary.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeTelemetry } from "./telemetry_summary.ts";
 * const s = summarizeTelemetry([
 *   { tMs: 0, processCpuPct: 50, systemCpuPct: 25, coreCpuPct: [50, 0], rssBytes: 1, memAvailableBytes: 9, load1: 1, gpu: null },
 *   { tMs: 100, processCpuPct: 150, systemCpuPct: 75, coreCpuPct: [100, 50], rssBytes: 3, memAvailableBytes: 7, load1: 1, gpu: null },
 * ]);
 * assert(s.processCpuPct?.mean === 100 && s.busiestCoreMeanPct === 75 && s.gpuUtilPct === null);
 * ```
 */
export function summarizeTelemetry(
  series: readonly TelemetrySample[],
  window: { fromMs?: number; toMs?: number } = {},
): TelemetrySummary {
  const from = window.fromMs ?? -Infinity;
  const to = window.toMs ?? Infinity;
  const s = series.filter((x) => x.tMs >= from && x.tMs <= to);
  const cores = s.map((x) => x.coreCpuPct).filter((c): c is number[] => c !== null);
  const width = Math.max(0, ...cores.map((c) => c.length));
  const coreMeans = Array.from({ length: width }, (_, i) => stats(cores.map((c) => c[i]))?.mean)
    .filter((m): m is number => m !== undefined);
  const gpu = s.map((x) => x.gpu).filter((g) => g !== null);
  const energy = gpu.map((g) => g.energyJ).filter((e): e is number => e !== null);
  const reasons = gpu.map((g) => g.throttleReasons).filter((r): r is string[] => r !== null);
  const seen = [...new Set(reasons.flat())].sort();
  const avail = s.map((x) => x.memAvailableBytes).filter((m): m is number => m !== null);
  return {
    samples: s.length,
    durationMs: s.length > 1 ? s[s.length - 1]!.tMs - s[0]!.tMs : 0,
    processCpuPct: stats(s.map((x) => x.processCpuPct)),
    systemCpuPct: stats(s.map((x) => x.systemCpuPct)),
    busiestCoreMeanPct: coreMeans.length === 0 ? null : Math.max(...coreMeans),
    rssBytes: stats(s.map((x) => x.rssBytes)),
    memAvailableMinBytes: avail.length === 0 ? null : Math.min(...avail),
    load1: stats(s.map((x) => x.load1)),
    gpuUtilPct: stats(gpu.map((g) => g.utilizationPct)),
    gpuUsedBytes: stats(gpu.map((g) => g.usedBytes)),
    gpuProcessUsedBytes: stats(gpu.map((g) => g.processUsedBytes)),
    gpuTemperatureC: stats(gpu.map((g) => g.temperatureC)),
    gpuPowerW: stats(gpu.map((g) => g.powerW)),
    gpuSmClockMhz: stats(gpu.map((g) => g.smClockMhz)),
    gpuEnergyJ: energy.length >= 2 ? energy[energy.length - 1]! - energy[0]! : null,
    throttleReasons: reasons.length === 0 ? null : seen,
    throttled: reasons.length === 0 ? null : isThrottled(seen),
  };
}

/**
 * The windows between marks: each labelled mark opens a window that the next mark closes.
 *
 * @param run A sampling run.
 * @returns One `{ label, fromMs, toMs }` per labelled mark.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markWindows } from "./telemetry_summary.ts";
 * const w = markWindows({ marks: [{ tMs: 0, label: "a" }, { tMs: 5, label: "b" }, { tMs: 9, label: null }], series: [] });
 * assert.deepEqual(w, [{ label: "a", fromMs: 0, toMs: 5 }, { label: "b", fromMs: 5, toMs: 9 }]);
 * ```
 */
export function markWindows(
  run: Pick<TelemetryRun, "marks" | "series">,
): { label: string; fromMs: number; toMs: number }[] {
  const end = run.series.at(-1)?.tMs ?? run.marks.at(-1)?.tMs ?? 0;
  const out: { label: string; fromMs: number; toMs: number }[] = [];
  run.marks.forEach((m: TelemetryMark, i) => {
    if (m.label === null) return;
    out.push({ label: m.label, fromMs: m.tMs, toMs: run.marks[i + 1]?.tMs ?? end });
  });
  return out;
}

/** The telemetry columns a result row carries, in order. */
export const TELEMETRY_FIELDS = [
  "telemetry_samples",
  "cpu_process_pct_mean",
  "cpu_process_pct_p95",
  "cpu_process_pct_max",
  "cpu_system_pct_mean",
  "cpu_busiest_core_pct_mean",
  "rss_mean_bytes",
  "mem_available_min_bytes",
  "load1_mean",
  "gpu_util_pct_mean",
  "gpu_util_pct_p95",
  "gpu_util_pct_max",
  "gpu_mem_used_max_bytes",
  "gpu_mem_process_max_bytes",
  "gpu_temp_c_max",
  "gpu_power_w_mean",
  "gpu_sm_clock_mhz_mean",
  "gpu_energy_j",
  "gpu_throttle_reasons",
] as const;

/** A row's telemetry columns. */
export type TelemetryFields = Record<(typeof TELEMETRY_FIELDS)[number], number | string | null>;

/**
 * Flattens a summary into a row's telemetry columns (`null` where a source is missing).
 * `gpu_throttle_reasons` is the reasons joined with `;` (`""` for none seen, `null` unknown).
 *
 * @param s A window's summary.
 * @returns The columns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeTelemetry, telemetryRowFields } from "./telemetry_summary.ts";
 * const f = telemetryRowFields(summarizeTelemetry([]));
 * assert(f.telemetry_samples === 0 && f.gpu_util_pct_mean === null);
 * ```
 */
export function telemetryRowFields(s: TelemetrySummary): TelemetryFields {
  return {
    telemetry_samples: s.samples,
    cpu_process_pct_mean: s.processCpuPct?.mean ?? null,
    cpu_process_pct_p95: s.processCpuPct?.p95 ?? null,
    cpu_process_pct_max: s.processCpuPct?.max ?? null,
    cpu_system_pct_mean: s.systemCpuPct?.mean ?? null,
    cpu_busiest_core_pct_mean: s.busiestCoreMeanPct,
    rss_mean_bytes: s.rssBytes?.mean ?? null,
    mem_available_min_bytes: s.memAvailableMinBytes,
    load1_mean: s.load1?.mean ?? null,
    gpu_util_pct_mean: s.gpuUtilPct?.mean ?? null,
    gpu_util_pct_p95: s.gpuUtilPct?.p95 ?? null,
    gpu_util_pct_max: s.gpuUtilPct?.max ?? null,
    gpu_mem_used_max_bytes: s.gpuUsedBytes?.max ?? null,
    gpu_mem_process_max_bytes: s.gpuProcessUsedBytes?.max ?? null,
    gpu_temp_c_max: s.gpuTemperatureC?.max ?? null,
    gpu_power_w_mean: s.gpuPowerW?.mean ?? null,
    gpu_sm_clock_mhz_mean: s.gpuSmClockMhz?.mean ?? null,
    gpu_energy_j: s.gpuEnergyJ,
    gpu_throttle_reasons: s.throttleReasons === null ? null : s.throttleReasons.join(";"),
  };
}

/**
 * Tokens per joule of GPU energy, or `null` where energy is unknown or zero.
 *
 * @param tokens Tokens generated in the window.
 * @param energyJ Energy used in the window, J.
 * @returns Tokens per joule.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokensPerJoule } from "./telemetry_summary.ts";
 * assert(tokensPerJoule(100, 50) === 2 && tokensPerJoule(100, null) === null);
 * ```
 */
export function tokensPerJoule(tokens: number, energyJ: number | null): number | null {
  return energyJ === null || !(energyJ > 0) ? null : tokens / energyJ;
}
