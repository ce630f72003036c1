/**
 * A decoder session's KV-cache layout (the `past_key_values.*` inputs, their dtype and shape, read
 * from the session's input metadata) and where its outputs are placed on webgpu.
 *
 * @module
 */
import type { OnnxSession, OutputLocation } from "../runtime/session.ts";
import type { KvDtype } from "../runtime/tensors.ts";
import type { ModelConfig } from "./resolve.ts";

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

/** Output locations for webgpu: `present.*` stay on the GPU, the logits come to the CPU. */
export function kvOnGpu(layers: number): Record<string, OutputLocation> {
  const out: Record<string, OutputLocation> = { logits: "cpu" };
  for (let i = 0; i < layers; i++) {
    out[`present.${i}.key`] = "gpu-buffer";
    out[`present.${i}.value`] = "gpu-buffer";
  }
  return out;
}

/** The KV cache a decoder graph takes, as {@linkcode kvLayout} reads it. */
export interface KvLayout {
  /** `past_key_values.{i}.key|value` input names in layer order (key, value, key, …). */
  pastNames: string[];
  /** Element type of the cache. */
  kvDtype: KvDtype;
  /** Key/value heads (from the input's shape, else the config). */
  numKvHeads: number;
  /** Head width (from the input's shape, else the config). */
  headDim: number;
}

/**
 * Reads the KV-cache layout from a decoder session's inputs and their metadata.
 *
 * @param session The session.
 * @param config The model's config: heads and head width where the graph leaves them symbolic.
 * @returns The past input names in layer order, the cache dtype and shape.
 * @throws {TypeError} naming the model when it has no (or an odd number of) past inputs, or a
 * cache type other than float32/float16.
 */
export function kvLayout(session: OnnxSession, config: ModelConfig): KvLayout {
  const pastNames = session.inputNames.filter((n) => PAST.test(n));
  pastNames.sort((a, b) => {
    const [, la, ka] = PAST.exec(a)!;
    const [, lb, kb] = PAST.exec(b)!;
    return Number(la) - Number(lb) || (ka === "key" ? -1 : 1) - (kb === "key" ? -1 : 1);
  });
  if (pastNames.length === 0 || pastNames.length % 2 !== 0) {
    throw new TypeError(
      `Cannot load decoder '${session.modelPath}': expected past_key_values.{i}.key/value inputs, found ${pastNames.length}`,
    );
  }
  const meta = session.session.inputMetadata.find((m) => m.name === pastNames[0]);
  let kvDtype: KvDtype = "float32";
  let numKvHeads = config.numKvHeads;
  let headDim = config.headDim;
  if (meta && meta.isTensor) {
    if (meta.type === "float16") kvDtype = "float16";
    else if (meta.type !== "float32") {
      throw new TypeError(
        `Cannot load decoder '${session.modelPath}': KV cache type '${meta.type}' is not float32/float16`,
      );
    }
    const [, heads, , dim] = meta.shape;
    if (typeof heads === "number" && heads > 0) numKvHeads = heads;
    if (typeof dim === "number" && dim > 0) headDim = dim;
  }
  return { pastNames, kvDtype, numKvHeads, headDim };
}
