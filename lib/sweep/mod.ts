/**
 * Sweeps: spec validation, grid expansion, the orchestrator and its worker protocol.
 *
 * @module
 */
export * from "./grid.ts";
export * from "./lock.ts";
export * from "./orchestrator.ts";
export * from "./preflight.ts";
export * from "./rows.ts";
export * from "./protocol.ts";
export * from "./spec.ts";
