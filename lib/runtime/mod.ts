/**
 * The ONNX Runtime session layer: session creation, EP availability, the Deno float16 fix,
 * tensor helpers and system information.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./float16.ts";
export * from "./placement.ts";
export * from "./session.ts";
export * from "./system_info.ts";
export * from "./tensors.ts";
export * from "./session_options.ts";
