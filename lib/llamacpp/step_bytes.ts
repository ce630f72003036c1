/**
 * The bytes a decode step must read on each side of a llama.cpp comparison, and the bandwidth
 * that makes of each side's measured rate: the same roofline the sweep writes
 * (lib/quantize/step_bytes.ts), applied to both contenders so a ratio of tokens/s can be read
 * against a ratio of bytes.
 *
 * - **Ours:** the ONNX file's stored tensors ({@linkcode readStoredWeights}: packed 4-bit codes,
 *   scales and zero points at their stored sizes; indexed tables one row) plus the KV cache at the
 *   engine's element size (float32 for fp32 activations).
 * - **llama.cpp:** the GGUF's tensors at their GGML block sizes ({@linkcode ggufStoredWeights}):
 *   `token_embd.weight` is one row per token when the file has its own `output.weight`, and read
 *   whole when the embedding is tied (it is then the output matrix too); plus the KV cache at
 *   2 bytes per element, llama-batched-bench's default cache type (f16).
 *
 * Both at the mean positions of a decode step of the cell (`context + ⌊new_tokens / 2⌋`), as the
 * sweep counts them.
 *
 * @module
 */
import {
  decodeStepBytes,
  type KvGeometry,
  meanDecodePositions,
  type StoredWeights,
} from "../quantize/step_bytes.ts";
import { effectiveBandwidth } from "../measure/bandwidth.ts";
import type { GgufHeader, GgufTensorInfo } from "./gguf_read.ts";

/** GGML type code → [elements per block, bytes per block] (ggml's type traits). */
export const GGML_BLOCKS: Readonly<Record<number, readonly [number, number]>> = Object.freeze({
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  30: [1, 2], // BF16
});

/** Bytes per element of llama-batched-bench's default KV cache (f16). */
export const LLAMA_CPP_KV_ELEMENT_BYTES = 2;

/**
 * Stored bytes of one GGUF tensor, and of one of its rows (`dims[0]` elements).
 *
 * @param t The tensor's info.
 * @returns Whole and row bytes.
 * @throws {TypeError} naming the tensor for a GGML type this table does not know, or a row that
 * is not a whole number of blocks.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggufTensorBytes } from "./step_bytes.ts";
 * // Q4_0: 18 bytes per 32 weights.
 * assert.deepEqual(ggufTensorBytes({ name: "w", dims: [64, 3], type: 2, offset: 0 }), {
 *   bytes: 108,
 *   rowBytes: 36,
 * });
 * ```
 */
export function ggufTensorBytes(t: GgufTensorInfo): { bytes: number; rowBytes: number } {
  const block = GGML_BLOCKS[t.type];
  if (block === undefined) {
    throw new TypeError(`GGUF tensor '${t.name}': GGML type ${t.type} has no known block size`);
  }
  const [elements, bytes] = block;
  const rowElements = t.dims[0] ?? 1;
  if (rowElements % elements !== 0) {
    throw new TypeError(
      `GGUF tensor '${t.name}': a row of ${rowElements} is not a whole number of ${elements}-element blocks`,
    );
  }
  const rows = t.dims.slice(1).reduce((a, b) => a * b, 1);
  const rowBytes = (rowElements / elements) * bytes;
  return { bytes: rowBytes * rows, rowBytes };
}

/**
 * What a llama.cpp decode step reads of a GGUF's tensors, split as the ONNX side is
 * ({@linkcode StoredWeights}): every tensor whole, except `token_embd.weight`, which is one row
 * per token when the file has an `output.weight` (untied) and whole otherwise (tied: it is the
 * output matrix too).
 *
 * @param header The GGUF's header.
 * @returns Whole bytes, row bytes of the indexed table, total stored bytes.
 * @throws {TypeError} for a tensor of an unknown GGML type.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ggufStoredWeights } from "./step_bytes.ts";
 * const t = (name: string, dims: number[], type: number) => ({ name, dims, type, offset: 0 });
 * const tied = { tensors: [t("token_embd.weight", [32, 10], 8), t("blk.0.w", [32, 32], 2)] };
 * assert.deepEqual(ggufStoredWeights(tied), { wholeBytes: 340 + 576, rowBytes: 0, storedBytes: 916 });
 * const untied = { tensors: [...tied.tensors, t("output.weight", [32, 10], 0)] };
 * assert.deepEqual(ggufStoredWeights(untied), {
 *   wholeBytes: 576 + 1280,
 *   rowBytes: 34,
 *   storedBytes: 340 + 576 + 1280,
 * });
 * ```
 */
