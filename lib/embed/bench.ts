/**
 * The embedding benchmark: for each device × dtype, one ORT session (lib/runtime's
 * `createSession`) and, as a comparison, transformers.js's feature-extraction pipeline; for each
 * batch size, a cell of timed batches (texts → normalised sentence embeddings, tokenisation
 * included) summarised with `summarize()`. Quality: each cell's embeddings against the fp32 ORT
 * embeddings on the CPU, text by text. A failing cell (missing dtype, unavailable execution
 * provider, load error) becomes an error row with its reason and the rest goes on.
 *
 * @module
 */
import type { Device, Dtype } from "../dtypes.ts";
import { ExecutionProviderUnavailableError } from "../runtime/errors.ts";
import { createSession, deviceUnavailableReason, type OnnxSession } from "../runtime/session.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { type EmbedBatch, measureCell, ortEmbedder, pipelineEmbedder } from "./_cells.ts";
import type { ResolvedEncoder } from "./model.ts";
import { type CellOutcome, cellRow, oneLine } from "./_rows.ts";
import type { EmbedBatchRow, EmbedEngine, EmbedRow } from "./schema.ts";
import { embedTexts } from "./texts.ts";

/** Options of {@linkcode runEmbedBench}. */
export interface EmbedBenchOptions {
  /** Dtypes to measure. */
  dtypes: readonly Dtype[];
  /** Devices to measure (the CPU runs first: its fp32 embeddings are the quality reference). */
  devices: readonly Device[];
  /** Texts per batch, one cell each. */
  batchSizes: readonly number[];
  /** Tokens per text, special tokens included. */
  seqLen: number;
  /** Distinct texts. */
  texts: number;
  /** Unrecorded batches before each cell. @default 1 */
  warmup?: number;
  /** Fewest measured batches per cell. @default 3 */
  minBatches?: number;
  /** Text seed. @default 42 */
  seed?: number;
  /** ORT intra-op threads (0 = ORT's default). @default 0 */
  threads?: number;
  /** Add the transformers.js pipeline's rows. @default true */
  pipeline?: boolean;
  /** Progress lines. @default none */
  onProgress?: (line: string) => void;
}

/** What {@linkcode runEmbedBench} measured. */
export interface EmbedBenchResult {
  /** One row per cell, in run order. */
  rows: EmbedRow[];
  /** Every measured batch. */
  batches: EmbedBatchRow[];
}

/**
 * Runs the embedding benchmark on a resolved encoder.
 *
 * @param encoder From `resolveEncoder`.
 * @param options The grid and the run settings.
 * @returns Cell rows and raw batch rows.
 * @throws {RangeError} for an empty grid or a bad count; a cell's own failure is a row instead.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveEncoder } from "./model.ts";
 * import { runEmbedBench } from "./bench.ts";
 * const encoder = await resolveEncoder("preset:minilm-tiny", ["fp32"]);
 * const { rows } = await runEmbedBench(encoder, {
 *   dtypes: ["fp32"], devices: ["cpu"], batchSizes: [2], seqLen: 16, texts: 4, pipeline: false,
 * });
 * assert(rows[0]!.status === "ok" && rows[0]!.texts_per_s! > 0);
 * ```
 */
