/**
 * The project's vocabulary, frozen in one place: weight dtypes and devices, in transformers.js's
 * names so Hub models need no translation.
 *
 * @module
 */

/** Weight dtypes, named as transformers.js names them (`dtype` option of `from_pretrained`). */
export const DTYPES = [
  "fp32",
  "fp16",
  "bf16",
  "q8",
  "int8",
  "uint8",
  "q4",
  "q4f16",
  "q4gptq",
  "bnb4",
] as const;

/** One of {@linkcode DTYPES}. */
export type Dtype = typeof DTYPES[number];

/**
 * ONNX file suffix for each dtype: `onnx/model${suffix}.onnx` (the Hub / transformers.js layout).
 */
export const DTYPE_FILE_SUFFIX: Readonly<Record<Dtype, string>> = Object.freeze({
  fp32: "",
  fp16: "_fp16",
  bf16: "_bf16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  q4gptq: "_q4_gptq",
  bnb4: "_bnb4",
});

/**
 * The label the brief's report uses for a dtype (`fp16`, `int8`, `4bit`); dtypes the brief does
 * not name keep their own name.
 */
export const DTYPE_REPORT_LABEL: Readonly<Record<Dtype, string>> = Object.freeze({
  fp32: "fp32",
  fp16: "fp16",
  bf16: "bf16",
  q8: "int8",
  int8: "int8-only",
  uint8: "uint8",
  q4: "4bit",
  q4f16: "4bit-fp16",
  q4gptq: "4bit-gptq",
  bnb4: "bnb4",
});

/** Devices a session can run on, as the CLI and sweep specs name them. */
export const DEVICES = ["cpu", "cuda", "webgpu"] as const;

/** One of {@linkcode DEVICES}. */
export type Device = typeof DEVICES[number];

/** onnxruntime-node execution-provider name for each device. */
export const DEVICE_EXECUTION_PROVIDER: Readonly<Record<Device, string>> = Object.freeze({
  cpu: "CPUExecutionProvider",
  cuda: "CUDAExecutionProvider",
  webgpu: "WebGpuExecutionProvider",
});

/**
 * Whether `value` is one of {@linkcode DTYPES}.
 *
 * @param value Any string.
 * @returns `true` when `value` names a dtype.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDtype } from "./dtypes.ts";
 * assert(isDtype("q4") && !isDtype("int3"));
 * ```
 */
export function isDtype(value: string): value is Dtype {
  return (DTYPES as readonly string[]).includes(value);
}

/**
 * Whether `value` is one of {@linkcode DEVICES}.
 *
 * @param value Any string.
 * @returns `true` when `value` names a device.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDevice } from "./dtypes.ts";
 * assert(isDevice("webgpu") && !isDevice("tpu"));
 * ```
 */
export function isDevice(value: string): value is Device {
  return (DEVICES as readonly string[]).includes(value);
}

/**
 * Parses a comma-separated dtype list, rejecting unknown names.
 *
 * @param text For example `"fp32,q4"`.
 * @param field The flag or field name used in the error message.
 * @returns The dtypes, in the given order, without duplicates.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDtypes } from "./dtypes.ts";
 * assert(parseDtypes("fp32,q4", "--dtypes").join() === "fp32,q4");
 * ```
 */
export function parseDtypes(text: string, field: string): Dtype[] {
  const out: Dtype[] = [];
  for (const raw of text.split(",")) {
    const name = raw.trim();
    if (!isDtype(name)) {
      throw new RangeError(
        `'${field}' has unknown dtype '${name}' (known: ${DTYPES.join(", ")})`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}
