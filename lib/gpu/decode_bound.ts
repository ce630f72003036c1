/**
 * The memory-bandwidth bound of a decode step: one new token reads every weight once (the
 * embedding table excepted: one row of it) and the whole KV cache so far, so a decode rate of
 * r tokens/s moves at least (weight + KV bytes per token) × r bytes/s. That figure divided by the
 * measured bandwidth is how close the run came to the bound (1 = at the bound).
 *
 * @module
 */
import { join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX } from "../dtypes.ts";

/** The dimensions that size the bytes a decode step reads. */
export interface DecodeShape {
  /** Decoder layers. */
  layers: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Width of one head. */
  headDim: number;
  /** Residual width (a row of the embedding table). */
  hidden: number;
  /** Rows of the embedding table. */
  vocab: number;
}

/** Bytes one decode step reads, split by where they come from. */
export interface DecodeBytes {
  /** Weights: the model files minus the embedding table, which a step reads one row of. */
  weightBytes: number;
  /** KV cache: keys and values of every layer over the positions attended to. */
  kvBytes: number;
}

/**
 * Bytes per element of the floats a dtype computes in (activations, KV cache, embedding).
 *
 * @param dtype The dtype.
 * @returns 2 for the half-precision dtypes, else 4.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatBytes } from "./decode_bound.ts";
 * assert.equal(floatBytes("q4f16"), 2);
 * assert.equal(floatBytes("q4"), 4);
 * ```
 */
export function floatBytes(dtype: Dtype): number {
  return dtype === "fp16" || dtype === "q4f16" || dtype === "bf16" ? 2 : 4;
}

/**
 * Bytes on disk of one dtype's ONNX file and its external-data chunks.
 *
 * @param modelDir A model directory (with `onnx/`).
 * @param dtype The dtype.
 * @returns The bytes, or null when the file is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelFileBytes } from "./decode_bound.ts";
 * assert.equal(modelFileBytes(Deno.makeTempDirSync(), "fp32"), null);
 * ```
 */
export function modelFileBytes(modelDir: string, dtype: Dtype): number | null {
  const onnxDir = join(modelDir, "onnx");
  const name = `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`;
  let total = 0;
  let found = false;
  try {
    for (const entry of Deno.readDirSync(onnxDir)) {
      if (!entry.isFile) continue;
      if (entry.name === name) found = true;
      if (
        entry.name === name || entry.name === `${name}_data` ||
        entry.name.startsWith(`${name}_data_`)
      ) {
        total += Deno.statSync(join(onnxDir, entry.name)).size;
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  return found ? total : null;
}

/**
 * Bytes one decode step reads at a prompt length, averaged over the generated tokens.
 *
 * @param shape The model's dimensions.
 * @param options Model file bytes, dtype, prompt length, new tokens.
 * @returns Weight and KV bytes per token.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBytes } from "./decode_bound.ts";
 * const shape = { layers: 2, kvHeads: 2, headDim: 4, hidden: 8, vocab: 10 };
 * const b = decodeBytes(shape, { fileBytes: 1000, dtype: "fp32", context: 10, newTokens: 5 });
 * assert.equal(b.weightBytes, 1000 - 10 * 8 * 4);
 * assert.equal(b.kvBytes, 2 * 2 * 2 * 4 * 4 * (10 + 3)); // k+v × layers × heads × dim × fp32 × positions
 * ```
 */
export function decodeBytes(
  shape: DecodeShape,
  options: { fileBytes: number; dtype: Dtype; context: number; newTokens: number },
): DecodeBytes {
  const fb = floatBytes(options.dtype);
  const embedding = shape.vocab * shape.hidden * fb;
  // Decode steps 2..N attend to context+1 … context+N−1 positions: their mean.
  const positions = options.context + options.newTokens / 2 + 0.5;
  return {
    weightBytes: Math.max(0, options.fileBytes - embedding),
    kvBytes: 2 * shape.layers * shape.kvHeads * shape.headDim * fb * positions,
  };
}

/**
 * How close a decode rate came to the bandwidth bound.
 *
 * @param bytes Bytes per decode token.
 * @param tokensPerS Measured decode tokens/s (batch 1).
 * @param bandwidthBytesPerS Measured memory bandwidth.
 * @returns The bytes/s the rate implies and its fraction of the bandwidth.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { boundFraction } from "./decode_bound.ts";
 * const f = boundFraction({ weightBytes: 900, kvBytes: 100 }, 50, 1e5);
 * assert.equal(f.bytesPerS, 5e4);
 * assert.equal(f.fraction, 0.5);
 * ```
 */
export function boundFraction(
  bytes: DecodeBytes,
  tokensPerS: number,
  bandwidthBytesPerS: number,
): { bytesPerS: number; fraction: number } {
  const bytesPerS = (bytes.weightBytes + bytes.kvBytes) * tokensPerS;
  return { bytesPerS, fraction: bytesPerS / bandwidthBytesPerS };
}
