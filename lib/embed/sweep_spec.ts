/**
 * The optional `embeddings` block of a sweep spec (off when absent or null): one encoder and its
 * dtypes × devices × batch sizes. Only validation lives here (no runtime imports), so the spec
 * parser stays light; `sweep_step.ts` runs the block.
 *
 * ```json
 * "embeddings": { "model": "preset:minilm-l6", "dtypes": ["fp32", "fp16", "q8"],
 *   "devices": ["cpu"], "batch_sizes": [1, 8, 32], "seq_len": 128, "texts": 64 }
 * ```
 *
 * @module
 */
import { type Device, DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";

/** A validated `embeddings` block. */
export interface EmbedSweepSpec {
  /** Encoder reference (`preset:minilm-l6`, a directory or a Hub id). */
  model: string;
  /** Dtypes. @default ["fp32", "fp16", "q8"] */
  dtypes: Dtype[];
  /** Devices. @default ["cpu"] */
  devices: Device[];
  /** Texts per batch. @default [1, 8, 32] */
  batch_sizes: number[];
  /** Tokens per text. @default 128 */
  seq_len: number;
  /** Distinct texts. @default 64 */
  texts: number;
  /** Unrecorded batches per cell. @default 1 */
  warmup: number;
  /** Fewest measured batches per cell. @default 3 */
  min_batches: number;
  /** Add the transformers.js pipeline's rows. @default true */
  pipeline: boolean;
}

const KEYS = [
  "model",
  "dtypes",
  "devices",
  "batch_sizes",
  "seq_len",
  "texts",
  "warmup",
  "min_batches",
  "pipeline",
] as const;

/**
 * Validates an `embeddings` block; `null` or absent means off.
 *
 * @param value The block as parsed from JSON.
 * @param fail Reports a problem at a JSON path (throws).
 * @returns The typed block, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEmbedSweepBlock } from "./sweep_spec.ts";
 * const fail = (path: string, problem: string): never => { throw new TypeError(`${path} ${problem}`); };
 * assert.equal(parseEmbedSweepBlock({ model: "preset:minilm-tiny" }, fail)!.seq_len, 128);
 * assert.throws(() => parseEmbedSweepBlock({ model: "x/y", texts: 0 }, fail), /\$\.embeddings\.texts/);
 * ```
 */
export function parseEmbedSweepBlock(
  value: unknown,
  fail: (path: string, problem: string) => never,
): EmbedSweepSpec | null {
  if (value === undefined || value === null) return null;
  const at = (key: string) => `$.embeddings.${key}`;
  if (typeof value !== "object" || Array.isArray(value)) {
    return fail("$.embeddings", `must be an object or null, got ${JSON.stringify(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      fail(at(key), `is not a known field (known: ${KEYS.join(", ")})`);
    }
  }
  const int = (key: string, min: number, fallback: number): number => {
    const v = obj[key] ?? fallback;
    return typeof v === "number" && Number.isInteger(v) && v >= min
      ? v
      : fail(at(key), `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  };
  const list = <T>(key: string, fallback: T[], ok: (v: unknown) => v is T, known: string): T[] => {
    const v = obj[key] ?? fallback;
    if (!Array.isArray(v) || v.length === 0) return fail(at(key), "must be a non-empty list");
    v.forEach((x, i) => {
      if (!ok(x)) fail(`${at(key)}[${i}]`, `is not one of ${known}, got ${JSON.stringify(x)}`);
    });
    if (new Set(v).size !== v.length) fail(at(key), "has duplicate entries");
    return v as T[];
  };
  if (typeof obj.model !== "string" || obj.model === "") {
    return fail(at("model"), `must be a non-empty string, got ${JSON.stringify(obj.model)}`);
  }
  const pipeline = obj.pipeline ?? true;
  if (typeof pipeline !== "boolean") {
    return fail(at("pipeline"), `must be true or false, got ${JSON.stringify(pipeline)}`);
  }
  const isBatch = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v > 0;
  return {
    model: obj.model,
    dtypes: list(
      "dtypes",
      ["fp32", "fp16", "q8"],
      (v): v is Dtype => typeof v === "string" && isDtype(v),
      DTYPES.join(", "),
    ),
    devices: list(
      "devices",
      ["cpu"],
      (v): v is Device => typeof v === "string" && isDevice(v),
      DEVICES.join(", "),
    ),
    batch_sizes: list("batch_sizes", [1, 8, 32], isBatch, "positive integers"),
    seq_len: int("seq_len", 3, 128),
    texts: int("texts", 1, 64),
    warmup: int("warmup", 0, 1),
    min_batches: int("min_batches", 1, 3),
    pipeline,
  };
}
