/**
 * The two ways the benchmark turns texts into sentence embeddings — the project's ORT loop and
 * transformers.js's feature-extraction pipeline — and the one timing loop both go through.
 * Private to lib/embed.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { pipeline } from "@huggingface/transformers";
import type { Device, Dtype } from "../dtypes.ts";
import type { Tokenizer } from "../engine/resolve.ts";
import { MemorySampler } from "../measure/memory_sampler.ts";
import type { OnnxSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { sentenceEmbeddings } from "./pooling.ts";

/** Texts → unit embeddings `[texts, hidden]` and the number of real tokens. */
export type EmbedBatch = (texts: string[]) => Promise<{ embeddings: Float32Array; tokens: number }>;

/** What one cell measured. */
export interface CellMeasure {
  /** Wall time of each measured batch, milliseconds. */
  ms: number[];
  /** Real tokens of each measured batch. */
  tokens: number[];
  /** Texts per batch. */
  batchTexts: number;
  /** The embedding of each distinct text, as first computed in this cell. */
  embeddings: Float32Array[];
  /** Peak RSS during the cell (VmHWM reset at its start), bytes. */
  peakRssBytes: number | null;
  /** Peak GPU memory used, bytes. */
  peakVramBytes: number | null;
}

/**
 * Runs `warmup` unrecorded batches, then max(⌈texts / batch⌉, minBatches) measured batches of
 * exactly `batch` texts taken in order, wrapping around, under a memory sampler.
 */
export async function measureCell(
  embed: EmbedBatch,
  texts: readonly string[],
  options: { batch: number; warmup: number; minBatches: number; gpu: boolean },
): Promise<CellMeasure> {
  const { batch } = options;
  const take = (k: number) =>
    Array.from({ length: batch }, (_, i) => texts[(k * batch + i) % texts.length]!);
  const sampler = new MemorySampler({ intervalMs: 50, gpu: options.gpu }).start();
  let stopped = false;
  try {
    for (let w = 0; w < options.warmup; w++) await embed(take(w));
    const count = Math.max(Math.ceil(texts.length / batch), options.minBatches);
    const ms: number[] = [];
    const tokens: number[] = [];
    const embeddings: Float32Array[] = [];
    for (let k = 0; k < count; k++) {
      const chunk = take(k);
      const started = performance.now();
      const out = await embed(chunk);
      ms.push(performance.now() - started);
      tokens.push(out.tokens);
      const width = out.embeddings.length / batch;
      for (let i = 0; i < batch; i++) {
        const index = (k * batch + i) % texts.length;
        embeddings[index] ??= out.embeddings.slice(i * width, (i + 1) * width);
      }
    }
    const memory = sampler.stop();
    stopped = true;
    return {
      ms,
      tokens,
      batchTexts: batch,
      embeddings,
      peakRssBytes: memory.peakRssBytes,
      peakVramBytes: memory.peakGpuUsedBytes,
    };
  } finally {
    if (!stopped) sampler.stop();
  }
}

/** The output holding token embeddings: `last_hidden_state`, else `token_embeddings`. */
export function hiddenOutputName(session: OnnxSession): string {
  for (const name of ["last_hidden_state", "token_embeddings"]) {
    if (session.outputNames.includes(name)) return name;
  }
  throw new TypeError(
    `the model has no last_hidden_state or token_embeddings output (outputs: ${
      session.outputNames.join(", ")
    })`,
  );
}

/**
 * The ORT engine: the model's tokenizer (padding to the longest text, truncating to `seqLen`),
 * one `session.run` fetching only the token embeddings, then mean pooling + L2 normalisation.
 */
export function ortEmbedder(
  session: OnnxSession,
  tokenizer: Tokenizer,
  seqLen: number,
): EmbedBatch {
  const output = hiddenOutputName(session);
  const wantsTypes = session.inputNames.includes("token_type_ids");
  return async (texts) => {
    const enc = tokenizer(texts, { padding: true, truncation: true, max_length: seqLen });
    const dims = enc.input_ids.dims as number[];
    const int64 = (t: { data: unknown }) => new ort.Tensor("int64", t.data as BigInt64Array, dims);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(enc.input_ids),
      attention_mask: int64(enc.attention_mask),
    };
    if (wantsTypes) {
      feeds.token_type_ids = enc.token_type_ids
        ? int64(enc.token_type_ids)
        : new ort.Tensor("int64", new BigInt64Array(dims[0]! * dims[1]!), dims);
    }
    const out = await session.session.run(feeds, [output]);
    const hidden = out[output]!;
    const mask = enc.attention_mask.data as BigInt64Array;
    const embeddings = sentenceEmbeddings(toFloat32(hidden), mask, {
      batch: dims[0]!,
      sequence: dims[1]!,
      hidden: hidden.dims[2]!,
    });
    let tokens = 0;
    for (const m of mask) tokens += Number(m);
    return { embeddings, tokens };
  };
}

/**
 * The transformers.js engine: `pipeline("feature-extraction")` with `{ pooling: "mean",
 * normalize: true }` (its own tokenisation, padding and truncation). Every text has exactly
 * `seqLen` tokens (lib/embed/texts.ts), so a batch's tokens are texts × seqLen.
 */
export async function pipelineEmbedder(
  dir: string,
  options: { dtype: Dtype; device: Device; seqLen: number; threads: number },
): Promise<{ embed: EmbedBatch; dispose: () => Promise<void> }> {
  const extractor = await pipeline("feature-extraction", dir, {
    dtype: options.dtype as "fp32",
    device: options.device,
    local_files_only: true,
    ...(options.threads > 0 ? { session_options: { intraOpNumThreads: options.threads } } : {}),
  });
  return {
    embed: async (texts) => {
      const out = await extractor(texts, { pooling: "mean", normalize: true });
      return {
        embeddings: Float32Array.from(out.data as ArrayLike<number>),
        tokens: texts.length * options.seqLen,
      };
    },
    dispose: () => extractor.dispose(),
  };
}
