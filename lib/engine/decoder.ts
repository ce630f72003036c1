/**
 * A decoder-only ONNX model (Optimum / transformers.js layout) loaded for generation: the session
 * (created only through {@linkcode createSession}), its KV-cache layout read from the session's
 * input metadata, and one `step()` that runs the graph.
 *
 * I/O contract: inputs `input_ids`, `attention_mask`, `position_ids` (optional in the graph),
 * `past_key_values.{i}.key|value` `[batch, kv_heads, past, head_dim]`; outputs `logits`
 * `[batch, seq, vocab]` and `present.{i}.key|value` `[batch, kv_heads, past + seq, head_dim]`
 * (Optimum layout), or, in graphs built with `attention: "in_place"`,
 * `present_new.{i}.key|value` `[batch, kv_heads, seq, head_dim]` (this step's keys and values
 * only; the past is then a fixed-size buffer the engine owns: `kvMode` `in_place`, see
 * kv_cache.ts).
 * Inputs also take `num_logits_to_keep` where the graph has it (Hugging Face's scalar: `0` =
 * every position, `n` = the last `n`).
 *
 * Logits positions: `step()` asks for the last position only when the graph has
 * `num_logits_to_keep` (every model this project builds), so a prefill neither computes nor copies
 * `[batch, seq, vocab]` (67 MB at 2048 tokens for `small`); `forward()` (perplexity) asks for all.
 * A Hub export without the input returns every position; {@linkcode DecoderModel.logitsPositions}
 * says which happened, and the benchmark rows record it.
 *
 * When `session.run` resolves (onnxruntime-node 1.30, read from its `dist/backend.js`): `run()`
 * defers with `setImmediate`, then calls the native `InferenceSession::Run` synchronously on the JS
 * thread; the promise resolves as soon as that call returns, with every output already copied into
 * a fresh JS `ArrayBuffer` (one copy per output, KV cache included; inputs are read in place).
 * So the JS thread is blocked for the whole graph run, and a step's wall time is compute + output
 * copy + one event-loop hop (≈ 8 µs under Deno).
 * - `cpu`: the step time is exactly the CPU compute and the copies. The copy of `present.*` into
 *   fresh JS buffers grows with the context and is no small part of a decode step: on the `small`
 *   preset at 2048 tokens a step took 4.3 ms with `present.*` fetched against 2.0 ms for logits
 *   only. Pre-allocated outputs do not avoid it (the binding's `OrtValueToNapiValue` memcpys every
 *   CPU output, pre-allocated or not, into a new `ArrayBuffer`), so every onnxruntime-node
 *   decoder of the Optimum layout pays it, transformers.js included; `in_place` graphs avoid it
 *   by returning only the new position (docs/engine.md).
 * - `cuda`: the Node binding has no I/O binding for CUDA and no GPU output location, so Run
 *   copies every output device → host before returning (which also waits for the GPU), and the
 *   next Run copies the fed-back KV cache host → device: each decode step moves the whole KV cache
 *   across PCIe twice. The timings include those copies; a C++/Python I/O-bound loop avoids them.
 * - `webgpu`: the engine asks for `present.*` in `"gpu-buffer"` (per output), so the KV cache stays
 *   in GPU buffers and is fed back with no copy; the logits are placed on the CPU, which makes Run
 *   wait for the GPU work, so the step time includes it (not measured here: no GPU this session).
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import type { Device, Dtype } from "../dtypes.ts";
import type { Placement } from "../runtime/placement.ts";
import { createSession, type OnnxSession } from "../runtime/session.ts";
import type { SessionTuning } from "../runtime/session_options.ts";
import {
  attentionMask,
  emptyKv,
  int64Tensor,
  type KvDtype,
  positionIds,
} from "../runtime/tensors.ts";
import { engineModelPath, withoutInitializers } from "../model/input_defaults.ts";
import type { KvMode } from "./kv_cache.ts";
import type { ModelConfig, ResolvedModel } from "./resolve.ts";
import { supportsLeftPadding } from "./_left_padding.ts";
import { builtAttention, builtInputDefaults } from "./_built_config.ts";
import { kvLayout, kvOnGpu } from "./_kv_layout.ts";

/** Options of {@linkcode loadDecoder}. */
export interface LoadDecoderOptions {
  /** Weight dtype (which ONNX file). */
  dtype: Dtype;
  /** Device. @default "cpu" */
  device?: Device;
  /** Intra-op threads (0 = ONNX Runtime's default, one per physical core). @default 0 */
  threads?: number;
  /** GPU ordinal. @default 0 */
  deviceId?: number;
  /** Keep `present.*` on the GPU with webgpu. @default true */
  gpuKvCache?: boolean;
  /**
   * Read where ORT placed the nodes: the session is profiled during one probe run of one token
   * at load (not timed anywhere), then profiling stops. @default true
   */
  probePlacement?: boolean;
  /** Session threading (see runtime/session_options.ts). @default "decode" */
  tuning?: SessionTuning;
}

/** Which positions a generation step's logits cover: `last` (kept by the graph) or `all`. */
export type LogitsPositions = "last" | "all";

