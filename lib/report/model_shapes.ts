/**
 * The shapes of the measured models (parameters, layers, KV heads, head dimension), read from a
 * `preset:` name or a local model directory's `config.json`, so the report can print the model's
 * weight and KV-cache bytes beside the measured memory. A model whose configuration cannot be
 * read is left out (its byte counts print as "—").
 *
 * @module
 */
import { join } from "node:path";
import type { ModelShape } from "../analysis/mod.ts";
import { parameterCount, presetConfig } from "../model/presets.ts";
import { parseCheckpointConfig } from "../model/import/checkpoint_config.ts";
import type { LlamaConfig } from "../model/presets.ts";

/**
 * The shape of a model configuration.
 *
 * @param config A Llama-family configuration.
 * @returns Parameters, layers, KV heads and head dimension.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeOf } from "./model_shapes.ts";
 * import { presetConfig } from "../model/presets.ts";
 * assert.equal(shapeOf(presetConfig("tiny")).num_hidden_layers, 2);
 * ```
 */
export function shapeOf(config: Readonly<LlamaConfig>): ModelShape {
  return {
    parameters: parameterCount(config),
    num_hidden_layers: config.num_hidden_layers,
    num_key_value_heads: config.num_key_value_heads,
    head_dim: config.head_dim,
  };
}

/**
 * Reads the shape of each model reference that has one: `preset:NAME` from the presets, a
 * directory from its `config.json` (relative to `root`).
 *
 * @param models Model references as the results record them.
 * @param root Directory relative references are resolved against. @default "."
 * @returns Shapes by model reference.
 */
export async function loadModelShapes(
  models: readonly string[],
  root = ".",
): Promise<Record<string, ModelShape>> {
  const out: Record<string, ModelShape> = {};
  for (const model of new Set(models)) {
    try {
      if (model.startsWith("preset:")) {
        out[model] = shapeOf(presetConfig(model.slice("preset:".length)));
        continue;
      }
      const path = join(model.startsWith("/") ? "" : root, model, "config.json");
      const raw = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
      out[model] = shapeOf(parseCheckpointConfig(raw, { source: path }).config);
    } catch {
      // Not readable here (a Hub id, a moved directory, another architecture): no byte counts.
    }
  }
  return out;
}
