/**
 * The quantisation settings a variant was written with, kept in the ONNX file itself
 * (`ModelProto.metadata_props`, key {@linkcode QUANTIZATION_METADATA_KEY}) so that every result
 * row can say which accuracy level, block size and int8 kind it measured, whoever built the file.
 *
 * @module
 */
import type { ModelProto } from "./_proto.ts";

/** The `metadata_props` key holding the JSON of {@linkcode QuantizationSettings}. */
export const QUANTIZATION_METADATA_KEY = "turbo.quantization";

/** What a quantised variant was written with (snake_case: it is stored as JSON in the file). */
export interface QuantizationSettings {
  /** The variant (`fp16`, `q8`, `q4`, `q4f16`). */
  dtype: string;
  /** Bits per quantised weight, or `null` (fp16). */
  bits: number | null;
  /** Rows of K per block for `MatMulNBits`, or `null` (fp16, dynamic int8). */
  block_size: number | null;
  /** `MatMulNBits` `accuracy_level`, or `null` where no `MatMulNBits` is written. */
  accuracy_level: number | null;
  /** q8 only: `dynamic` (`MatMulInteger`) or `nbits` (weight-only 8-bit `MatMulNBits`). */
  int8_kind: string | null;
  /** Symmetric weights (no zero points). */
  symmetric: boolean;
  /** LM head left in float. */
  keep_lm_head: boolean;
  /**
   * Whether `MatMulNBits` nodes reading the same activation were packed into one (q/k/v,
   * gate/up; `pack_matmuls.ts`). Absent in files written before packing existed: read as false.
   */
  packed?: boolean;
}

/** The options {@linkcode quantizationSettings} reads. */
export interface SettingsSource {
  /** 4-bit / 8-bit block size. */
  blockSize: number;
  /** `MatMulNBits` accuracy level. */
  accuracyLevel: number;
  /** q8 kind. */
  int8Kind: "dynamic" | "nbits";
  /** Symmetric weights. */
  symmetric: boolean;
  /** LM head kept in float. */
  keepLmHead: boolean;
  /** Pack `MatMulNBits` nodes that share their input. @default true */
  packMatMuls?: boolean;
}

/**
 * The settings that apply to one variant (fields that do not apply are `null`).
 *
 * @param dtype The variant.
 * @param source The quantizer's resolved options.
 * @returns The settings to store.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizationSettings } from "./quantization_metadata.ts";
 * const s = quantizationSettings("q8", {
 *   blockSize: 32, accuracyLevel: 4, int8Kind: "dynamic", symmetric: false, keepLmHead: false,
 * });
 * assert(s.bits === 8 && s.block_size === null && s.accuracy_level === null);
 * ```
 */
export function quantizationSettings(dtype: string, source: SettingsSource): QuantizationSettings {
  const fourBit = dtype === "q4" || dtype === "q4f16" || dtype === "q4gptq";
  const nbits = fourBit || (dtype === "q8" && source.int8Kind === "nbits");
  const bits = fourBit ? 4 : dtype === "q8" ? 8 : null;
  return {
    dtype,
    bits,
    block_size: nbits ? source.blockSize : null,
    accuracy_level: nbits ? source.accuracyLevel : null,
    int8_kind: dtype === "q8" ? source.int8Kind : null,
    symmetric: bits !== null && source.symmetric,
    keep_lm_head: bits !== null && source.keepLmHead,
    packed: nbits && (source.packMatMuls ?? true),
  };
}

/**
 * Stores `settings` in `model.metadataProps` (replacing an earlier entry with the same key).
 *
 * @param model The model (mutated).
 * @param settings What it was written with.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QUANTIZATION_METADATA_KEY, quantizationSettings, setQuantizationMetadata } from "./quantization_metadata.ts";
 * const model: { metadataProps?: { key?: string | null; value?: string | null }[] } = {};
 * setQuantizationMetadata(model, quantizationSettings("fp16", {
 *   blockSize: 32, accuracyLevel: 4, int8Kind: "dynamic", symmetric: false, keepLmHead: false,
 * }));
 * assert(model.metadataProps?.[0]?.key === QUANTIZATION_METADATA_KEY);
 * ```
 */
export function setQuantizationMetadata(
  model: Pick<ModelProto, "metadataProps">,
  settings: QuantizationSettings,
): void {
  const kept = (model.metadataProps ?? []).filter((p) => p.key !== QUANTIZATION_METADATA_KEY);
  model.metadataProps = [...kept, {
    key: QUANTIZATION_METADATA_KEY,
    value: JSON.stringify(settings),
  }];
}

