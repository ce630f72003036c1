/**
 * Measurement: summary statistics of raw samples, process and GPU memory, and the pre-flight and
 * post-run checks of a measurement.
 *
 * @module
 */
export * from "./stats.ts";
export * from "./rss.ts";
export * from "./gpu.ts";
export * from "./memory_sampler.ts";
export * from "./run_checks.ts";
export * from "./progress.ts";
