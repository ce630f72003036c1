/**
 * Measurement: summary statistics of raw samples, process and GPU memory, and the pre-flight and
 * post-run checks of a measurement, hardware telemetry during runs, the round loop that compares
 * live arms, and the scheduler's drift signals.
 *
 * @module
 */
export * from "./stats.ts";
export * from "./rss.ts";
export * from "./gpu.ts";
export * from "./memory_sampler.ts";
export * from "./run_checks.ts";
export * from "./progress.ts";
export * from "./proc_stats.ts";
export * from "./gpu_telemetry.ts";
export * from "./telemetry.ts";
export * from "./telemetry_summary.ts";
export * from "./window_telemetry.ts";
export * from "./rounds.ts";
export * from "./schedstat.ts";
