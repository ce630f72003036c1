/**
 * The model family: one frozen table of Llama-architecture configurations, from a test-sized
 * `tiny` to the exact shapes of public 1B–8B checkpoints (random weights).
 *
 * @module
 */

/** Llama 3's long-context RoPE scaling (`rope_scaling` with `rope_type: "llama3"`). */
export interface Llama3RopeScaling {
  /** Always `llama3`. */
  rope_type: "llama3";
  /** Divisor of the low frequencies. */
  factor: number;
  /** Wavelengths above `original / low_freq_factor` are fully scaled. */
  low_freq_factor: number;
  /** Wavelengths below `original / high_freq_factor` are kept. */
  high_freq_factor: number;
  /** Context length of pre-training. */
  original_max_position_embeddings: number;
}

/** A Llama-architecture configuration, in Hugging Face `config.json` field names. */
export interface LlamaConfig {
  /** Width of the residual stream. */
  hidden_size: number;
  /** Width of the SwiGLU MLP. */
  intermediate_size: number;
  /** Decoder layers. */
  num_hidden_layers: number;
  /** Query heads. */
  num_attention_heads: number;
  /** Key/value heads (grouped-query attention); divides `num_attention_heads`. */
  num_key_value_heads: number;
  /** Width of one head. */
  head_dim: number;
  /** Rows of the embedding and of the LM head (may exceed the tokenizer's vocabulary). */
  vocab_size: number;
  /** Tokens the tokenizer learns (byte tokens + merges + specials), at most `vocab_size`. */
  tokenizer_vocab_size: number;
  /** RoPE base. */
  rope_theta: number;
  /** RoPE scaling, or `null` for plain RoPE. */
  rope_scaling: Readonly<Llama3RopeScaling> | null;
  /** RMSNorm epsilon. */
  rms_norm_eps: number;
  /** Longest sequence (size of the RoPE caches). */
  max_position_embeddings: number;
  /** Whether the LM head shares the embedding matrix. */
  tie_word_embeddings: boolean;
  /** Standard deviation of the normal weight initialisation. */
  initializer_range: number;
  /**
   * Biases of the attention projections: `true` on q/k/v/o (Llama's `attention_bias`), `"qkv"`
   * on q/k/v only (Qwen2). @default false
   */
  attention_bias?: boolean | "qkv";
}

/**
 * Every preset, by name. `tiny` builds in well under a second for tests; `small` is the offline
 * demo (~12.6M parameters, 4096 positions); the others have the exact dimensions of the public
 * configs (Llama-3.2-1B, Meta-Llama-3-8B, Mistral-7B-v0.3) with random weights.
 */
export const PRESETS: Readonly<Record<string, Readonly<LlamaConfig>>> = Object.freeze({
  tiny: Object.freeze({
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    vocab_size: 512,
    tokenizer_vocab_size: 512,
    rope_theta: 10000,
    rope_scaling: null,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 512,
    tie_word_embeddings: true,
    initializer_range: 0.02,
  }),
  small: Object.freeze({
    hidden_size: 384,
    intermediate_size: 1024,
    num_hidden_layers: 6,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    head_dim: 64,
    vocab_size: 8192,
    tokenizer_vocab_size: 8192,
    rope_theta: 500000,
    rope_scaling: null,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 4096,
    tie_word_embeddings: true,
    initializer_range: 0.02,
  }),
  "llama-3.2-1b": Object.freeze({
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    vocab_size: 128256,
    tokenizer_vocab_size: 8192,
    rope_theta: 500000,
    rope_scaling: Object.freeze({
      rope_type: "llama3",
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    }),
    rms_norm_eps: 1e-5,
    max_position_embeddings: 131072,
    tie_word_embeddings: true,
    initializer_range: 0.02,
  }),
  "llama-3-8b": Object.freeze({
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    vocab_size: 128256,
    tokenizer_vocab_size: 8192,
    rope_theta: 500000,
    rope_scaling: null,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 8192,
    tie_word_embeddings: false,
    initializer_range: 0.02,
  }),
  "mistral-7b": Object.freeze({
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    vocab_size: 32768,
    tokenizer_vocab_size: 8192,
    rope_theta: 1000000,
    rope_scaling: null,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 32768,
    tie_word_embeddings: false,
    initializer_range: 0.02,
  }),
});

/** In-features of every MatMul must be a multiple of this (the q4 block size). */
export const IN_FEATURES_MULTIPLE = 32;

/**
 * Looks a preset up by name.
 *
 * @param name A key of {@linkcode PRESETS}.
 * @returns The frozen configuration.
 * @throws {RangeError} naming the known presets when `name` is unknown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { presetConfig } from "./presets.ts";
 * assert(presetConfig("tiny").num_hidden_layers === 2);
 * ```
 */
