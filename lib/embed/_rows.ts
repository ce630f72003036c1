/**
 * From one cell's measurement (or failure) to its `embeddings.csv` row and raw batch rows.
 * Private to lib/embed.
 *
 * @module
 */
import type { Device, Dtype } from "../dtypes.ts";
import { summarize } from "../measure/stats.ts";
import type { SystemInfo } from "../runtime/system_info.ts";
import type { CellMeasure } from "./_cells.ts";
import { cosineSimilarity } from "./pooling.ts";
import type { EmbedBatchRow, EmbedEngine, EmbedRow } from "./schema.ts";

/** What identifies a cell. */
export interface CellKey {
  model: string;
  engine: EmbedEngine;
  dtype: Dtype;
  device: Device;
  batch: number;
  seqLen: number;
  texts: number;
  /** RFC 3339 start time. */
  timestamp: string;
}

/** A cell's measurement with the provider that ran it, or the reason it failed. */
export type CellOutcome = { measure: CellMeasure; provider: string } | { error: string };

/**
 * The cell's row (texts/s and tokens/s over the measured batches, batch-time percentiles from
 * `summarize()`, cosine with the fp32 reference when there is one) and its raw batch rows.
 */
export function cellRow(
  key: CellKey,
  info: SystemInfo,
  outcome: CellOutcome,
  reference: readonly Float32Array[] | null,
): { row: EmbedRow; batches: EmbedBatchRow[] } {
  const cellId =
    `${key.model}|${key.engine}|${key.dtype}|${key.device}|b${key.batch}|s${key.seqLen}`;
  const base = {
    cell_id: cellId,
    timestamp: key.timestamp,
    model: key.model,
    engine: key.engine,
    dtype: key.dtype,
    device: key.device,
    batch: key.batch,
    seq_len: key.seqLen,
    texts: key.texts,
    git_commit: info.gitCommit,
    deno_version: info.deno,
    ort_version: info.onnxruntime,
    transformers_version: info.transformers,
    device_name: key.device === "cpu" ? info.cpuModel : info.gpu?.name ?? "",
  };
  if ("error" in outcome) {
    return {
      row: {
        ...base,
        execution_provider: "",
        batches: 0,
        texts_per_s: null,
        tokens_per_s: null,
        batch_mean_ms: null,
        batch_p50_ms: null,
        batch_p95_ms: null,
        peak_rss_bytes: null,
        peak_vram_bytes: null,
        cos_vs_fp32_mean: null,
        cos_vs_fp32_min: null,
        status: "error",
        error: outcome.error,
      },
      batches: [],
    };
  }
  const m = outcome.measure;
  const seconds = m.ms.reduce((a, b) => a + b, 0) / 1000;
  const stats = summarize(m.ms);
  const cos = reference === null ? null : cosines(m.embeddings, reference);
  return {
    row: {
      ...base,
      execution_provider: outcome.provider,
      batches: m.ms.length,
      texts_per_s: (m.ms.length * m.batchTexts) / seconds,
      tokens_per_s: m.tokens.reduce((a, b) => a + b, 0) / seconds,
      batch_mean_ms: stats.mean,
      batch_p50_ms: stats.p50,
      batch_p95_ms: stats.p95,
      peak_rss_bytes: m.peakRssBytes,
      peak_vram_bytes: m.peakVramBytes,
      cos_vs_fp32_mean: cos?.mean ?? null,
      cos_vs_fp32_min: cos?.min ?? null,
      status: "ok",
      error: "",
    },
    batches: m.ms.map((ms, i) => ({
      cell_id: cellId,
      batch_index: i,
      texts: m.batchTexts,
      tokens: m.tokens[i]!,
      ms,
    })),
  };
}

/** Mean and minimum cosine, text by text, over the texts both sides have. */
function cosines(embeddings: readonly Float32Array[], reference: readonly Float32Array[]) {
  let sum = 0, min = Infinity, n = 0;
  for (let i = 0; i < reference.length; i++) {
    const a = embeddings[i], b = reference[i]!;
    if (!a || a.length !== b.length) continue;
    const c = cosineSimilarity(a, b, b.length);
    sum += c;
    min = Math.min(min, c);
    n++;
  }
  return n === 0 ? null : { mean: sum / n, min };
}

/** The first line of an error's message. */
export function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
