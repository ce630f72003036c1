/**
 * What a planned run needs: the model's bytes for one dtype and the KV cache its context needs,
 * read from a local model's files and config, or estimated from a preset's shape (presets are
 * never built just to be measured). Hub ids are sized only from the local cache.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX } from "../dtypes.ts";
import { parameterCount, presetConfig } from "../model/presets.ts";

/**
 * Bytes per quantized MatMul weight of each dtype's file (q4: 4 bits + a float32 scale and a
 * 4-bit zero point per block of 32; q4f16: float16 scales; q8: 8 bits + per-channel scales).
 */
const MATMUL_BYTES: Readonly<Record<Dtype, number>> = {
  fp32: 4,
  fp16: 2,
  bf16: 2,
  q8: 1.01,
  int8: 1.01,
  uint8: 1.01,
  q4: 0.5 + 4 / 32 + 0.5 / 32,
  q4f16: 0.5 + 2 / 32 + 0.5 / 32,
  q4gptq: 0.5 + 4 / 32 + 0.5 / 32,
  bnb4: 0.5 + 4 / 64,
};

/** Element bytes of what is never quantized (the embedding, norms): float16 only for fp16 files. */
const FLOAT_BYTES: Readonly<Record<Dtype, number>> = {
  fp32: 4,
  fp16: 2,
  bf16: 2,
  q8: 4,
  int8: 4,
  uint8: 4,
  q4: 4,
  q4f16: 2,
  q4gptq: 4,
  bnb4: 4,
};

/** Dtypes whose KV cache (and activations) are float16. */
const HALF_KV = new Set<Dtype>(["fp16", "bf16", "q4f16"]);

/** A planned run's needs. */
export interface RunPlan {
  /** The model reference. */
  ref: string;
  /** The dtype. */
  dtype: Dtype;
  /** Bytes of the dtype's ONNX file(s), or `null` when unknown. */
  modelBytes: number | null;
  /** Whether `modelBytes` is an estimate (preset not built yet) rather than files on disk. */
  estimated: boolean;
  /** Whether the model's files still have to be built or downloaded. */
  needsFiles: boolean;
  /** KV-cache bytes at `context` tokens × `batch`, or `null` without a config. */
  kvBytes: number | null;
  /** Context in tokens the plan was sized for. */
  context: number;
  /** Why the plan is incomplete, else `null`. */
  note: string | null;
}

interface Shape {
  num_hidden_layers: number;
  num_key_value_heads?: number;
  num_attention_heads: number;
  head_dim?: number;
  hidden_size: number;
}

/**
 * KV-cache bytes: 2 (K and V) × layers × KV heads × head dim × tokens × batch × element bytes.
 *
 * @param shape The config's fields.
 * @param tokens Context length.
 * @param dtype Decides the element size (2 for fp16/q4f16, else 4).
 * @param batch Sequences. @default 1
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kvCacheBytes } from "./plan.ts";
 * const llama8b = { num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, hidden_size: 4096, head_dim: 128 };
 * assert(kvCacheBytes(llama8b, 2048, "fp16") === 268435456); // 256 MiB
 * ```
 */
export function kvCacheBytes(shape: Shape, tokens: number, dtype: Dtype, batch = 1): number {
  const heads = shape.num_key_value_heads ?? shape.num_attention_heads;
  const headDim = shape.head_dim ?? shape.hidden_size / shape.num_attention_heads;
  return 2 * shape.num_hidden_layers * heads * headDim * tokens * batch *
    (HALF_KV.has(dtype) ? 2 : 4);
}

function fileBytes(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch {
    return null;
  }
}

/**
 * Sizes a planned run.
 *
 * @param ref `preset:NAME[@seed]`, a local directory in Hub layout, or a Hub id.
 * @param dtype The dtype.
 * @param options Context tokens and batch; where presets are cached.
 * @returns The plan.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planRun } from "./plan.ts";
 * const p = planRun("preset:llama-3-8b", "q4", { context: 2048, cacheDir: "/nonexistent" });
 * assert(p.estimated && p.needsFiles && p.modelBytes! > 4e9 && p.kvBytes === 2 * 32 * 8 * 128 * 2048 * 4);
 * ```
 */
