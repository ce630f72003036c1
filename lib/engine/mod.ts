/**
 * The generation engine: model resolution, the decoder, greedy generation with the KV cache on or
 * off, and the synthetic prompt families.
 *
 * @module
 */
export * from "./resolve.ts";
export * from "./decoder.ts";
export * from "./generate.ts";
export * from "./prompts.ts";
export * from "./chat.ts";
export * from "./benchmark.ts";
