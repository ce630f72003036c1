/**
 * The embedding benchmark's two tables, written with the results layer's atomic writer
 * (`writeCustomTable`): `embeddings.csv`, one row per cell (model × engine × dtype × device ×
 * batch size), and `embedding_batches.csv`, every measured batch (raw samples, never aggregated).
 * Units live in the field names.
 *
 * @module
 */
import pl from "nodejs-polars";
import { type CustomTable, writeCustomTable } from "../results/table.ts";

/** What produced the embeddings: this project's ORT loop or transformers.js's pipeline. */
export const EMBED_ENGINES = ["ort", "transformers.js"] as const;

/** One of {@linkcode EMBED_ENGINES}. */
export type EmbedEngine = typeof EMBED_ENGINES[number];

/** One cell of the embedding benchmark. */
export interface EmbedRow {
  /** `model|engine|dtype|device|b<batch>|s<seq_len>`. */
  cell_id: string;
  /** RFC 3339 time the cell started. */
  timestamp: string;
  /** Model reference (Hub id, local dir or `preset:NAME`). */
  model: string;
  /**
   * `ort`: transformers.js tokenizer → `session.run` (createSession) → mean pooling + L2 norm
   * (lib/embed/pooling.ts); `transformers.js`: `pipeline("feature-extraction")` with
   * `{ pooling: "mean", normalize: true }`. Both timings include tokenisation.
   */
  engine: EmbedEngine;
  /** Weight dtype in transformers.js's names. */
  dtype: string;
  /** Device asked for (`cpu`, `cuda`, `webgpu`). */
  device: string;
  /**
   * Execution provider that ran the ORT loop (`CPUExecutionProvider`, …); for the pipeline,
   * `transformers.js <device>` (the device asked of it: transformers.js does not report the
   * provider); empty when none ran.
   */
  execution_provider: string;
  /** Texts per batch. */
  batch: number;
  /** Tokens per text, `[CLS]` and `[SEP]` included (every text has exactly this many). */
  seq_len: number;
  /** Distinct texts; batches take them in order, wrapping around. */
  texts: number;
  /** Measured batches (warmups are never recorded). */
  batches: number;
  /** Texts embedded per second over the measured batches: batches × batch / Σ batch time. */
  texts_per_s: number | null;
  /** Tokens (attention-mask ones) per second over the measured batches. */
  tokens_per_s: number | null;
  /** Mean wall time of one batch, texts → normalised embeddings, milliseconds. */
  batch_mean_ms: number | null;
  /** Median batch time, milliseconds. */
  batch_p50_ms: number | null;
  /** 95th-percentile batch time (linear interpolation; see `batches` for the count), ms. */
  batch_p95_ms: number | null;
  /** Peak RSS of the process during this cell (VmHWM reset at the cell's start; the model is loaded), bytes. */
  peak_rss_bytes: number | null;
  /** Peak GPU memory used during the cell, bytes; null where none can be read. */
  peak_vram_bytes: number | null;
  /** Mean cosine similarity, text by text, with the fp32 ORT embeddings on the CPU. */
  cos_vs_fp32_mean: number | null;
  /** Smallest such cosine over the texts. */
  cos_vs_fp32_min: number | null;
  /** `ok` or `error`. */
  status: "ok" | "error";
  /** The reason when status is `error`, else empty. */
  error: string;
  /** Git commit of the project, or `unknown`. */
  git_commit: string;
  /** Deno version. */
  deno_version: string;
  /** onnxruntime-node version. */
  ort_version: string;
  /** Version of the @huggingface/transformers package. */
  transformers_version: string;
  /** CPU or GPU name the cell ran on. */
  device_name: string;
}

/** One measured batch. */
export interface EmbedBatchRow {
  /** The cell (see {@linkcode EmbedRow.cell_id}). */
  cell_id: string;
  /** Index of the measured batch within the cell. */
  batch_index: number;
  /** Texts in the batch. */
  texts: number;
  /** Tokens (attention-mask ones) in the batch. */
  tokens: number;
  /** Wall time, texts → normalised embeddings, milliseconds. */
  ms: number;
}

/** `embeddings.csv`: field order and polars types. */
export const EMBED_TABLE: CustomTable = Object.freeze({
  fields: Object.freeze(
    [
      "cell_id",
      "timestamp",
      "model",
      "engine",
      "dtype",
      "device",
      "execution_provider",
      "batch",
      "seq_len",
      "texts",
      "batches",
      "texts_per_s",
      "tokens_per_s",
      "batch_mean_ms",
      "batch_p50_ms",
      "batch_p95_ms",
      "peak_rss_bytes",
      "peak_vram_bytes",
      "cos_vs_fp32_mean",
      "cos_vs_fp32_min",
      "status",
      "error",
      "git_commit",
      "deno_version",
      "ort_version",
      "transformers_version",
      "device_name",
    ] satisfies (keyof EmbedRow)[],
  ),
  schema: Object.freeze({
    cell_id: pl.Utf8,
    timestamp: pl.Utf8,
    model: pl.Utf8,
    engine: pl.Utf8,
    dtype: pl.Utf8,
    device: pl.Utf8,
    execution_provider: pl.Utf8,
    batch: pl.Int64,
    seq_len: pl.Int64,
    texts: pl.Int64,
    batches: pl.Int64,
    texts_per_s: pl.Float64,
    tokens_per_s: pl.Float64,
    batch_mean_ms: pl.Float64,
    batch_p50_ms: pl.Float64,
    batch_p95_ms: pl.Float64,
    peak_rss_bytes: pl.Float64,
    peak_vram_bytes: pl.Float64,
    cos_vs_fp32_mean: pl.Float64,
    cos_vs_fp32_min: pl.Float64,
    status: pl.Utf8,
    error: pl.Utf8,
    git_commit: pl.Utf8,
    deno_version: pl.Utf8,
    ort_version: pl.Utf8,
    transformers_version: pl.Utf8,
    device_name: pl.Utf8,
  }),
});

/** `embedding_batches.csv`: field order and polars types. */
export const EMBED_BATCH_TABLE: CustomTable = Object.freeze({
  fields: Object.freeze(
    ["cell_id", "batch_index", "texts", "tokens", "ms"] satisfies (keyof EmbedBatchRow)[],
  ),
  schema: Object.freeze({
    cell_id: pl.Utf8,
    batch_index: pl.Int64,
    texts: pl.Int64,
    tokens: pl.Int64,
    ms: pl.Float64,
  }),
});

/**
 * Writes `embeddings.csv` and `embedding_batches.csv` into `dir`, each atomically.
 *
 * @param dir Output directory (created).
 * @param rows Cell rows.
 * @param batches Raw batch rows.
 * @returns The two paths.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeEmbedTables } from "./schema.ts";
 * const [cells] = await writeEmbedTables(await Deno.makeTempDir(), [], []);
 * assert((await Deno.readTextFile(cells!)).startsWith("cell_id,timestamp,model,engine"));
 * ```
 */
export async function writeEmbedTables(
  dir: string,
  rows: readonly EmbedRow[],
  batches: readonly EmbedBatchRow[],
): Promise<string[]> {
  const cells = `${dir}/embeddings.csv`;
  const raw = `${dir}/embedding_batches.csv`;
  await writeCustomTable(cells, EMBED_TABLE, rows as unknown as Record<string, unknown>[]);
  await writeCustomTable(raw, EMBED_BATCH_TABLE, batches as unknown as Record<string, unknown>[]);
  return [cells, raw];
}
