/**
 * The telemetry time series of a run as a table: one row per sample, with the cell (or job) that
 * was running, written next to a run's results (`telemetry.csv` or `.parquet`) and read back for
 * the telemetry figure. Missing sources are empty cells (null), never 0.
 *
 * @module
 */
import pl from "nodejs-polars";
import { dirname } from "node:path";
import type { TelemetryRun } from "../measure/telemetry.ts";

/** One row of the telemetry table. */
export interface TelemetryRow {
  /** Milliseconds since the sampler started. */
  t_ms: number;
  /** The marked cell or job running at that time, `null` between them. */
  cell: string | null;
  /** This process's CPU, percent of one core. */
  process_cpu_pct: number | null;
  /** All cores' busy share, percent. */
  system_cpu_pct: number | null;
  /** Per-core busy shares joined with `;`. */
  core_cpu_pct: string | null;
  /** Process RSS, bytes. */
  rss_bytes: number | null;
  /** System `MemAvailable`, bytes. */
  mem_available_bytes: number | null;
  /** 1-minute load average. */
  load1: number | null;
  /** GPU busy percent. */
  gpu_util_pct: number | null;
  /** Device memory used, bytes. */
  gpu_used_bytes: number | null;
  /** This process's device memory, bytes. */
  gpu_process_used_bytes: number | null;
  /** GPU temperature, °C. */
  gpu_temp_c: number | null;
  /** GPU power, W. */
  gpu_power_w: number | null;
  /** SM clock, MHz. */
  gpu_sm_clock_mhz: number | null;
  /** Memory clock, MHz. */
  gpu_mem_clock_mhz: number | null;
  /** Throttle reasons joined with `;`. */
  gpu_throttle_reasons: string | null;
  /** NVML energy counter, J. */
  gpu_energy_j: number | null;
}

const SCHEMA: Record<keyof TelemetryRow, pl.DataType> = {
  t_ms: pl.Float64,
  cell: pl.Utf8,
  process_cpu_pct: pl.Float64,
  system_cpu_pct: pl.Float64,
  core_cpu_pct: pl.Utf8,
  rss_bytes: pl.Float64,
  mem_available_bytes: pl.Float64,
  load1: pl.Float64,
  gpu_util_pct: pl.Float64,
  gpu_used_bytes: pl.Float64,
  gpu_process_used_bytes: pl.Float64,
  gpu_temp_c: pl.Float64,
  gpu_power_w: pl.Float64,
  gpu_sm_clock_mhz: pl.Float64,
  gpu_mem_clock_mhz: pl.Float64,
  gpu_throttle_reasons: pl.Utf8,
  gpu_energy_j: pl.Float64,
};

/** The table's columns, in order. */
export const TELEMETRY_COLUMNS = Object.freeze(Object.keys(SCHEMA) as (keyof TelemetryRow)[]);

/**
 * Rows of a sampling run, each tagged with the cell marked (strictly) before it.
 *
 * @param run A sampling run.
 * @returns One row per sample.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { telemetryRows } from "./telemetry_table.ts";
 * const rows = telemetryRows({
 *   intervalMs: 100, startedAt: "", gpuSource: null, gpuReason: "off",
 *   marks: [{ tMs: 5, label: "c1" }],
 *   series: [0, 10].map((tMs) => ({ tMs, processCpuPct: 1, systemCpuPct: 1, coreCpuPct: [1, 2], rssBytes: 1, memAvailableBytes: 1, load1: 0, gpu: null })),
 * });
 * assert(rows[0]!.cell === null && rows[1]!.cell === "c1" && rows[1]!.core_cpu_pct === "1;2");
 * ```
 */
export function telemetryRows(run: TelemetryRun): TelemetryRow[] {
  const marks = [...run.marks].sort((a, b) => a.tMs - b.tMs);
  let m = -1;
  return run.series.map((s) => {
    // A sample covers the interval before it: a mark at its very time starts after it.
    while (m + 1 < marks.length && marks[m + 1]!.tMs < s.tMs) m++;
    const g = s.gpu;
    return {
      t_ms: s.tMs,
      cell: m < 0 ? null : marks[m]!.label,
      process_cpu_pct: s.processCpuPct,
      system_cpu_pct: s.systemCpuPct,
      core_cpu_pct: s.coreCpuPct === null
        ? null
        : s.coreCpuPct.map((c) => Number(c.toFixed(1))).join(";"),
      rss_bytes: s.rssBytes,
      mem_available_bytes: s.memAvailableBytes,
      load1: s.load1,
      gpu_util_pct: g?.utilizationPct ?? null,
      gpu_used_bytes: g?.usedBytes ?? null,
      gpu_process_used_bytes: g?.processUsedBytes ?? null,
      gpu_temp_c: g?.temperatureC ?? null,
      gpu_power_w: g?.powerW ?? null,
      gpu_sm_clock_mhz: g?.smClockMhz ?? null,
      gpu_mem_clock_mhz: g?.memClockMhz ?? null,
      gpu_throttle_reasons: g?.throttleReasons?.join(";") ?? null,
      gpu_energy_j: g?.energyJ ?? null,
    };
  });
}

function frame(rows: readonly TelemetryRow[]): pl.DataFrame {
  const columns = TELEMETRY_COLUMNS.map((name) =>
    pl.Series(name, rows.map((r) => r[name]), SCHEMA[name])
  );
  return pl.DataFrame(columns);
}

/**
 * Writes a run's telemetry as CSV (or Parquet for a `.parquet` path) through a temp file and a
 * rename, so a reader never sees half a file.
 *
 * @param path Destination, e.g. `benchmarks/telemetry.csv`.
 * @param run The sampling run.
 * @returns Rows written.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTelemetry, writeTelemetry } from "./telemetry_table.ts";
 * const path = `${await Deno.makeTempDir()}/telemetry.csv`;
 * await writeTelemetry(path, { intervalMs: 100, startedAt: "", gpuSource: null, gpuReason: "off", marks: [], series: [] });
 * assert((await readTelemetry(path)).length === 0);
 * ```
 */
export async function writeTelemetry(path: string, run: TelemetryRun): Promise<number> {
  return await writeTelemetryRows(path, telemetryRows(run));
}

/**
 * Writes telemetry rows (e.g. several runs' rows laid end to end) as CSV or Parquet, atomically.
 *
 * @param path Destination.
 * @param rows The rows, in time order.
 * @returns Rows written.
 */
export async function writeTelemetryRows(
  path: string,
  rows: readonly TelemetryRow[],
): Promise<number> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    const df = frame(rows);
    if (path.endsWith(".parquet")) df.writeParquet(tmp);
    else df.writeCSV(tmp);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  return rows.length;
}

/**
 * Reads a telemetry CSV written by {@linkcode writeTelemetry}.
 *
 * @param path The CSV file.
 * @returns Its rows.
 * @throws {SyntaxError} naming the file when its header is not the telemetry table's.
 */
export async function readTelemetry(path: string): Promise<TelemetryRow[]> {
  const text = await Deno.readTextFile(path);
  const header = text.split("\n", 1)[0]!.trim();
  if (header !== TELEMETRY_COLUMNS.join(",")) {
    throw new SyntaxError(
      `Cannot read ${path}: not a telemetry table (header ${JSON.stringify(header.slice(0, 80))})`,
    );
  }
  if (text.trim().split("\n").length === 1) return [];
  const df = pl.readCSV(text, { dtypes: SCHEMA as Record<string, pl.DataType> });
  return df.toRecords() as unknown as TelemetryRow[];
}
