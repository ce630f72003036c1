/**
 * Turbo Inference: how much faster and how much worse an LLM gets under ONNX Runtime when it is
 * quantised and when the KV cache is on or off. Every notebook and CLI imports this module.
 *
 * @module
 */
export * from "./dtypes.ts";
export * from "./runtime/mod.ts";
export * from "./onnx/mod.ts";
export * from "./model/mod.ts";
export * from "./quantize/mod.ts";
export * from "./engine/mod.ts";
export * from "./measure/mod.ts";
export * from "./analysis/mod.ts";
export * from "./eval/mod.ts";
export * from "./results/mod.ts";
export * from "./sweep/mod.ts";
export * from "./report/mod.ts";
export * from "./embed/mod.ts";
export * from "./speed/mod.ts";
export * from "./notebook/mod.ts";
export * from "./chat/mod.ts";
