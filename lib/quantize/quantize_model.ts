/**
 * `quantizeModel()`: from any float32 ONNX decoder, writes the fp16, q8, q4 and q4f16 variants
 * next to it under transformers.js file names (`model_fp16.onnx`, `model_quantized.onnx`,
 * `model_q4.onnx`, `model_q4f16.onnx`) by rewriting the graph.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX } from "../dtypes.ts";
import { type ModelProto, onnx } from "./_proto.ts";
import { convertGraphToFloat16, DEFAULT_FLOAT32_OPS } from "./float16_graph.ts";
import type { LazyTensor } from "./lazy_tensor.ts";
import {
  findQuantizableMatMuls,
  type QuantizableMatMul,
  rewriteMatMulsQ4,
  rewriteMatMulsQ8,
  type RewriteStats,
} from "./matmul_rewrite.ts";
import { OnnxFile } from "./onnx_file.ts";
import { writeOnnxModel } from "./onnx_writer.ts";
import { checkBlockSize } from "./q4.ts";
import { convertGraphToBfloat16 } from "./bfloat16_graph.ts";
import { rewriteMatMulsQ4Gptq } from "./gptq_rewrite.ts";
import { quantizationSettings, setQuantizationMetadata } from "./quantization_metadata.ts";
import { packMatMulNBits } from "./pack_matmuls.ts";
import { exists } from "../_fs.ts";

/** How q8 (int8) MatMuls are written: see {@linkcode QuantizeOptions.int8Kind}. */
export const INT8_KINDS = ["dynamic", "nbits"] as const;

/** One of {@linkcode INT8_KINDS}. */
export type Int8Kind = typeof INT8_KINDS[number];

/** The default `MatMulNBits` accuracy level (int8 compute on CPU; see docs/cpu-speed.md). */
export const DEFAULT_ACCURACY_LEVEL = 4;

/** The default 4-bit block size. */
export const DEFAULT_BLOCK_SIZE = 32;

/** The default int8 kind. */
export const DEFAULT_INT8_KIND: Int8Kind = "nbits";

/** The dtypes {@linkcode quantizeModel} can write. */
export const QUANTIZE_DTYPES = ["fp16", "bf16", "q8", "q4", "q4f16", "q4gptq"] as const;

/** One of {@linkcode QUANTIZE_DTYPES}. */
export type QuantizeDtype = typeof QUANTIZE_DTYPES[number];

/** Options of {@linkcode quantizeModel}. */
export interface QuantizeOptions {
  /** Rows of K per 4-bit block (power of two ≥ 16). @default 32 */
  blockSize?: number;
  /** Keep the LM head (the MatMul producing `logits`) in the variant's float type. @default false */
  keepLmHead?: boolean;
  /** Symmetric weights (q4: implicit zero point 8; q8: int8, zero point 0). @default false */
  symmetric?: boolean;
  /**
   * `MatMulNBits` `accuracy_level` for q4 / q4f16 (and q8 with `int8Kind: "nbits"`): 0 leaves it
   * unset (ORT's default: the CPU provider dequantises B to float and runs a float GEMM), 4 lets
   * the CPU provider quantise A to int8 per block and use int8 dot products, as llama.cpp does.
   * 4 was chosen by measurement (docs/cpu-speed.md); GPU providers ignore it. @default 4
   */
  accuracyLevel?: number;
  /**
   * What q8 writes: `nbits` = weight-only 8-bit `MatMulNBits` (blockwise, float activations at
   * accuracy level 0, int8 at 4), `dynamic` = onnxruntime `quantize_dynamic`'s
   * `DynamicQuantizeLinear → MatMulInteger` (per-tensor uint8 activations, per-channel weights).
   * Chosen by measurement (docs/cpu-speed.md). @default DEFAULT_INT8_KIND
   */
  int8Kind?: Int8Kind;
  /**
   * Pack the `MatMulNBits` nodes that read the same activation (q/k/v, gate/up) into one node and
   * a `Split` (`pack_matmuls.ts`): the same outputs, fewer kernel calls per step. Chosen by
   * measurement (docs/cpu-speed.md). @default true
   */
  packMatMuls?: boolean;
  /** Overwrite existing outputs. @default false */
  force?: boolean;
  /** Op types kept in float32 inside fp16 / q4f16 graphs. @default DEFAULT_FLOAT32_OPS */
  keepFloat32Ops?: readonly string[];
  /** Keep RMSNorm statistics (Pow … Sqrt, Div) in float32 in fp16 / q4f16 graphs. @default true */
  float32Norms?: boolean;
  /** Initializer bytes above which output data goes to `<file>_data`. @default 1.8e9 */
  externalDataThresholdBytes?: number;
}