/**
 * A compact label of the settings for result rows: `q4 b32 acc4`, `q8 dynamic`, `q8 nbits b32
 * acc4`, `fp16`; `sym`, `fp-head` and `unpacked` (`MatMulNBits` not packed) are appended when
 * they apply.
 *
 * @param settings The settings, or `null` for a file without them.
 * @returns The label, or `""` for `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizationLabel, quantizationSettings } from "./quantization_metadata.ts";
 * const source = { blockSize: 32, accuracyLevel: 4, int8Kind: "nbits" as const, symmetric: false, keepLmHead: false };
 * assert(quantizationLabel(quantizationSettings("q4", source)) === "q4 b32 acc4");
 * assert(quantizationLabel(quantizationSettings("q8", source)) === "q8 nbits b32 acc4");
 * assert(quantizationLabel(null) === "");
 * assert(quantizationLabel(quantizationSettings("q4", { ...source, packMatMuls: false })) === "q4 b32 acc4 unpacked");
 * ```
 */
export function quantizationLabel(settings: QuantizationSettings | null): string {
  if (settings === null) return "";
  const parts = [settings.dtype];
  if (settings.int8_kind !== null) parts.push(settings.int8_kind);
  if (settings.block_size !== null) parts.push(`b${settings.block_size}`);
  if (settings.accuracy_level !== null) parts.push(`acc${settings.accuracy_level}`);
  if (settings.symmetric) parts.push("sym");
  if (settings.keep_lm_head) parts.push("fp-head");
  if (settings.block_size !== null && settings.packed !== true) parts.push("unpacked");
  return parts.join(" ");
}

/**
 * Reads the settings stored in an ONNX file without loading its graph: the top-level fields of
 * `ModelProto` are walked and every one but `metadata_props` (field 14) is skipped by seeking, so
 * a multi-GB model costs a few reads.
 *
 * @param path The `.onnx` file.
 * @returns The settings, or `null` when the file has none (a float model, a Hub export).
 * @throws {SyntaxError} naming the file when the entry is not valid JSON.
 * @example
 * ```ts ignore
 * const s = await readQuantizationMetadata("model/onnx/model_q4.onnx");
 * ```
 */
export async function readQuantizationMetadata(
  path: string,
): Promise<QuantizationSettings | null> {
  const props = await readMetadataProps(path);
  const raw = props.get(QUANTIZATION_METADATA_KEY);
  if (raw === undefined) return null;
  try {
    return JSON.parse(raw) as QuantizationSettings;
  } catch {
    throw new SyntaxError(`'${path}': metadata '${QUANTIZATION_METADATA_KEY}' is not JSON`);
  }
}

/**
 * All `metadata_props` of an ONNX file, read by seeking over the other top-level fields.
 *
 * @param path The `.onnx` file.
 * @returns Key → value.
 * @example
 * ```ts ignore
 * const props = await readMetadataProps("model.onnx");
 * ```
 */
export async function readMetadataProps(path: string): Promise<Map<string, string>> {
  const file = await Deno.open(path, { read: true });
  const out = new Map<string, string>();
  try {
    const size = (await file.stat()).size;
    let pos = 0;
    const head = new Uint8Array(20);
    while (pos < size) {
      await file.seek(pos, Deno.SeekMode.Start);
      const got = await readFull(file, head.subarray(0, Math.min(20, size - pos)));
      let at = 0;
      const varint = (): number => {
        let value = 0;
        let scale = 1;
        for (;;) {
          if (at >= got) throw new SyntaxError(`'${path}' is not an ONNX model (bad varint)`);
          const b = head[at++]!;
          value += (b & 0x7f) * scale;
          if (b < 0x80) return value;
          scale *= 128;
        }
      };
      const tag = varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) {
        varint();
        pos += at;
      } else if (wire === 2) {
        const length = varint();
        pos += at;
        if (field === 14) {
          const bytes = new Uint8Array(length);
          await file.seek(pos, Deno.SeekMode.Start);
          await readFull(file, bytes);
          const entry = decodeEntry(bytes);
          out.set(entry.key, entry.value);
        }
        pos += length;
      } else if (wire === 5) {
        pos += at + 4;
      } else if (wire === 1) {
        pos += at + 8;
      } else {
        throw new SyntaxError(`'${path}' is not an ONNX model (wire type ${wire})`);
      }
    }
  } finally {
    file.close();
  }
  return out;
}

async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const n = await file.read(into.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/** Decodes a `StringStringEntryProto` (1: key, 2: value). */
function decodeEntry(bytes: Uint8Array): { key: string; value: string } {
  const text = new TextDecoder();
  let at = 0;
  let key = "";
  let value = "";
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const length = varint();
    const s = text.decode(bytes.subarray(at, at + length));
    at += length;
    if (tag >> 3 === 1) key = s;
    else if (tag >> 3 === 2) value = s;
  }
  return { key, value };
}