export function ggufStoredWeights(header: Pick<GgufHeader, "tensors">): StoredWeights {
  const untied = header.tensors.some((t) => t.name === "output.weight");
  let wholeBytes = 0, rowBytes = 0, storedBytes = 0;
  for (const t of header.tensors) {
    const size = ggufTensorBytes(t);
    storedBytes += size.bytes;
    if (untied && t.name === "token_embd.weight") rowBytes += size.rowBytes;
    else wholeBytes += size.bytes;
  }
  return { wholeBytes, rowBytes, storedBytes };
}

/** The roofline fields of one comparison cell (null where a side's bytes are unknown). */
export interface VersusRoofline {
  /** Bytes one decode step of ours reads (weights as stored + KV at the mean positions). */
  ours_bytes_per_token: number | null;
  /** The same for llama.cpp (GGUF tensors + f16 KV). */
  llamacpp_bytes_per_token: number | null;
  /** Ours: bytes per token × median tokens/s, GB/s. */
  ours_effective_gb_s: number | null;
  /** llama.cpp: bytes per token × median tokens/s, GB/s. */
  llamacpp_effective_gb_s: number | null;
  /** Ours: effective GB/s ÷ the measured read bandwidth. */
  ours_bandwidth_fraction: number | null;
  /** llama.cpp: effective GB/s ÷ the measured read bandwidth. */
  llamacpp_bandwidth_fraction: number | null;
}

/** What {@linkcode versusRoofline} needs of one cell. */
export interface VersusRooflineInput {
  /** Our file's split, or null when it could not be read. */
  ours: StoredWeights | null;
  /** The GGUF's split, or null. */
  llamacpp: StoredWeights | null;
  /** The model's cache geometry, without the element size. */
  kv: Omit<KvGeometry, "elementBytes">;
  /** Our cache's bytes per element (4 for float32). */
  oursKvElementBytes: number;
  /** Prompt tokens. */
  context: number;
  /** Tokens per generation (the first from the prompt). */
  newTokens: number;
  /** Our median decode tokens/s. */
  oursTokS: number | null;
  /** llama.cpp's median decode tokens/s. */
  llamacppTokS: number | null;
  /** The measured read bandwidth, GB/s, or null when not measured. */
  boundGbS: number | null;
}

/**
 * Bytes per token, effective GB/s and fraction of the read bound, for both sides of a cell.
 *
 * @param input Both sides' weights, the cache geometry, the cell's rates and the bound.
 * @returns The six fields.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versusRoofline } from "./step_bytes.ts";
 * const r = versusRoofline({
 *   ours: { wholeBytes: 1e6, rowBytes: 0, storedBytes: 1e6 },
 *   llamacpp: { wholeBytes: 9e5, rowBytes: 0, storedBytes: 9e5 },
 *   kv: { layers: 1, kvHeads: 1, headDim: 1 }, oursKvElementBytes: 4,
 *   context: 0, newTokens: 2, oursTokS: 1000, llamacppTokS: 1000, boundGbS: 2,
 * });
 * // One position read (0 + ⌊2 / 2⌋): 8 bytes of f32 KV on our side, 4 of f16 on llama.cpp's.
 * assert.equal(r.ours_bytes_per_token, 1e6 + 8);
 * assert.equal(r.llamacpp_bytes_per_token, 9e5 + 4);
 * assert.equal(r.llamacpp_bandwidth_fraction, (9e5 + 4) * 1000 / 1e9 / 2);
 * ```
 */
export function versusRoofline(input: VersusRooflineInput): VersusRoofline {
  const positions = meanDecodePositions(input.context, input.newTokens);
  const side = (
    weights: StoredWeights | null,
    elementBytes: number,
    tokS: number | null,
  ) => {
    if (weights === null) {
      return { bytes: null, effective_gb_s: null, bandwidth_fraction: null };
    }
    const { totalBytes } = decodeStepBytes(weights, {
      batch: 1,
      positions,
      kv: { ...input.kv, elementBytes },
    });
    const stepMs = tokS !== null && tokS > 0 ? 1000 / tokS : null;
    return { bytes: totalBytes, ...effectiveBandwidth(totalBytes, stepMs, input.boundGbS) };
  };
  const ours = side(input.ours, input.oursKvElementBytes, input.oursTokS);
  const theirs = side(input.llamacpp, LLAMA_CPP_KV_ELEMENT_BYTES, input.llamacppTokS);
  return {
    ours_bytes_per_token: ours.bytes,
    llamacpp_bytes_per_token: theirs.bytes,
    ours_effective_gb_s: ours.effective_gb_s,
    llamacpp_effective_gb_s: theirs.effective_gb_s,
    ours_bandwidth_fraction: ours.bandwidth_fraction,
    llamacpp_bandwidth_fraction: theirs.bandwidth_fraction,
  };
}
