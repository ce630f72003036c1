/**
 * The quantizer: reads any float32 ONNX decoder and writes its fp16, bf16, q8, q4, q4f16 and
 * q4gptq variants by rewriting the graph, plus the exact reference (de)quantisation used by tests.
 *
 * @module
 */
export * from "./quantize_model.ts";
export * from "./q4.ts";
export * from "./q8.ts";
export * from "./float16.ts";
export * from "./float16_graph.ts";
export * from "./matmul_rewrite.ts";
export * from "./onnx_file.ts";
export * from "./onnx_writer.ts";
export * from "./lazy_tensor.ts";
export * from "./quantization_metadata.ts";
export * from "./bfloat16_graph.ts";
export * from "./gptq.ts";
export * from "./gptq_rewrite.ts";
export * from "./calibration.ts";