/** One graph run's outputs. */
export interface StepOutput {
  /** `[batch, seq, vocab]` logits: `seq` is 1 when only the last position was kept. */
  logits: ort.Tensor;
  /**
   * `present.*` (or, for `in_place` graphs, `present_new.*`) in layer order (key, value, key,
   * …); empty when not fetched.
   */
  present: ort.Tensor[];
}

/** A loaded decoder. */
export interface DecoderModel {
  /** What was resolved. */
  resolved: ResolvedModel;
  /** Typed config. */
  config: ModelConfig;
  /** Weight dtype. */
  dtype: Dtype;
  /** Device asked for. */
  device: Device;
  /** Execution provider asked for (creation fails rather than falling back to another device). */
  executionProvider: string;
  /**
   * Where the probe run's nodes ran (ORT's profile); `null` when `probePlacement` was off or the
   * probe failed (its reason in `placementError`).
   */
  placement: Placement | null;
  /** Nodes that ran on a provider other than `executionProvider`; `null` when not read. */
  nodesOffProvider: number | null;
  /** Why the placement could not be read, or "". */
  placementError: string;
  /** Rows of the logits. */
  vocabSize: number;
  /** Layers with a KV cache (from the session's inputs). */
  numLayers: number;
  /** Element type of the KV cache (from the session's input metadata). */
  kvDtype: KvDtype;
  /** Key/value heads of the cache. */
  numKvHeads: number;
  /** Head width of the cache. */
  headDim: number;
  /** Whether the graph takes `position_ids`. */
  hasPositionIds: boolean;
  /**
   * Positions a generation step's logits cover: `last` when the graph takes `num_logits_to_keep`,
   * `all` for exports without it (the whole `[batch, seq, vocab]` is computed and copied).
   */
  logitsPositions: LogitsPositions;
  /** Whether `present.*` stay on the GPU between steps (webgpu). */
  kvOnDevice: boolean;
  /**
   * How generation keeps the cache with this graph and device: `in_place` (the graph has
   * `present_new.*` outputs), `device` (`present.*` stay on the GPU), else `copy`.
   */
  kvMode: KvMode;
  /** False for a GroupQueryAttention graph: left-padded batches would decode wrongly. */
  leftPadding?: boolean;
  /** The session. */
  session: OnnxSession;
  /** Session creation time, milliseconds. */
  loadMs: number;
  /**
   * Runs the graph once.
   *
   * @param inputIds `[batch, seq]` int64.
   * @param mask `[batch, past + seq]` int64.
   * @param positions `[batch, seq]` int64.
   * @param past `past_key_values.*` in layer order, or `null` for an empty past.
   * @param fetchPresent Whether to return `present.*`.
   * @param allPositions Logits of every position even when the graph can keep the last only
   * (scoring). @default false
   */
  step(
    inputIds: ort.Tensor,
    mask: ort.Tensor,
    positions: ort.Tensor,
    past: readonly ort.Tensor[] | null,
    fetchPresent: boolean,
    allPositions?: boolean,
  ): Promise<StepOutput>;
  /**
   * Logits `[batch, seq, vocab]` of equal-length rows with an empty past (perplexity, tests).
   *
   * @param rows Token ids per row, all the same length (left-padded by the caller).
   * @param options `leftPad`: padding tokens per row (masked, positions from 0 after them).
   */
  forward(
    rows: readonly (readonly number[])[],
    options?: { leftPad?: readonly number[] },
  ): Promise<ort.Tensor>;
  /** Releases the session. */
  dispose(): Promise<void>;
}

/** Hugging Face's input name (see the module doc). */
const NUM_LOGITS_TO_KEEP = "num_logits_to_keep";

/**
 * Loads a decoder's ONNX file for a dtype on a device.
 *
 * @param resolved A resolved model (see `resolveModel`).
 * @param options Dtype, device, threads.
 * @returns The decoder.
 * @throws {RangeError} listing the available dtypes when the model lacks `dtype`; `TypeError`
 * when the graph does not have the decoder I/O.
 * @example
 * ```ts ignore
 * import { loadDecoder, resolveModel } from "./mod.ts";
 * const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32" });
 * console.log(model.executionProvider, model.kvDtype);
 * await model.dispose();
 * ```
 */
