/**
 * A speed setting: one way to quantise and run the same model (dtype, `MatMulNBits` accuracy level
 * and block size, int8 kind, session threading), written `q4:acc4:b32`, `q8:nbits:acc4`,
 * `fp32:ort` … so that `deno task speed --settings` can list them side by side.
 *
 * @module
 */
import type { Dtype } from "../dtypes.ts";
import {
  DEFAULT_ACCURACY_LEVEL,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_INT8_KIND,
  type Int8Kind,
} from "../quantize/quantize_model.ts";
import type { SessionTuning } from "../runtime/session_options.ts";

/** The dtypes a setting can name. */
export const SPEED_DTYPES = ["fp32", "fp16", "q8", "q4", "q4f16"] as const;

/** A parsed speed setting. */
export interface SpeedSetting {
  /** As written (`q4:acc4:b32`). */
  name: string;
  /** Weight dtype. */
  dtype: Dtype & typeof SPEED_DTYPES[number];
  /** `MatMulNBits` accuracy level (q4, q4f16, q8 nbits). */
  accuracyLevel: number;
  /** Block size (q4, q4f16, q8 nbits). */
  blockSize: number;
  /** q8 kind. */
  int8Kind: Int8Kind;
  /** Session threading. */
  tuning: SessionTuning;
  /** Symmetric quantisation (no zero points; `sym`). @default false (asymmetric) */
  symmetric: boolean;
  /**
   * The graph with fused norms (`fused`: `SimplifiedLayerNormalization`, residual add + norm as
   * `SkipSimplifiedLayerNormalization`), rebuilt from the model's safetensors. @default false
   */
  fusedNorms: boolean;
  /**
   * Leave `MatMulNBits` nodes that share their input apart (`unpacked`) instead of packing them
   * (q/k/v, gate/up) into one. @default false (packed, the quantizer's default)
   */
  unpacked: boolean;
}

/**
 * Parses `DTYPE[:acc N|:bN|:dynamic|:nbits|:sym|:ort]…`: `accN` sets the accuracy level, `bN` the
 * block size, `dynamic` / `nbits` the int8 kind, `sym` symmetric weights (no zero points), `ort`
 * leaves threading to ONNX Runtime (else the decode tuning); what is not named takes the
 * quantizer's default.
 *
 * @param text The setting.
 * @returns The setting.
 * @throws {RangeError} naming the part that is not understood.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpeedSetting } from "./setting.ts";
 * const s = parseSpeedSetting("q4:acc0:b128:ort");
 * assert(s.accuracyLevel === 0 && s.blockSize === 128 && s.tuning === "ort-default");
 * assert.throws(() => parseSpeedSetting("q4:fast"), /'fast'/);
 * assert(parseSpeedSetting("q4:sym").symmetric && !parseSpeedSetting("q4").symmetric);
 * ```
 */
export function parseSpeedSetting(text: string): SpeedSetting {
  const [dtype, ...parts] = text.trim().split(":");
  if (!(SPEED_DTYPES as readonly string[]).includes(dtype ?? "")) {
    throw new RangeError(
      `--settings: '${text}' must start with one of ${SPEED_DTYPES.join(", ")}, got '${dtype}'`,
    );
  }
  const setting: SpeedSetting = {
    name: text.trim(),
    dtype: dtype as SpeedSetting["dtype"],
    accuracyLevel: DEFAULT_ACCURACY_LEVEL,
    blockSize: DEFAULT_BLOCK_SIZE,
    int8Kind: DEFAULT_INT8_KIND,
    tuning: "decode",
    symmetric: false,
    fusedNorms: false,
    unpacked: false,
  };
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^acc([0-4])$/.exec(part))) setting.accuracyLevel = Number(m[1]);
    else if ((m = /^b(\d+)$/.exec(part))) setting.blockSize = Number(m[1]);
    else if (part === "dynamic" || part === "nbits") setting.int8Kind = part;
    else if (part === "ort") setting.tuning = "ort-default";
    else if (part === "sym") setting.symmetric = true;
    else if (part === "fused") setting.fusedNorms = true;
    else if (part === "unpacked") setting.unpacked = true;
    else {
      throw new RangeError(
        `--settings: '${text}' has '${part}' (known: accN, bN, dynamic, nbits, sym, fused, unpacked, ort)`,
      );
    }
  }
  return setting;
}

/**
 * The folder name of the ONNX variant a setting needs (threading does not change the file).
 *
 * @param s The setting.
 * @returns `fp32`, `q4-b32-acc4`, `q4-b32-acc4-sym`, `q8-dynamic`, `q8-nbits-b32-acc4`, …
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSpeedSetting, variantKey } from "./setting.ts";
 * assert(variantKey(parseSpeedSetting("q4:acc4:ort")) === variantKey(parseSpeedSetting("q4:acc4")));
 * assert(variantKey(parseSpeedSetting("fp32:fused")) === "fp32-fused");
 * ```
 */
export function variantKey(s: SpeedSetting): string {
  const sym = s.symmetric && s.dtype !== "fp32" && s.dtype !== "fp16" ? "-sym" : "";
  const nbits = s.dtype === "q4" || s.dtype === "q4f16" ||
    (s.dtype === "q8" && s.int8Kind === "nbits");
  return baseKey(s) + sym + (s.fusedNorms ? "-fused" : "") +
    (nbits && s.unpacked ? "-unpacked" : "");
}

function baseKey(s: SpeedSetting): string {
  switch (s.dtype) {
    case "fp32":
    case "fp16":
      return s.dtype;
    case "q8":
      return s.int8Kind === "dynamic"
        ? "q8-dynamic"
        : `q8-nbits-b${s.blockSize}-acc${s.accuracyLevel}`;
    case "q4":
    case "q4f16":
      return `${s.dtype}-b${s.blockSize}-acc${s.accuracyLevel}`;
    default: {
      const never: never = s.dtype;
      throw new TypeError(`unhandled dtype ${never}`);
    }
  }
}
