/**
 * The `config.json` the builder writes (Hugging Face Llama fields, transformers.js settings, a
 * `turbo_inference` provenance block) and the external-data chunk counts it declares.
 *
 * @module
 */
import { INPUT_DEFAULTS } from "./input_defaults.ts";
import type { LlamaConfig } from "./presets.ts";

/** Version of the builder, recorded in `config.json` (bump when the output changes). */
export const BUILDER_VERSION = "1.6.0"; // 1.3.0: RotaryEmbedding; accuracy level 4, q8 MatMulNBits, quantisation metadata; 1.4.0: num_logits_to_keep; 1.5.0: in_place graph by default, num_logits_to_keep defaults to 0 in the graph; 1.6.0: in_place attention grouped 5-D (single-row products over the cache)

/**
 * Counts external-data chunks per ONNX file in a folder (`model.onnx_data`, `_data_1`, …), as
 * transformers.js's `use_external_data_format` expects them.
 *
 * @param onnxDir The `onnx/` folder.
 * @returns File name → chunk count, only for files that have external data.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { externalDataFiles } from "./config_json.ts";
 * assert(Object.keys(externalDataFiles(Deno.makeTempDirSync())).length === 0);
 * ```
 */
export function externalDataFiles(onnxDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const names = [...Deno.readDirSync(onnxDir)].filter((e) => e.isFile).map((e) => e.name);
  for (const name of names) {
    if (!name.endsWith(".onnx")) continue;
    const chunks = names.filter((n) => n === `${name}_data` || n.startsWith(`${name}_data_`));
    if (chunks.length > 0) out[name] = chunks.length;
  }
  return out;
}

/**
 * The `config.json` of a model: Hugging Face Llama fields, transformers.js settings and a
 * `turbo_inference` provenance block.
 *
 * @param config The configuration.
 * @param extra Preset, seed, attention, special ids, external-data files.
 * @returns The JSON object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configJson } from "./config_json.ts";
 * import { PRESETS } from "./presets.ts";
 * const json = configJson({ ...PRESETS.tiny! }, {
 *   preset: "tiny", seed: 42, attention: "standard", bos: 510, eos: 511, externalDataFiles: {},
 * });
 * assert(json.model_type === "llama");
 * ```
 */
export function configJson(
  config: LlamaConfig,
  extra: {
    preset: string;
    seed: number;
    attention: string;
    bos: number;
    eos: number;
    externalDataFiles: Record<string, number>;
  },
): Record<string, unknown> {
  const { tokenizer_vocab_size, ...hf } = config;
  const transformersJs: Record<string, unknown> = {
    kv_cache_dtype: { q4f16: "float16", fp16: "float16" },
  };
  if (Object.keys(extra.externalDataFiles).length > 0) {
    transformersJs.use_external_data_format = extra.externalDataFiles;
  }
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    ...hf,
    hidden_act: "silu",
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    pretraining_tp: 1,
    bos_token_id: extra.bos,
    eos_token_id: extra.eos,
    pad_token_id: extra.eos,
    torch_dtype: "float32",
    use_cache: true,
    "transformers.js_config": transformersJs,
    turbo_inference: {
      // Seeded random initialisation: speed and dtype agreement only, no language quality.
      weights: "random",
      preset: extra.preset,
      seed: extra.seed,
      builder_version: BUILDER_VERSION,
      tokenizer_vocab_size,
      attention: extra.attention,
      // Graph inputs with a default inside the graph (the engine loads them as required inputs).
      input_defaults: Object.keys(INPUT_DEFAULTS),
    },
  };
}
