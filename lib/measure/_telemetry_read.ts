/**
 * One telemetry reading from the system's sources, with the CPU deltas since the previous one.
 * Private to lib/measure: the sampler's worker and its tests use it.
 *
 * @module
 */
import { type GpuTelemetry, type GpuTelemetryReader, gpuTelemetryReader } from "./gpu_telemetry.ts";
import {
  cpuBusyPercent,
  type ProcStatCpu,
  readLoad1,
  readMeminfo,
  readProcessCpuTicks,
  readProcStat,
  USER_HZ,
} from "./proc_stats.ts";
import { currentRssBytes } from "./rss.ts";

/** A reading as the worker posts it: wall-clock time instead of the sampler's offset. */
export interface RawTelemetrySample {
  /** `performance.timeOrigin + performance.now()` of the reading, ms. */
  epochMs: number;
  /** This process's CPU over the last interval, percent of one core (200 = two cores busy). */
  processCpuPct: number | null;
  /** All cores' busy share over the last interval, percent. */
  systemCpuPct: number | null;
  /** Each core's busy share over the last interval, percent. */
  coreCpuPct: number[] | null;
  /** Process RSS, bytes. */
  rssBytes: number | null;
  /** System `MemAvailable`, bytes. */
  memAvailableBytes: number | null;
  /** 1-minute load average. */
  load1: number | null;
  /** GPU telemetry, `null` without a source. */
  gpu: GpuTelemetry | null;
}

/** Options of the system reader. */
export interface SystemReaderOptions {
  /** GPU to read (NVML index), or `false` for none. */
  gpu: false | { index?: number; cudaDeviceId?: number; libraryPath?: string; nvidiaSmi?: string };
}

/**
 * A stateful reader: CPU percentages are deltas since the previous call (the first call primes
 * them and reports `null`).
 *
 * @param options Which GPU to read.
 * @returns `read()` and the GPU source (or why there is none).
 */
export function systemReader(options: SystemReaderOptions): {
  read(): RawTelemetrySample;
  gpuSource: GpuTelemetryReader["source"] | null;
  gpuReason: string | null;
} {
  let gpu: GpuTelemetryReader | null = null;
  let gpuReason: string | null = "GPU telemetry off";
  if (options.gpu !== false) {
    const r = gpuTelemetryReader(options.gpu);
    if ("reason" in r) gpuReason = r.reason;
    else {
      gpu = r;
      gpuReason = null;
    }
  }
  let prevStat: ProcStatCpu | null = null;
  let prevTicks: number | null = null;
  let prevMs = 0;
  return {
    gpuSource: gpu?.source ?? null,
    gpuReason,
    read() {
      const epochMs = performance.timeOrigin + performance.now();
      const stat = readProcStat();
      const ticks = readProcessCpuTicks();
      const elapsedS = (epochMs - prevMs) / 1000;
      const processCpuPct = ticks !== null && prevTicks !== null && elapsedS > 0
        ? Math.max(0, ((ticks - prevTicks) / USER_HZ / elapsedS) * 100)
        : null;
      const systemCpuPct = stat && prevStat ? cpuBusyPercent(prevStat.all, stat.all) : null;
      const coreCpuPct = stat && prevStat && prevStat.cores.length === stat.cores.length
        ? stat.cores.map((c, i) => cpuBusyPercent(prevStat!.cores[i]!, c) ?? 0)
        : null;
      prevStat = stat;
      prevTicks = ticks;
      prevMs = epochMs;
      let gpuReading: GpuTelemetry | null = null;
      try {
        gpuReading = gpu?.read() ?? null;
      } catch {
        gpuReading = null;
      }
      return {
        epochMs,
        processCpuPct,
        systemCpuPct,
        coreCpuPct,
        rssBytes: currentRssBytes(),
        memAvailableBytes: readMeminfo()?.availableBytes ?? null,
        load1: readLoad1(),
        gpu: gpuReading,
      };
    },
  };
}
