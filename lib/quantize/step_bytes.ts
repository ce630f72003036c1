/**
 * The bytes one decode step must read from memory: the weights as the ONNX file stores them
 * (packed 4-bit codes, scales and zero points of `MatMulNBits` included, each at its stored
 * element size) plus the KV cache the attention reads at the step's context. This is the
 * numerator of a memory-bandwidth roofline: a step that reads `B` bytes in `t` seconds ran at
 * `B / t` bytes/s, and no step can run faster than the machine's read bandwidth allows.
 *
 * What a step reads of each initializer, from the graph (not from guesses about the model):
 * - tables a step only indexes (the data input of a `Gather`, the cos/sin caches of
 *   `RotaryEmbedding` and `GroupQueryAttention`): one row per new token (`batch` rows);
 * - everything else (MatMul weights, quantised blocks, norms, biases, constants): all of it.
 *
 * The KV cache read: every layer's keys and values at the positions the step attends to,
 * `layers × 2 × kv_heads × head_dim × element bytes × positions × batch`. What the copy path
 * additionally moves (it concatenates, so reads and writes the cache again) is overhead, not a
 * requirement, and is not counted: the figure is what the step must read on any path.
 *
 * @module
 */
import { elementBytes, type GraphProto, type Int64, num } from "./_proto.ts";
import { OnnxFile } from "./onnx_file.ts";
import { effectiveBandwidth } from "../measure/bandwidth.ts";

/** An ONNX file's initializers, split by how much of each a decode step reads. */
export interface StoredWeights {
  /** Bytes of the initializers a step reads whole. */
  wholeBytes: number;
  /** Bytes of one row of every indexed table together (read once per new token). */
  rowBytes: number;
  /** Bytes of all initializers as stored (the file's weights). */
  storedBytes: number;
}

/** Operators whose inputs at these indices are tables indexed by position or token. */
const INDEXED_INPUTS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  Gather: [0],
  RotaryEmbedding: [2, 3],
  GroupQueryAttention: [7, 8],
});

/**
 * Splits a graph's initializers into those a decode step reads whole and the tables it indexes.
 * Sizes are the stored ones: dims × element size of the stored type (uint8 for packed 4-bit).
 *
 * @param graph A decoded ONNX graph (initializer data is not touched).
 * @returns Whole bytes, bytes of one row of every indexed table, total stored bytes.
 * @throws {TypeError} naming an initializer of a type without a fixed element size (packed
 * 4-bit types; this project stores 4-bit codes in uint8).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { storedWeights } from "./step_bytes.ts";
 * const w = storedWeights({
 *   initializer: [
 *     { name: "embed", dataType: 1, dims: [100, 8] }, // float32 table, indexed
 *     { name: "w", dataType: 1, dims: [8, 8] }, // read whole
 *   ],
 *   node: [{ opType: "Gather", input: ["embed", "ids"] }, { opType: "MatMul", input: ["x", "w"] }],
 * });
 * assert.deepEqual(w, { wholeBytes: 256, rowBytes: 32, storedBytes: 3456 });
 * ```
 */
export function storedWeights(graph: GraphProto): StoredWeights {
  const indexed = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const i of INDEXED_INPUTS[node.opType ?? ""] ?? []) {
      const name = node.input?.[i];
      if (name) indexed.add(name);
    }
  }
  // Anything else consuming an indexed table (a tied head's MatMul) reads it whole.
  for (const node of graph.node ?? []) {
    const rowInputs = INDEXED_INPUTS[node.opType ?? ""] ?? [];
    (node.input ?? []).forEach((name, i) => {
      if (!rowInputs.includes(i)) indexed.delete(name);
    });
  }
  let wholeBytes = 0, rowBytes = 0, storedBytes = 0;
  for (const t of graph.initializer ?? []) {
    const dims = (t.dims ?? []).map((d) => num(d as Int64));
    const bytes = dims.reduce((a, b) => a * b, 1) * elementBytes(t.dataType ?? 0, t.name ?? "");
    storedBytes += bytes;
    if (indexed.has(t.name ?? "") && dims.length > 0 && dims[0]! > 0) rowBytes += bytes / dims[0]!;
    else wholeBytes += bytes;
  }
  return { wholeBytes, rowBytes, storedBytes };
}

/**
 * {@linkcode storedWeights} of an `.onnx` file (external data is not read).
 *
 * @param onnxPath The model file.
 * @returns The split.
 * @example
 * ```ts ignore
 * import { readStoredWeights } from "./step_bytes.ts";
 * console.log(await readStoredWeights("model/onnx/model_q4.onnx"));
 * ```
 */
export async function readStoredWeights(onnxPath: string): Promise<StoredWeights> {
  const file = await OnnxFile.open(onnxPath);
  try {
    return storedWeights(file.graph);
  } finally {
    file.close();
  }
}

/** The KV cache's geometry. */
export interface KvGeometry {
  /** Decoder layers. */
  layers: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head width. */
  headDim: number;
  /** Bytes per element (4 for float32, 2 for float16). */
  elementBytes: number;
}

/** Options of {@linkcode decodeStepBytes}. */
export interface StepBytesOptions {
  /** Sequences decoded together (one new token each per step). */
  batch: number;
  /** Positions each sequence's attention reads in the step (0: the cache off). */
  positions: number;
  /** The cache's geometry. */
  kv: KvGeometry;
}

