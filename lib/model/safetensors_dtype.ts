/**
 * The safetensors element types this project reads and writes, with their sizes.
 *
 * @module
 */

/** Element types the readers accept, with their sizes in bytes. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<"F32" | "F16" | "BF16", number>> = Object
  .freeze({ F32: 4, F16: 2, BF16: 2 });

/** One of the element types in {@linkcode SAFETENSORS_DTYPE_BYTES}. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;
