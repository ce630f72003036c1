/**
 * Embedding models and their benchmark: BERT-family encoder presets built with deterministic
 * weights and a WordPiece tokenizer in Hub layout, a float64 reference forward,
 * sentence-transformers pooling, the texts/s × batch-size benchmark (ORT loop and transformers.js
 * pipeline), its rows, figure, report section and sweep block.
 *
 * @module
 */
export * from "./presets.ts";
export * from "./wordpiece.ts";
export * from "./encoder_graph.ts";
export * from "./build.ts";
export * from "./reference.ts";
export * from "./pooling.ts";
export * from "./texts.ts";
export * from "./model.ts";
export * from "./schema.ts";
export * from "./bench.ts";
export * from "./figure.ts";
export * from "./report.ts";
export * from "./sweep_spec.ts";
export * from "./sweep_step.ts";