/** What one decode step reads. */
export interface StepBytes {
  /** Weights: the whole ones once, plus one row per new token of each indexed table. */
  weightBytes: number;
  /** The KV cache at the step's positions, all sequences. */
  kvBytes: number;
  /** `weightBytes + kvBytes`. */
  totalBytes: number;
}

/**
 * Bytes one decode step of a batch must read: the weights once for the whole batch, the KV
 * cache once per sequence.
 *
 * @param weights The file's split (see {@linkcode storedWeights}).
 * @param options Batch, positions read, cache geometry.
 * @returns Weight, KV and total bytes.
 * @throws {RangeError} naming a field that is not a non-negative integer (batch: positive).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeStepBytes } from "./step_bytes.ts";
 * const kv = { layers: 2, kvHeads: 2, headDim: 16, elementBytes: 4 };
 * const step = decodeStepBytes({ wholeBytes: 1000, rowBytes: 10, storedBytes: 2000 }, {
 *   batch: 2, positions: 100, kv,
 * });
 * assert.deepEqual(step, { weightBytes: 1020, kvBytes: 102400, totalBytes: 103420 });
 * ```
 */
export function decodeStepBytes(weights: StoredWeights, options: StepBytesOptions): StepBytes {
  const { batch, positions, kv } = options;
  const fields = { batch, positions, ...kv };
  for (const [name, value] of Object.entries(fields)) {
    if (!Number.isInteger(value) || value < (name === "batch" ? 1 : 0)) {
      throw new RangeError(
        `decodeStepBytes: '${name}' must be a non-negative integer, got ${value}`,
      );
    }
  }
  const weightBytes = weights.wholeBytes + weights.rowBytes * batch;
  const kvBytes = kv.layers * 2 * kv.kvHeads * kv.headDim * kv.elementBytes * positions * batch;
  return { weightBytes, kvBytes, totalBytes: weightBytes + kvBytes };
}

/**
 * Mean positions a decode step attends to over a run: steps 2..N of a prompt of `context`
 * tokens read `context + 1 … context + N − 1` positions, so the mean is `context + N / 2`
 * (rounded down); 0 with the cache off is the caller's choice.
 *
 * @param context Prompt tokens.
 * @param newTokens Tokens generated (the first comes from the prefill).
 * @returns Mean positions read per decode step.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanDecodePositions } from "./step_bytes.ts";
 * assert.equal(meanDecodePositions(128, 32), 144);
 * ```
 */
export function meanDecodePositions(context: number, newTokens: number): number {
  return context + Math.floor(newTokens / 2);
}

/** One decode measurement, as a results row has it. */
export interface DecodeRun {
  /** Sequences per run. */
  batch: number;
  /** Prompt tokens. */
  contextTokens: number;
  /** Tokens generated per sequence. */
  newTokens: number;
  /** KV cache on (one token per step) or off (every step recomputes the sequence). */
  useCache: boolean;
  /** Milliseconds of tokens 2..N; null when not measured. */
  decodeMs: number | null;
}

/**
 * The roofline columns of a results row: `bytes_per_token` (see {@linkcode decodeStepBytes}; with
 * the cache off, no KV is read but each step's embedding rows cover every recomputed token),
 * `effective_gb_s` and `bandwidth_fraction` (see `effectiveBandwidth`).
 *
 * @param weights The file's split, or null when it could not be read (all three null).
 * @param kv The cache's geometry.
 * @param run Batch, context, new tokens, cache on/off, decode time.
 * @param boundGbS The machine's measured read bandwidth, GB/s, or null.
 * @returns The three columns.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rooflineColumns } from "./step_bytes.ts";
 * const kv = { layers: 1, kvHeads: 1, headDim: 4, elementBytes: 4 };
 * const weights = { wholeBytes: 968, rowBytes: 0, storedBytes: 968 };
 * const run = { batch: 1, contextTokens: 0, newTokens: 3, useCache: true, decodeMs: 0.002 };
 * const r = rooflineColumns(weights, kv, run, 2);
 * assert.deepEqual(r, { bytes_per_token: 1000, effective_gb_s: 1, bandwidth_fraction: 0.5 });
 * ```
 */
export function rooflineColumns(
  weights: StoredWeights | null,
  kv: KvGeometry,
  run: DecodeRun,
  boundGbS: number | null,
): {
  bytes_per_token: number | null;
  effective_gb_s: number | null;
  bandwidth_fraction: number | null;
} {
  const none = { bytes_per_token: null, effective_gb_s: null, bandwidth_fraction: null };
  if (weights === null || run.newTokens < 2) return none;
  const positions = meanDecodePositions(run.contextTokens, run.newTokens);
  const step = run.useCache
    ? decodeStepBytes(weights, { batch: run.batch, positions, kv })
    : decodeStepBytes(weights, { batch: run.batch * (positions + 1), positions: 0, kv });
  const stepMs = run.decodeMs === null ? null : run.decodeMs / (run.newTokens - 1);
  return {
    bytes_per_token: step.totalBytes,
    ...effectiveBandwidth(step.totalBytes, stepMs, boundGbS),
  };
}
