/**
 * Memory pre-check of a benchmark cell: a rough upper estimate of what one generation of
 * `batch` sequences of `context + new tokens` allocates (KV cache, prefill activations, logits),
 * compared with the memory the system has available before the cell runs. A cell that would not
 * fit is recorded as an error row with the reason instead of driving the machine into swap or the
 * OOM killer; the sweep goes on with the next cell.
 *
 * @module
 */

/** The model shape the estimate needs. */
export interface BatchMemoryShape {
  /** Sequences per run. */
  batch: number;
  /** Prompt tokens per sequence. */
  contextTokens: number;
  /** Tokens generated per sequence. */
  newTokens: number;
  /** Decoder layers. */
  numLayers: number;
  /** Attention heads (query). */
  numHeads: number;
  /** KV heads. */
  numKvHeads: number;
  /** Head width. */
  headDim: number;
  /** Vocabulary size. */
  vocabSize: number;
  /** Bytes per KV cache element (4 for float32, 2 for float16). */
  kvElementBytes: number;
  /** Whether the prefill's logits cover every position (`all`) or only the last (`last`). */
  logitsPositions: "last" | "all";
  /** KV cache on (default) or off: off holds no cache, and each step recomputes the whole length. */
  useCache?: boolean;
}

/** The estimate, bytes, by part. */
export interface BatchMemoryEstimate {
  /** Past and present KV tensors together (a step holds both), bytes. */
  kvBytes: number;
  /** Float32 prefill activations of one layer (hidden states, MLP, attention scores), bytes. */
  activationBytes: number;
  /** Float32 logits of the prefill, bytes. */
  logitsBytes: number;
  /** The sum. */
  totalBytes: number;
}

/**
 * Estimates the memory of one generation of a batch (an upper bound in the usual layouts: the KV
 * cache counted twice, past and present; the MLP taken as 4 × hidden wide).
 *
 * @param s The shape.
 * @returns Bytes by part and in total.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateBatchMemory } from "./batch_memory.ts";
 * const shape = { batch: 2, contextTokens: 100, newTokens: 28, numLayers: 4, numHeads: 4,
 *   numKvHeads: 2, headDim: 64, vocabSize: 1000, kvElementBytes: 4, logitsPositions: "last" } as const;
 * const e = estimateBatchMemory(shape);
 * assert.equal(e.kvBytes, 2 * 2 * 4 * 2 * 64 * 4 * 2 * 128);
 * assert.equal(e.logitsBytes, 2 * 1000 * 4);
 * assert(estimateBatchMemory({ ...shape, batch: 4 }).totalBytes > e.totalBytes);
 * ```
 */
export function estimateBatchMemory(s: BatchMemoryShape): BatchMemoryEstimate {
  const length = s.contextTokens + s.newTokens;
  const cached = s.useCache ?? true;
  const kvBytes = cached
    ? 2 * s.numLayers * s.numKvHeads * s.headDim * s.kvElementBytes * 2 * s.batch * length
    : 0;
  const hidden = s.numHeads * s.headDim;
  // Without the cache the last step runs the whole sequence (prompt + generated) at once.
  const attended = cached ? s.contextTokens : length;
  const activationBytes = 4 * s.batch * attended * (8 * hidden + s.numHeads * attended);
  const logitsBytes = 4 * s.batch * s.vocabSize * (s.logitsPositions === "all" ? length : 1);
  return {
    kvBytes,
    activationBytes,
    logitsBytes,
    totalBytes: kvBytes + activationBytes + logitsBytes,
  };
}

/**
 * Why a cell cannot run in the memory available, or null when it fits.
 *
 * @param shape The cell's shape.
 * @param availableBytes Memory available to the process now (`Deno.systemMemoryInfo().available`
 * on CPU).
 * @returns A one-line reason naming the batch, context and the numbers, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchMemoryProblem } from "./batch_memory.ts";
 * const shape = { batch: 64, contextTokens: 2048, newTokens: 32, numLayers: 32, numHeads: 32,
 *   numKvHeads: 8, headDim: 128, vocabSize: 128256, kvElementBytes: 4, logitsPositions: "last" } as const;
 * assert.match(batchMemoryProblem(shape, 8e9)!, /batch 64 × context 2048 needs ~/);
 * assert.equal(batchMemoryProblem({ ...shape, batch: 1, contextTokens: 128 }, 8e9), null);
 * ```
 */
export function batchMemoryProblem(shape: BatchMemoryShape, availableBytes: number): string | null {
  const e = estimateBatchMemory(shape);
  if (e.totalBytes <= availableBytes) return null;
  const gb = (b: number) => (b / 1e9).toFixed(2);
  return `memory pre-check: batch ${shape.batch} × context ${shape.contextTokens} needs ~${
    gb(e.totalBytes)
  } GB (KV cache ${gb(e.kvBytes)} GB, activations ${gb(e.activationBytes)} GB, logits ${
    gb(e.logitsBytes)
  } GB) but ${gb(availableBytes)} GB is available; not run`;
}