export function presetConfig(name: string): Readonly<LlamaConfig> {
  const config = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (config === undefined) {
    throw new RangeError(
      `Cannot build model: 'preset' must be one of ${
        Object.keys(PRESETS).join(", ")
      }, got '${name}'`,
    );
  }
  return config;
}

/**
 * Checks that a configuration's dimensions fit together: heads divide evenly, every MatMul's
 * in-features is a multiple of 32, the tokenizer fits in the vocabulary.
 *
 * @param config The configuration.
 * @throws {RangeError} naming the first offending field and its value.
 * @example
 * ```ts
 * import { PRESETS, validateConfig } from "./presets.ts";
 * validateConfig(PRESETS.tiny!);
 * ```
 */
export function validateConfig(config: Readonly<LlamaConfig>): void {
  const fail = (message: string): never => {
    throw new RangeError(`Cannot build model: ${message}`);
  };
  const ints: (keyof LlamaConfig)[] = [
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "tokenizer_vocab_size",
    "max_position_embeddings",
  ];
  for (const key of ints) {
    const value = config[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
      fail(`'${key}' must be a positive integer, got ${value}`);
    }
  }
  const {
    hidden_size: hidden,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
  } = config;
  if (hidden % heads !== 0) {
    fail(`'hidden_size' (${hidden}) must be divisible by 'num_attention_heads' (${heads})`);
  }
  if (heads % kvHeads !== 0) {
    fail(
      `'num_attention_heads' (${heads}) must be divisible by 'num_key_value_heads' (${kvHeads})`,
    );
  }
  if (headDim % 2 !== 0) fail(`'head_dim' must be even (RoPE rotates pairs), got ${headDim}`);
  const inFeatures: [string, number][] = [
    ["hidden_size", hidden],
    ["intermediate_size", config.intermediate_size],
    ["num_attention_heads * head_dim", heads * headDim],
  ];
  for (const [field, value] of inFeatures) {
    if (value % IN_FEATURES_MULTIPLE !== 0) {
      fail(`'${field}' must be divisible by ${IN_FEATURES_MULTIPLE} (q4 block size), got ${value}`);
    }
  }
  if (config.tokenizer_vocab_size > config.vocab_size) {
    fail(
      `'tokenizer_vocab_size' (${config.tokenizer_vocab_size}) must not exceed 'vocab_size' ` +
        `(${config.vocab_size})`,
    );
  }
  if (config.tokenizer_vocab_size < 258) {
    fail(
      `'tokenizer_vocab_size' must be at least 258 (256 bytes + 2 specials), got ${config.tokenizer_vocab_size}`,
    );
  }
  if (!(config.rope_theta > 0)) fail(`'rope_theta' must be positive, got ${config.rope_theta}`);
  const scaling = config.rope_scaling;
  if (scaling !== null) {
    if (scaling.rope_type !== "llama3") {
      fail(`'rope_scaling.rope_type' must be 'llama3', got '${scaling.rope_type}'`);
    }
    if (!(scaling.factor > 0) || !(scaling.high_freq_factor > scaling.low_freq_factor)) {
      fail(
        `'rope_scaling' needs factor > 0 and high_freq_factor > low_freq_factor, got ` +
          JSON.stringify(scaling),
      );
    }
  }
  if (!(config.rms_norm_eps > 0)) {
    fail(`'rms_norm_eps' must be positive, got ${config.rms_norm_eps}`);
  }
  if (!(config.initializer_range > 0)) {
    fail(`'initializer_range' must be positive, got ${config.initializer_range}`);
  }
}

/**
 * Number of parameters of a configuration (the tied LM head counted once).
 *
 * @param config The configuration.
 * @returns The parameter count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterCount, PRESETS } from "./presets.ts";
 * assert(parameterCount(PRESETS["llama-3-8b"]!) > 8e9);
 * ```
 */
export function parameterCount(config: Readonly<LlamaConfig>): number {
  const h = config.hidden_size;
  const q = config.num_attention_heads * config.head_dim;
  const kv = config.num_key_value_heads * config.head_dim;
  const biases = config.attention_bias === true
    ? q + 2 * kv + h
    : config.attention_bias === "qkv"
    ? q + 2 * kv
    : 0;
  const layer = 2 * h + h * q + 2 * h * kv + q * h + 3 * h * config.intermediate_size + biases;
  const embed = config.vocab_size * h;
  return embed * (config.tie_word_embeddings ? 1 : 2) + config.num_hidden_layers * layer + h;
}