/** What one variant became. */
export interface QuantizeReport {
  /** The variant. */
  dtype: QuantizeDtype;
  /** The `.onnx` written. */
  path: string;
  /** The external-data file written, or `null`. */
  externalDataPath: string | null;
  /** Bytes on disk (model + external data). */
  bytes: number;
  /** MatMul nodes rewritten to quantised ops (0 for fp16). */
  matmulsRewritten: number;
  /** Bytes of the float32 MatMul weights that were quantised. */
  sourceWeightBytes: number;
  /** Bytes of the quantised weights + scales + zero points replacing them. */
  quantizedWeightBytes: number;
  /** Wall time to build and write this variant. */
  ms: number;
}

/**
 * Whether `value` is one of {@linkcode QUANTIZE_DTYPES}.
 *
 * @param value Any string.
 * @returns `true` for fp16, q8, q4, q4f16.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isQuantizeDtype } from "./quantize_model.ts";
 * assert(isQuantizeDtype("q4") && !isQuantizeDtype("fp32"));
 * ```
 */
export function isQuantizeDtype(value: string): value is QuantizeDtype {
  return (QUANTIZE_DTYPES as readonly string[]).includes(value);
}

/**
 * Where the `dtype` variant of `fp32OnnxPath` goes: same folder, transformers.js suffix
 * (`model.onnx` → `model_q4.onnx`).
 *
 * @param fp32OnnxPath The float32 model.
 * @param dtype The variant.
 * @returns The variant's path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { variantPath } from "./quantize_model.ts";
 * assert(variantPath("m/onnx/model.onnx", "q8") === "m/onnx/model_quantized.onnx");
 * ```
 */
export function variantPath(fp32OnnxPath: string, dtype: QuantizeDtype): string {
  const stem = basename(fp32OnnxPath).replace(/\.onnx$/, "");
  return join(dirname(fp32OnnxPath), `${stem}${DTYPE_FILE_SUFFIX[dtype]}.onnx`);
}

/**
 * Writes the requested variants of a float32 ONNX model next to it. Only MatMuls whose B is a
 * constant 2-D initializer are quantised; the embedding Gather stays float; graph I/O names are
 * kept. Every file is written under a temporary name and renamed when complete.
 *
 * @param fp32OnnxPath Path of the float32 `.onnx` (external data next to it is read).
 * @param dtypes Variants to write: fp16, q8, q4, q4f16.
 * @param options Block size, LM head, symmetry, overwrite.
 * @returns One report per dtype, in the given order.
 * @throws {RangeError} for a dtype outside {@linkcode QUANTIZE_DTYPES}, a bad block size, a
 * model with no quantisable MatMul (naming the file) or in-features not divisible by the block
 * size (naming the tensor and its dims); {@linkcode Deno.errors.NotFound} for a missing file;
 * {@linkcode Deno.errors.AlreadyExists} for an existing output without `force`.
 * @example
 * ```ts ignore
 * import { quantizeModel } from "./quantize_model.ts";
 * const reports = await quantizeModel("tiny/onnx/model.onnx", ["fp16", "q4"]);
 * console.table(reports);
 * ```
 */