export function planRun(
  ref: string,
  dtype: Dtype,
  options: { context: number; batch?: number; cacheDir?: string },
): RunPlan {
  const batch = options.batch ?? 1;
  const base = { ref, dtype, context: options.context };
  if (ref.startsWith("preset:")) {
    const [name = "", seed = "42"] = ref.slice("preset:".length).split("@");
    const config = presetConfig(name);
    const dir = join(options.cacheDir ?? ".cache/models", `${name}-s${seed}`);
    const onDisk = onnxBytes(dir, dtype);
    return {
      ...base,
      modelBytes: onDisk ?? estimatedBytes(config, dtype),
      estimated: onDisk === null,
      needsFiles: onDisk === null,
      kvBytes: kvCacheBytes(config, options.context, dtype, batch),
      note: null,
    };
  }
  let dir = ref;
  let stat: Deno.FileInfo | null = null;
  try {
    stat = Deno.statSync(ref);
    if (!stat.isDirectory) dir = "";
  } catch {
    dir = "";
  }
  // A path (absolute, ./ or ../, or anything that is not owner/name) is never fetched.
  const path = isAbsolute(ref) || ref.startsWith(".") || !/^[\w.-]+\/[\w.-]+$/.test(ref);
  if (dir === "" && (path || stat !== null)) {
    return {
      ...base,
      modelBytes: null,
      estimated: false,
      needsFiles: true,
      kvBytes: null,
      note: stat === null
        ? `'${ref}' not found: no such directory (a path is never fetched from the Hub)`
        : `'${ref}' is a file, not a model directory`,
    };
  }
  if (dir === "") {
    return {
      ...base,
      modelBytes: null,
      estimated: false,
      needsFiles: true,
      kvBytes: null,
      note: `'${ref}' is not a local directory: a Hub id is sized only once it is in the cache`,
    };
  }
  let shape: Shape | null = null;
  try {
    shape = JSON.parse(Deno.readTextFileSync(join(dir, "config.json"))) as Shape;
  } catch {
    shape = null;
  }
  const bytes = onnxBytes(dir, dtype);
  // A Hugging Face checkpoint directory (safetensors, no onnx/): converted on first use, so its
  // size is estimated from its shape like a preset's.
  const checkpoint = bytes === null && shape !== null &&
    (fileBytes(join(dir, "model.safetensors")) !== null ||
      fileBytes(join(dir, "model.safetensors.index.json")) !== null);
  if (checkpoint) {
    const c = shape as Shape & Record<string, unknown>;
    const config = {
      ...c,
      head_dim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
      num_key_value_heads: c.num_key_value_heads ?? c.num_attention_heads,
    } as unknown as ReturnType<typeof presetConfig>;
    return {
      ...base,
      modelBytes: estimatedBytes(config, dtype),
      estimated: true,
      needsFiles: true,
      kvBytes: kvCacheBytes(shape!, options.context, dtype, batch),
      note: null,
    };
  }
  return {
    ...base,
    modelBytes: bytes,
    estimated: false,
    needsFiles: bytes === null,
    kvBytes: shape ? kvCacheBytes(shape, options.context, dtype, batch) : null,
    note: bytes === null
      ? `${join(dir, `onnx/model${DTYPE_FILE_SUFFIX[dtype]}.onnx`)} is missing`
      : shape === null
      ? "config.json is missing or unreadable"
      : null,
  };
}

function onnxBytes(dir: string, dtype: Dtype): number | null {
  const onnx = join(dir, "onnx", `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`);
  const main = fileBytes(onnx);
  if (main === null) return null;
  let total = main;
  for (let i = 0; i < 100; i++) {
    const data = fileBytes(i === 0 ? `${onnx}_data` : `${onnx}_data_${i}`);
    if (data === null) break;
    total += data;
  }
  return total;
}

/** File bytes of a preset's dtype: the embedding stays float, every other MatMul is quantized. */
function estimatedBytes(config: ReturnType<typeof presetConfig>, dtype: Dtype): number {
  const embed = config.vocab_size * config.hidden_size;
  return embed * FLOAT_BYTES[dtype] + (parameterCount(config) - embed) * MATMUL_BYTES[dtype];
}
