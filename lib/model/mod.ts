/**
 * The model family builder: Llama-architecture causal LMs written in the Hugging Face /
 * transformers.js ONNX layout, with deterministic weights, a learned byte-level BPE tokenizer and a
 * float64 reference forward.
 *
 * @module
 */
export * from "./presets.ts";
export * from "./weights.ts";
export * from "./tokenizer.ts";
export * from "./safetensors.ts";
export * from "./llama_graph.ts";
export * from "./rope.ts";
export * from "./build.ts";
export * from "./reference.ts";
export * from "./ensure.ts";
export * from "./import/mod.ts";
export * from "./input_defaults.ts";
