/**
 * One generation's KV cache behind one call, in the mode the model allows (see kv_cache.ts):
 * `copy`/`device` feed the previous step's `present.*` back, `in_place` keeps a
 * {@linkcode KvCache} that the graph reads where it lies.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { attentionMask, emptyKv } from "../runtime/tensors.ts";
import type { DecoderModel, StepOutput } from "./decoder.ts";
import { KvCache, type KvMode } from "./kv_cache.ts";

/** Options of {@linkcode openKv}. */
export interface OpenKvOptions {
  /** Sequences. */
  batch: number;
  /** Positions the generation will reach (prompt + new tokens): the in-place buffer's size. */
  maxLength: number;
  /** Padding tokens at the start of each row. @default all 0 */
  leftPad?: readonly number[];
}

/**
 * One generation's cache behind one call: `run(ids, positions)` runs a step (the prefill
 * first), builds the step's attention mask, feeds the past and keeps what comes back.
 */
export interface KvRunner {
  /** The mode the engine picked for this model and device. */
  mode: KvMode;
  /** Fixed bytes the cache reserves (`in_place`); 0 where it grows each step. */
  reservedBytes: number;
  /**
   * Runs one step.
   *
   * @param inputIds `[batch, S]` int64.
   * @param positions `[batch, S]` int64.
   * @param allPositions Logits of every position of the step, not only the last (scoring a
   * prompt). @default false
   * @returns The step's logits (present tensors are kept or written by the runner).
   */
  run(inputIds: ort.Tensor, positions: ort.Tensor, allPositions?: boolean): Promise<StepOutput>;
  /** Releases the tensors it holds. */
  dispose(): void;
}

/**
 * Opens the KV cache of one generation in the mode the model supports: `in_place` for graphs with
 * `present_new.*` outputs, `device` when `present.*` stay on the GPU, else `copy`.
 *
 * @param model A loaded decoder.
 * @param options Batch, max length, left padding.
 * @returns A runner.
 * @example
 * ```ts ignore
 * const kv = openKv(model, { batch: 1, maxLength: prompt.length + 8 });
 * const out = await kv.run(int64Tensor([prompt]), positionIds(1, prompt.length, 0));
 * ```
 */
export function openKv(model: DecoderModel, options: OpenKvOptions): KvRunner {
  const leftPad = options.leftPad ?? [];
  return model.kvMode === "in_place"
    ? inPlaceRunner(model, options.batch, options.maxLength, leftPad)
    : copyRunner(model, options.batch, options.maxLength, leftPad);
}

function copyRunner(
  model: DecoderModel,
  batch: number,
  maxLength: number,
  leftPad: readonly number[],
): KvRunner {
  // One all-ones mask buffer, viewed at each length (rows are contiguous, so any prefix works).
  const unpadded = leftPad.every((p) => p === 0);
  const ones = unpadded ? new BigInt64Array(batch * maxLength).fill(1n) : null;
  const mask = (length: number): ort.Tensor =>
    ones
      ? new ort.Tensor("int64", ones.subarray(0, batch * length), [batch, length])
      : attentionMask(batch, length, leftPad);
  let past: ort.Tensor[] | null = null;
  let pastLength = 0;
  return {
    mode: model.kvMode,
    reservedBytes: 0,
    async run(inputIds, positions, allPositions = false) {
      const length = pastLength + inputIds.dims[1]!;
      const out = await model.step(inputIds, mask(length), positions, past, true, allPositions);
      for (const tensor of past ?? []) tensor.dispose();
      past = out.present;
      pastLength = length;
      return out;
    },
    dispose() {
      for (const tensor of past ?? []) tensor.dispose();
      past = null;
    },
  };
}

function inPlaceRunner(
  model: DecoderModel,
  batch: number,
  maxLength: number,
  leftPad: readonly number[],
): KvRunner {
  const cache = new KvCache({
    layers: model.numLayers,
    batch,
    kvHeads: model.numKvHeads,
    headDim: model.headDim,
    maxLength,
    dtype: model.kvDtype,
  }, leftPad);
  const empty = () =>
    Array.from(
      { length: model.numLayers * 2 },
      () => emptyKv(model.kvDtype, batch, model.numKvHeads, model.headDim),
    );
  return {
    mode: "in_place",
    reservedBytes: cache.bytes,
    async run(inputIds, positions, allPositions = false) {
      const steps = inputIds.dims[1]!;
      // The first step (the prompt) attends to an empty past rather than to a buffer of
      // unwritten slots: no wasted scores over maxLength in the prefill.
      const first = cache.length === 0;
      const out = await model.step(
        inputIds,
        first ? attentionMask(batch, steps, leftPad) : cache.mask(steps),
        positions,
        first ? empty() : cache.past(),
        true,
        allPositions,
      );
      cache.append(out.present);
      for (const tensor of out.present) tensor.dispose();
      return { logits: out.logits, present: [] };
    },
    dispose() {},
  };
}
