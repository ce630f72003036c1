/**
 * Speed settings measured side by side: one model, several quantisation and session settings,
 * interleaved rounds in one process, ratios to the first (`deno task speed`).
 *
 * @module
 */
export * from "./setting.ts";
export * from "./side_by_side.ts";