export async function quantizeModel(
  fp32OnnxPath: string,
  dtypes: readonly Dtype[],
  options: QuantizeOptions = {},
): Promise<QuantizeReport[]> {
  const wanted: QuantizeDtype[] = [];
  for (const d of dtypes) {
    if (!isQuantizeDtype(d)) {
      throw new RangeError(
        `Cannot quantize to dtype '${d}': accepted dtypes are ${QUANTIZE_DTYPES.join(", ")}`,
      );
    }
    if (!wanted.includes(d)) wanted.push(d);
  }
  const blockSize = checkBlockSize(options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const symmetric = options.symmetric ?? false;
  const keepLmHead = options.keepLmHead ?? false;
  const accuracyLevel = options.accuracyLevel ?? DEFAULT_ACCURACY_LEVEL;
  if (!Number.isInteger(accuracyLevel) || accuracyLevel < 0 || accuracyLevel > 4) {
    throw new RangeError(`'accuracyLevel' must be an integer 0..4, got ${accuracyLevel}`);
  }
  const int8Kind = options.int8Kind ?? DEFAULT_INT8_KIND;
  const packMatMuls = options.packMatMuls ?? true;
  if (!(INT8_KINDS as readonly string[]).includes(int8Kind)) {
    throw new RangeError(`'int8Kind' must be one of ${INT8_KINDS.join(", ")}, got '${int8Kind}'`);
  }
  if (!options.force) {
    for (const d of wanted) {
      const out = variantPath(fp32OnnxPath, d);
      if (await exists(out)) {
        throw new Deno.errors.AlreadyExists(
          `Output '${out}' already exists (pass force: true, or --force, to overwrite)`,
        );
      }
    }
  }
  const file = await OnnxFile.open(fp32OnnxPath);
  try {
    const skeleton = skeletonBytes(file.model);
    const check = working(skeleton, file);
    const candidates = selected(
      findQuantizableMatMuls(check.model.graph!, check.tensors),
      keepLmHead,
    );
    if (wanted.some((d) => d !== "fp16")) {
      if (candidates.length === 0) {
        throw new RangeError(
          `'${fp32OnnxPath}' has no quantizable MatMul (a MatMul whose B is a constant 2-D float32 ` +
            `initializer${keepLmHead ? ", other than the LM head" : ""})`,
        );
      }
      if (wanted.includes("q4gptq") && symmetric) {
        throw new RangeError("Cannot quantize to 'q4gptq' symmetric: GPTQ here is asymmetric only");
      }
      const fourBit = wanted.some((d) => d === "q4" || d === "q4f16" || d === "q4gptq");
      if (fourBit || (wanted.includes("q8") && int8Kind === "nbits")) {
        for (const m of candidates) {
          if (m.k % blockSize !== 0) {
            throw new RangeError(
              `Cannot quantize '${m.weight.name}' [${m.k}, ${m.n}] to ${fourBit ? 4 : 8} bits: ` +
                `in-features ${m.k} ` +
                `is not a multiple of blockSize ${blockSize}`,
            );
          }
        }
      }
    }
    const reports: QuantizeReport[] = [];
    for (const dtype of wanted) {
      const start = performance.now();
      const { model, tensors } = working(skeleton, file);
      const graph = model.graph!;
      const matmuls = selected(findQuantizableMatMuls(graph, tensors), keepLmHead);
      let stats: RewriteStats = { rewritten: 0, sourceWeightBytes: 0, quantizedWeightBytes: 0 };
      const fp16Options = {
        keepFloat32Ops: options.keepFloat32Ops ?? DEFAULT_FLOAT32_OPS,
        float32Norms: options.float32Norms ?? true,
      };
      switch (dtype) {
        case "fp16":
          convertGraphToFloat16(graph, tensors, fp16Options);
          break;
        case "bf16":
          convertGraphToBfloat16(graph, tensors, fp16Options);
          break;
        case "q4gptq":
          stats = await rewriteMatMulsQ4Gptq(fp32OnnxPath, graph, tensors, matmuls, {
            blockSize,
            accuracyLevel,
          });
          addMicrosoftOpset(model);
          break;
        case "q8":
          if (int8Kind === "nbits") {
            stats = rewriteMatMulsQ4(graph, tensors, matmuls, {
              bits: 8,
              blockSize,
              symmetric,
              accuracyLevel,
            });
            addMicrosoftOpset(model);
          } else {
            stats = rewriteMatMulsQ8(graph, tensors, matmuls, { symmetric });
          }
          break;
        case "q4":
          stats = rewriteMatMulsQ4(graph, tensors, matmuls, {
            blockSize,
            symmetric,
            accuracyLevel,
          });
          addMicrosoftOpset(model);
          break;
        case "q4f16":
          stats = rewriteMatMulsQ4(graph, tensors, matmuls, {
            blockSize,
            symmetric,
            scaleType: "float16",
            accuracyLevel,
          });
          convertGraphToFloat16(graph, tensors, fp16Options);
          addMicrosoftOpset(model);
          break;
        default: {
          const never: never = dtype;
          throw new TypeError(`unhandled dtype ${never}`);
        }
      }
      const settings = quantizationSettings(dtype, {
        blockSize,
        accuracyLevel,
        int8Kind,
        symmetric,
        keepLmHead,
        packMatMuls,
      });
      if (settings.packed) packMatMulNBits(graph, tensors);
      setQuantizationMetadata(model, settings);
      const written = await writeOnnxModel(
        variantPath(fp32OnnxPath, dtype),
        model,
        [...tensors.values()],
        options.externalDataThresholdBytes === undefined
          ? {}
          : { externalDataThresholdBytes: options.externalDataThresholdBytes },
      );
      reports.push({
        dtype,
        path: written.path,
        externalDataPath: written.externalDataPath,
        bytes: written.bytes,
        matmulsRewritten: stats.rewritten,
        sourceWeightBytes: stats.sourceWeightBytes,
        quantizedWeightBytes: stats.quantizedWeightBytes,
        ms: performance.now() - start,
      });
    }
    return reports;
  } finally {
    file.close();
  }
}

function selected(found: QuantizableMatMul[], keepLmHead: boolean): QuantizableMatMul[] {
  return keepLmHead ? found.filter((m) => !m.lmHead) : found;
}

/** The model without initializer data, encoded once and decoded per variant (a deep copy). */
function skeletonBytes(model: ModelProto): Uint8Array {
  const graph = { ...model.graph!, initializer: [] };
  return onnx.ModelProto.encode({ ...model, graph }).finish();
}

function working(
  skeleton: Uint8Array,
  file: OnnxFile,
): { model: ModelProto; tensors: Map<string, LazyTensor> } {
  const model = onnx.ModelProto.decode(skeleton);
  const tensors = new Map(file.initializers().map((t) => [t.name, t]));
  return { model, tensors };
}

function addMicrosoftOpset(model: ModelProto): void {
  const imports = model.opsetImport ?? [];
  if (!imports.some((o) => o.domain === "com.microsoft")) {
    imports.push({ domain: "com.microsoft", version: 1 });
  }
  model.opsetImport = imports;
}
