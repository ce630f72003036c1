/**
 * Conversations: a chat session that keeps the KV cache between turns and reuses the longest
 * common prefix (cut back when the prompt diverges), a prefix cache shared across conversations
 * (capacity, LRU, token hit rate), chat templates, workload files of conversations with RAG
 * injection and removal, the per-turn benchmark, its rows, summary and figure.
 *
 * @module
 */
export * from "./kv.ts";
export * from "./prefix_cache.ts";
export * from "./session.ts";
export * from "./templates.ts";
export * from "./workload.ts";
export * from "./turn_text.ts";
export * from "./conversation.ts";
export * from "./rows.ts";
export * from "./bench.ts";
export * from "./select.ts";
export * from "./summary.ts";
export * from "./figure.ts";
export * from "./job.ts";
export * from "./sweep_spec.ts";
export * from "./sweep_pass.ts";
