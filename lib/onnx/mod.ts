/**
 * ONNX writing: a typed graph builder and a streaming external-data sink.
 *
 * @module
 */
export * from "./graph.ts";
export * from "./external_data.ts";
