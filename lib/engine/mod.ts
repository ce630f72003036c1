/**
 * The generation engine: model resolution, the decoder, generation (greedy, or sampled) with the
 * KV cache on or off (copied, in place or on the device), the synthetic prompt families, chat
 * prompts and the latency scenario (warmups + runs).
 *
 * @module
 */
export * from "./resolve.ts";
export * from "./decoder.ts";
export * from "./generate.ts";
export * from "./sampling.ts";
export * from "./kv_cache.ts";
export * from "./kv_runner.ts";
export * from "./prompts.ts";
export * from "./chat.ts";
export * from "./benchmark.ts";
