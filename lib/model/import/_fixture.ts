/**
 * Test fixtures of the importer: small Hugging Face checkpoints of each architecture written from
 * scratch (config.json, tokenizer files, safetensors in F32 / F16 / BF16, optionally sharded).
 * Private to tests.
 *
 * @module
 */
import { join } from "node:path";
import { type LlamaConfig } from "../presets.ts";
import { type SafetensorsDtype, writeSafetensors } from "../safetensors.ts";
import { tokenizerFiles, trainTokenizer } from "../tokenizer.ts";
import { parameterSpecs, weightChunks } from "../weights.ts";

/** What to write. */
export interface FixtureOptions {
  /** `architectures[0]`. */
  architecture: "LlamaForCausalLM" | "MistralForCausalLM" | "Qwen2ForCausalLM";
  /** Tensor element type. */
  dtype: SafetensorsDtype;
  /** Shards (1: a single model.safetensors). @default 1 */
  shards?: number;
  /** Extra or overriding config.json fields. @default {} */
  config?: Record<string, unknown>;
  /** Weight seed. @default 1 */
  seed?: number;
}

/** The dimensions every fixture shares (hidden 64, 2 layers, 4 heads / 2 KV heads, vocab 320). */
export const FIXTURE_DIMS = Object.freeze({
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 320,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-5,
});

/**
 * Writes a checkpoint directory and returns it.
 *
 * @param dir Where (created).
 * @param options Architecture, element type, shards, config overrides.
 * @returns `dir`.
 */
export function writeCheckpoint(dir: string, options: FixtureOptions): string {
  Deno.mkdirSync(dir, { recursive: true });
  const raw: Record<string, unknown> = {
    architectures: [options.architecture],
    model_type:
      { LlamaForCausalLM: "llama", MistralForCausalLM: "mistral", Qwen2ForCausalLM: "qwen2" }[
        options.architecture
      ],
    ...FIXTURE_DIMS,
    hidden_act: "silu",
    bos_token_id: 318,
    eos_token_id: 319,
    tie_word_embeddings: false,
    torch_dtype: { F32: "float32", F16: "float16", BF16: "bfloat16" }[options.dtype],
    ...(options.config ?? {}),
  };
  Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify(raw, null, 2));
  const tokenizer = trainTokenizer(FIXTURE_DIMS.vocab_size);
  const { tokenizerJson, tokenizerConfig } = tokenizerFiles(tokenizer, { modelMaxLength: 128 });
  Deno.writeTextFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  Deno.writeTextFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig));
  const dims = { ...FIXTURE_DIMS, ...(options.config ?? {}) } as typeof FIXTURE_DIMS;
  const config: LlamaConfig = {
    hidden_size: dims.hidden_size,
    intermediate_size: dims.intermediate_size,
    num_hidden_layers: dims.num_hidden_layers,
    num_attention_heads: dims.num_attention_heads,
    num_key_value_heads: dims.num_key_value_heads,
    vocab_size: dims.vocab_size,
    max_position_embeddings: dims.max_position_embeddings,
    rms_norm_eps: dims.rms_norm_eps,
    head_dim: dims.hidden_size / dims.num_attention_heads,
    tokenizer_vocab_size: dims.vocab_size,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: raw.tie_word_embeddings === true,
    initializer_range: 0.02,
    ...(options.architecture === "Qwen2ForCausalLM"
      ? { attention_bias: "qkv" as const }
      : raw.attention_bias === true
      ? { attention_bias: true }
      : {}),
  };
  // Norm weights around 1 (not exactly 1) and larger projections, so every tensor matters.
  const entries = parameterSpecs(config).map((spec) => ({
    name: spec.name,
    shape: spec.shape,
    dtype: options.dtype,
    chunks: () =>
      [...weightChunks({ ...spec, init: "normal" }, { seed: options.seed ?? 1, std: 0.15 })].map(
        (c) => spec.init === "ones" ? c.map((v) => 1 + v) : c,
      ),
  }));
  const shards = options.shards ?? 1;
  if (shards === 1) {
    writeSafetensors(join(dir, "model.safetensors"), entries);
    return dir;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(entries.length / shards);
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${
      String(shards).padStart(5, "0")
    }.safetensors`;
    const part = entries.slice(s * per, (s + 1) * per);
    writeSafetensors(join(dir, file), part);
    for (const e of part) weightMap[e.name] = file;
  }
  Deno.writeTextFileSync(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
  );
  return dir;
}