export async function runEmbedBench(
  encoder: ResolvedEncoder,
  options: EmbedBenchOptions,
): Promise<EmbedBenchResult> {
  const { model } = encoder;
  const warmup = options.warmup ?? 1;
  const minBatches = options.minBatches ?? 3;
  const threads = options.threads ?? 0;
  const log = options.onProgress ?? (() => {});
  if (
    options.dtypes.length === 0 || options.devices.length === 0 || options.batchSizes.length === 0
  ) {
    throw new RangeError(
      "Cannot run embedding benchmark: 'dtypes', 'devices' and 'batchSizes' must not be empty",
    );
  }
  if (!Number.isInteger(minBatches) || minBatches < 1) {
    throw new RangeError(
      `Cannot run embedding benchmark: 'minBatches' must be >= 1, got ${minBatches}`,
    );
  }
  const texts = embedTexts(model.tokenizer, {
    count: options.texts,
    seqLen: options.seqLen,
    seed: options.seed ?? 42,
  });
  const info = await systemInfo();
  const rows: EmbedRow[] = [];
  const batches: EmbedBatchRow[] = [];
  let reference: Float32Array[] | null = null;
  const devices = [...options.devices].sort((a, b) => Number(b === "cpu") - Number(a === "cpu"));
  const dtypes = [...options.dtypes].sort((a, b) => Number(b === "fp32") - Number(a === "fp32"));

  const record = (
    engine: EmbedEngine,
    dtype: Dtype,
    device: Device,
    batch: number,
    outcome: CellOutcome,
    timestamp: string,
  ) => {
    const key = {
      model: model.ref,
      engine,
      dtype,
      device,
      batch,
      seqLen: options.seqLen,
      texts: options.texts,
      timestamp,
    };
    const out = cellRow(key, info, outcome, reference);
    rows.push(out.row);
    batches.push(...out.batches);
    const r = out.row;
    log(
      `${engine} ${device} ${dtype} batch ${batch}: ${
        r.status === "error"
          ? `error: ${r.error}`
          : `${r.texts_per_s!.toFixed(1)} texts/s, p50 ${r.batch_p50_ms!.toFixed(1)} ms/batch${
            r.cos_vs_fp32_mean === null ? "" : `, cos vs fp32 ${r.cos_vs_fp32_mean.toFixed(5)}`
          }`
      }`,
    );
  };

  /** Runs every batch size through one embedder; a failing cell is recorded and the rest go on. */
  const runCells = async (
    engine: EmbedEngine,
    dtype: Dtype,
    device: Device,
    embed: EmbedBatch,
    provider: string,
  ) => {
    for (const batch of options.batchSizes) {
      const timestamp = new Date().toISOString();
      try {
        const measure = await measureCell(embed, texts, {
          batch,
          warmup,
          minBatches,
          gpu: device !== "cpu",
        });
        if (reference === null && engine === "ort" && dtype === "fp32" && device === "cpu") {
          reference = measure.embeddings;
        }
        record(engine, dtype, device, batch, { measure, provider }, timestamp);
      } catch (error) {
        record(engine, dtype, device, batch, { error: oneLine(error) }, timestamp);
      }
    }
  };
  const failAll = (engine: EmbedEngine, dtype: Dtype, device: Device, error: string) => {
    const timestamp = new Date().toISOString();
    for (const batch of options.batchSizes) {
      record(engine, dtype, device, batch, { error }, timestamp);
    }
  };

  if (!(devices.includes("cpu") && dtypes.includes("fp32"))) {
    reference = await referenceEmbeddings(encoder, texts, options.seqLen, threads, log);
  }
  const pipelineToo = options.pipeline ?? true;
  for (const device of devices) {
    // Once a device's execution provider is known to be missing, its other cells say so too.
    const probed = deviceUnavailableReason(device);
    let unavailable = probed === null
      ? null
      : new ExecutionProviderUnavailableError(device, probed).message;
    for (const dtype of dtypes) {
      if (!model.availableDtypes.includes(dtype)) {
        const reason = `model '${model.ref}' has no '${dtype}' weights (available: ${
          model.availableDtypes.join(", ") || "none"
        })`;
        failAll("ort", dtype, device, reason);
        if (pipelineToo) failAll("transformers.js", dtype, device, reason);
        continue;
      }
      if (unavailable !== null) {
        failAll("ort", dtype, device, unavailable);
        if (pipelineToo) failAll("transformers.js", dtype, device, unavailable);
        continue;
      }
      let session: OnnxSession | null = null;
      try {
        session = await createSession(model.onnxPath(dtype), {
          device,
          intraOpNumThreads: threads,
        });
      } catch (error) {
        if (error instanceof ExecutionProviderUnavailableError) unavailable = oneLine(error);
        failAll("ort", dtype, device, oneLine(error));
      }
      if (session !== null) {
        try {
          const embed = ortEmbedder(session, model.tokenizer, options.seqLen);
          await runCells("ort", dtype, device, embed, session.executionProvider);
        } catch (error) {
          failAll("ort", dtype, device, oneLine(error));
        } finally {
          await session.session.release();
        }
      }
      if (!pipelineToo) continue;
      if (unavailable !== null) {
        failAll("transformers.js", dtype, device, unavailable);
        continue;
      }
      try {
        const p = await pipelineEmbedder(model.dir, {
          dtype,
          device,
          seqLen: options.seqLen,
          threads,
        });
        try {
          await runCells("transformers.js", dtype, device, p.embed, `transformers.js ${device}`);
        } finally {
          await p.dispose();
        }
      } catch (error) {
        failAll("transformers.js", dtype, device, oneLine(error));
      }
    }
  }
  return { rows, batches };
}

/** The fp32 CPU embeddings of every text, untimed, when the grid does not measure them itself. */
async function referenceEmbeddings(
  encoder: ResolvedEncoder,
  texts: readonly string[],
  seqLen: number,
  threads: number,
  log: (line: string) => void,
): Promise<Float32Array[] | null> {
  try {
    const session = await createSession(encoder.model.onnxPath("fp32"), {
      intraOpNumThreads: threads,
    });
    try {
      const embed = ortEmbedder(session, encoder.model.tokenizer, seqLen);
      const out: Float32Array[] = [];
      for (const text of texts) out.push((await embed([text])).embeddings);
      return out;
    } finally {
      await session.session.release();
    }
  } catch (error) {
    log(`no fp32 CPU reference, cosine columns left empty: ${oneLine(error)}`);
    return null;
  }
}
