/**
 * Load generation against OpenAI-compatible servers: arrivals, prompts, streamed requests, the
 * serving metrics (vLLM's definitions) and the outputs of a run.
 *
 * @module
 */
export * from "./arrivals.ts";
export * from "./client.ts";
export * from "./metrics.ts";
export * from "./output.ts";
export * from "./prompts.ts";
export * from "./runner.ts";
export * from "./settings.ts";
export * from "./sse.ts";
