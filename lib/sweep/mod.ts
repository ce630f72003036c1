/**
 * Sweeps: spec validation, grid expansion, blocks of live arms and the block runner, the
 * orchestrator, its row store, run files, scheduler checks and worker protocol.
 *
 * @module
 */
export * from "./blocks.ts";
export * from "./block_runner.ts";
export * from "./grid.ts";
export * from "./lock.ts";
export * from "./orchestrator.ts";
export * from "./perplexity_pass.ts";
export * from "./preflight.ts";
export * from "./rows.ts";
export * from "./protocol.ts";
export * from "./row_store.ts";
export * from "./run_files.ts";
export * from "./scheduler.ts";
export * from "./spec.ts";
