/**
 * Pre-flight checks of a sweep spec against what can be known without loading a model: a
 * context length plus the new tokens must fit the model's positions (presets and local dirs;
 * Hub ids are checked when their cells run).
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { presetConfig } from "../model/presets.ts";
import { checkpointMaxPositions, isCheckpointDir } from "../model/ensure.ts";
import type { SweepSpec } from "./spec.ts";

/**
 * The maximum positions of a model reference, when known without the network.
 *
 * @param ref `preset:NAME[@seed][+ATTENTION]`, a local directory, or a Hub id.
 * @returns `max_position_embeddings`, or null when it cannot be read here.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { knownMaxPositions } from "./preflight.ts";
 * assert(knownMaxPositions("preset:tiny") === 512);
 * ```
 */
export function knownMaxPositions(ref: string): number | null {
  if (ref.startsWith("preset:")) {
    return presetConfig(ref.slice("preset:".length).split(/[@+]/)[0]!).max_position_embeddings;
  }
  if (isCheckpointDir(ref)) return checkpointMaxPositions(ref); // converted on first use
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(ref, "config.json")));
    const max = config.max_position_embeddings;
    return typeof max === "number" ? max : null;
  } catch {
    return null;
  }
}

/**
 * Checks the spec against its models before anything runs or is written: a model path that does
 * not exist, a context length plus `max_new_tokens` or a perplexity window that does not fit the
 * positions of a model whose size is known.
 *
 * @param spec A validated spec.
 * @param source File name for the message.
 * @throws {TypeError} naming the JSON path, e.g. `$.context_lengths[4]`.
 */
export function checkContexts(spec: SweepSpec, source = "sweep spec"): void {
  for (const [m, model] of spec.models.entries()) {
    const missing = missingModelPath(model);
    if (missing !== null) {
      throw new TypeError(`Invalid ${source}: $.models[${m}] ('${model}') ${missing}`);
    }
    const max = knownMaxPositions(model);
    if (max === null) continue;
    if (spec.perplexity !== null && spec.perplexity.window > max) {
      throw new TypeError(
        `Invalid ${source}: $.perplexity.window (${spec.perplexity.window}) exceeds the ${max} ` +
          `positions of $.models[${m}] (${model})`,
      );
    }
    for (const [i, ctx] of spec.context_lengths.entries()) {
      if (ctx + spec.max_new_tokens > max) {
        throw new TypeError(
          `Invalid ${source}: $.context_lengths[${i}] (${ctx}) + $.max_new_tokens ` +
            `(${spec.max_new_tokens}) exceeds the ${max} positions of $.models[${m}] (${model})`,
        );
      }
    }
  }
}

/**
 * Why a model reference that names a local path cannot be used, or `null` (a preset, a Hub id
 * `owner/name`, or an existing directory). A path is never fetched from the Hub.
 *
 * @param ref The model reference.
 * @returns `not found: …` / `is a file, …`, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { missingModelPath } from "./preflight.ts";
 * assert.match(missingModelPath("/nonexistent/m")!, /not found/);
 * assert.equal(missingModelPath("owner/name"), null);
 * assert.equal(missingModelPath("preset:tiny"), null);
 * ```
 */
export function missingModelPath(ref: string): string | null {
  if (ref.startsWith("preset:")) return null;
  let stat: Deno.FileInfo | null = null;
  try {
    stat = Deno.statSync(ref);
  } catch {
    stat = null;
  }
  if (stat?.isDirectory) return null;
  if (stat !== null) return "is a file, not a model directory";
  const path = isAbsolute(ref) || ref.startsWith(".") || !/^[\w.-]+\/[\w.-]+$/.test(ref);
  return path ? "not found: no such directory (a path is never fetched from the Hub)" : null;
}
