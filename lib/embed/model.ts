/**
 * Encoder model references: `preset:NAME[@seed]` builds an encoder preset on demand
 * (lib/embed/build.ts), anything else — a local directory in Hub layout or a Hub
 * feature-extraction model id — goes through the project's resolution (lib/engine/resolve.ts),
 * which fetches Hub files when online and says in one line when it cannot.
 *
 * @module
 */
import type { Dtype } from "../dtypes.ts";
import { type ResolvedModel, resolveModel } from "../engine/resolve.ts";
import { isQuantizeDtype } from "../quantize/mod.ts";
import { ensureEncoder } from "./build.ts";

/** An encoder ready to benchmark. */
export interface ResolvedEncoder {
  /** The resolved model: directory, tokenizer, the dtypes it offers, file paths. */
  model: ResolvedModel;
  /** Longest sequence the model takes (`max_position_embeddings`). */
  maxPositions: number;
  /** Width of the hidden state (`hidden_size`), or null when the config lacks it. */
  hiddenSize: number | null;
}

const PRESET_PREFIX = "preset:";

/**
 * Resolves an encoder reference, fetching or building the requested dtypes where it can (a dtype
 * the model lacks is left out of `availableDtypes`, not an error: the benchmark records it).
 *
 * @param ref `preset:minilm-l6[@seed]`, a local directory, or a Hub id.
 * @param dtypes Dtypes wanted.
 * @returns The encoder.
 * @throws {RangeError} for a malformed reference or an unknown preset; `Error` (one line) for a
 * Hub id that needs the network and has none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveEncoder } from "./model.ts";
 * const { model, maxPositions } = await resolveEncoder("preset:minilm-tiny", ["fp32"]);
 * assert(model.availableDtypes.includes("fp32") && maxPositions === 128);
 * ```
 */
export async function resolveEncoder(
  ref: string,
  dtypes: readonly Dtype[],
): Promise<ResolvedEncoder> {
  let target = ref;
  if (ref.startsWith(PRESET_PREFIX)) {
    const [name, seedText] = ref.slice(PRESET_PREFIX.length).split("@") as [string, string?];
    const seed = seedText === undefined ? undefined : Number(seedText);
    if (name === "" || (seed !== undefined && !Number.isSafeInteger(seed))) {
      throw new RangeError(`Cannot resolve model: '${ref}' is not preset:NAME or preset:NAME@SEED`);
    }
    target = await ensureEncoder(name, {
      ...(seed === undefined ? {} : { seed }),
      dtypes: dtypes.filter((d) => d === "fp32" || isQuantizeDtype(d)),
    });
  }
  let first: ResolvedModel;
  try {
    first = await resolveModel(target);
  } catch (error) {
    // The resolver suggests the decoder demo preset; an encoder's is minilm-l6.
    if (error instanceof Error && !(error instanceof RangeError)) {
      throw new Error(error.message.replace("preset:small", "preset:minilm-l6"));
    }
    throw error;
  }
  const fetchable = dtypes.filter((d) => first.availableDtypes.includes(d));
  const model = fetchable.length > 0 && first.source === "hub"
    ? await resolveModel(target, { dtypes: fetchable })
    : first;
  const raw = JSON.parse(await Deno.readTextFile(`${model.dir}/config.json`));
  return {
    model: { ...model, ref },
    maxPositions: model.config.maxPositions,
    hiddenSize: Number.isInteger(raw.hidden_size) ? raw.hidden_size : null,
  };
}
