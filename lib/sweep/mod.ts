/**
 * Sweeps: spec validation, grid expansion, the orchestrator, its row store, scheduler and
 * worker protocol.
 *
 * @module
 */
export * from "./grid.ts";
export * from "./lock.ts";
export * from "./orchestrator.ts";
export * from "./perplexity_pass.ts";
export * from "./preflight.ts";
export * from "./rows.ts";
export * from "./protocol.ts";
export * from "./row_store.ts";
export * from "./scheduler.ts";
export * from "./spec.ts";
