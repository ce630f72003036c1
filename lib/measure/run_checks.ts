/**
 * Checks around a measurement: before (is the machine busy?) and after (are the runs consistent
 * enough to trust?). Each check returns warnings as sentences; none stops a run.
 *
 * @module
 */
import { cpus, loadavg } from "node:os";
import type { Summary } from "./stats.ts";

/**
 * Coefficient of variation (std ÷ mean over a cell's runs) above which a measurement is flagged
 * noisy: the sweep's progress line, `summary.csv`'s `noisy` and the report's noise section.
 */
export const NOISY_CV = 0.2;

/** Options of {@linkcode preflightWarnings}. */
export interface PreflightOptions {
  /** 1-minute load average (default: the OS's). */
  load1?: number;
  /** Logical cores (default: the OS's). */
  cores?: number;
}

/**
 * Warnings before measuring: another workload on the machine skews every timing.
 *
 * @param options Load and cores (read from the OS when absent).
 * @returns Zero or more warnings.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preflightWarnings } from "./run_checks.ts";
 * assert(preflightWarnings({ load1: 3.5, cores: 2 }).length === 1);
 * assert(preflightWarnings({ load1: 0.1, cores: 2 }).length === 0);
 * ```
 */
export function preflightWarnings(options: PreflightOptions = {}): string[] {
  const load = options.load1 ?? loadavg()[0] ?? 0;
  const cores = options.cores ?? Math.max(1, cpus().length);
  return load > cores * 0.5
    ? [
      `the machine is busy before measuring (1-minute load ${
        load.toFixed(2)
      } on ${cores} cores): ` +
      `timings will be slower and noisier than on an idle machine`,
    ]
    : [];
}

/**
 * Warnings after measuring: too few runs for percentiles, or runs that disagree too much.
 *
 * @param name What the samples measure, for the message (e.g. `decode tokens/s`).
 * @param summary Their summary.
 * @param maxCv Largest acceptable coefficient of variation (std / mean). @default 0.1
 * @returns Zero or more warnings.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultWarnings } from "./run_checks.ts";
 * import { summarize } from "./stats.ts";
 * assert(resultWarnings("decode tokens/s", summarize([100, 101, 99, 100, 100])).length === 0);
 * assert(resultWarnings("decode tokens/s", summarize([50, 100, 150, 100, 100])).length === 1);
 * ```
 */
export function resultWarnings(name: string, summary: Summary, maxCv = 0.1): string[] {
  const out: string[] = [];
  const cv = summary.mean === 0 ? 0 : summary.std / Math.abs(summary.mean);
  if (cv > maxCv) {
    out.push(
      `${name} varies by ${(cv * 100).toFixed(0)} % across runs (coefficient of variation above ${
        (maxCv * 100).toFixed(0)
      } %): rerun on an idle machine or with more runs`,
    );
  }
  if (summary.count < 5) {
    out.push(
      `${name}: only ${summary.count} measured runs, so p95/p99 are interpolated from few samples`,
    );
  }
  return out;
}