export async function loadDecoder(
  resolved: ResolvedModel,
  options: LoadDecoderOptions,
): Promise<DecoderModel> {
  const device = options.device ?? "cpu";
  const path = resolved.onnxPath(options.dtype);
  // An in_place graph has no present.* to keep on the GPU: its cache is a buffer in JS memory.
  const kvOnDevice = device === "webgpu" && (options.gpuKvCache ?? true) &&
    builtAttention(resolved.dir) !== "in_place";
  const probe = options.probePlacement ?? true;
  // Inputs with a default inside the graph become required inputs of the engine's session, so it
  // can set them (onnxruntime-node cannot override a default): lib/model/input_defaults.ts.
  const defaults = builtInputDefaults(resolved.dir);
  // A sibling file written once, else (an unwritable folder) the patched bytes from memory.
  const enginePath = await engineModelPath(path, defaults).catch((error) => {
    if (error instanceof SyntaxError) throw error; // not an ONNX model: say so, naming the file
    return null;
  });
  const session = await createSession(enginePath ?? path, {
    ...(enginePath === null
      ? { modelBytes: withoutInitializers(await Deno.readFile(path), defaults) }
      : {}),
    profilePlacement: probe,
    device,
    intraOpNumThreads: options.threads ?? 0,
    deviceId: options.deviceId ?? 0,
    ...(options.tuning !== undefined ? { tuning: options.tuning } : {}),
    ...(kvOnDevice ? { preferredOutputLocation: kvOnGpu(resolved.config.numLayers) } : {}),
  });
  const layout = kvLayout(session, resolved.config);
  const { config } = resolved;
  const pastNames = layout.pastNames;
  const inPlace = session.outputNames.some((n) => n.startsWith("present_new."));
  const presentPrefix = inPlace ? "present_new." : "present.";
  const presentNames = pastNames.map((n) => n.replace("past_key_values.", presentPrefix));
  for (const name of ["input_ids", "attention_mask"]) {
    if (!session.inputNames.includes(name)) {
      throw new TypeError(`Cannot load decoder '${path}': the graph has no '${name}' input`);
    }
  }
  for (const name of ["logits", ...presentNames]) {
    if (!session.outputNames.includes(name)) {
      throw new TypeError(`Cannot load decoder '${path}': the graph has no '${name}' output`);
    }
  }
  const hasPositionIds = session.inputNames.includes("position_ids");
  const canKeepLast = session.inputNames.includes(NUM_LOGITS_TO_KEEP);
  const keepLast = new ort.Tensor("int64", BigInt64Array.of(1n), []);
  const keepAll = new ort.Tensor("int64", BigInt64Array.of(0n), []);
  const logitsOnly = ["logits"];
  const allOutputs = ["logits", ...presentNames];
  const empty = (batch: number) =>
    pastNames.map(() => emptyKv(layout.kvDtype, batch, layout.numKvHeads, layout.headDim));

  const step: DecoderModel["step"] = async (
    inputIds,
    mask,
    positions,
    past,
    fetchPresent,
    allPositions = false,
  ) => {
    const feeds: Record<string, ort.Tensor> = { input_ids: inputIds, attention_mask: mask };
    if (hasPositionIds) feeds.position_ids = positions;
    if (canKeepLast) feeds[NUM_LOGITS_TO_KEEP] = allPositions ? keepAll : keepLast;
    const pastTensors = past ?? empty(inputIds.dims[0]!);
    for (let i = 0; i < pastNames.length; i++) feeds[pastNames[i]!] = pastTensors[i]!;
    const out = await session.session.run(feeds, fetchPresent ? allOutputs : logitsOnly);
    const present: ort.Tensor[] = [];
    if (fetchPresent) { for (const name of presentNames) present.push(out[name]!); }
    return { logits: out.logits!, present };
  };

  let placement: Placement | null = null;
  let placementError = "";
  if (probe) {
    try {
      const one = int64Tensor([[0]]);
      const out = await step(one, attentionMask(1, 1, []), positionIds(1, 1, 0, []), null, false);
      out.logits.dispose();
      placement = await session.placement();
    } catch (error) {
      placementError = `placement not read: ${(error as Error).message.split("\n")[0]}`;
    }
  }

  return {
    resolved,
    config,
    dtype: options.dtype,
    device,
    executionProvider: session.executionProvider,
    placement,
    nodesOffProvider: placement?.offProvider ?? null,
    placementError,
    vocabSize: config.vocabSize,
    numLayers: pastNames.length / 2,
    kvDtype: layout.kvDtype,
    numKvHeads: layout.numKvHeads,
    headDim: layout.headDim,
    hasPositionIds,
    logitsPositions: canKeepLast ? "last" : "all",
    leftPadding: supportsLeftPadding(path, resolved.dir),
    kvOnDevice,
    kvMode: inPlace ? "in_place" : kvOnDevice ? "device" : "copy",
    session,
    loadMs: session.createMs,
    step,
    async forward(rows, forwardOptions = {}) {
      const batch = rows.length;
      const seq = rows[0]?.length ?? 0;
      if (batch === 0 || seq === 0) {
        throw new RangeError(`forward: 'rows' must be non-empty, got ${batch} rows of ${seq} ids`);
      }
      const leftPad = forwardOptions.leftPad ?? [];
      const out = await step(
        int64Tensor(rows),
        attentionMask(batch, seq, leftPad),
        positionIds(batch, seq, 0, leftPad),
        null,
        false,
        true,
      );
      return out.logits.location === "cpu" ? out.logits : await downloaded(out.logits);
    },
    async dispose() {
      await session.session.release();
    },
  };
}

async function downloaded(tensor: ort.Tensor): Promise<ort.Tensor> {
  const data = await tensor.getData(true);
  return new ort.Tensor(tensor.type as "float32", data as Float32Array, tensor.dims);
}
