/**
 * The encoder family: BERT-architecture sentence encoders (the `sentence-transformers/
 * all-MiniLM-L6-v2` shape and a test-sized one) and their parameters under Hugging Face
 * `BertModel` names, with the deterministic values of `lib/model/weights.ts`.
 *
 * @module
 */
import type { ParameterSpec } from "../model/weights.ts";

/** A BERT encoder configuration, in Hugging Face `config.json` field names. */
export interface EncoderConfig {
  /** Width of the residual stream. */
  hidden_size: number;
  /** Width of the GELU MLP. */
  intermediate_size: number;
  /** Encoder layers. */
  num_hidden_layers: number;
  /** Attention heads; divides `hidden_size`. */
  num_attention_heads: number;
  /** WordPiece vocabulary size (rows of the word embedding). */
  vocab_size: number;
  /** Rows of the position embedding: the longest sequence. */
  max_position_embeddings: number;
  /** Rows of the token-type (segment) embedding. */
  type_vocab_size: number;
  /** LayerNorm epsilon. */
  layer_norm_eps: number;
  /** Standard deviation of the normal weight initialisation. */
  initializer_range: number;
}

/**
 * Every encoder preset, by name. `minilm-l6` has the exact dimensions of
 * `sentence-transformers/all-MiniLM-L6-v2` (random weights); `minilm-tiny` builds in well under a
 * second for tests.
 */
export const ENCODER_PRESETS: Readonly<Record<string, Readonly<EncoderConfig>>> = Object.freeze({
  "minilm-l6": Object.freeze({
    hidden_size: 384,
    intermediate_size: 1536,
    num_hidden_layers: 6,
    num_attention_heads: 12,
    vocab_size: 30522,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    initializer_range: 0.02,
  }),
  "minilm-tiny": Object.freeze({
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 1024,
    max_position_embeddings: 128,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    initializer_range: 0.02,
  }),
});

/**
 * The configuration of an encoder preset, validated.
 *
 * @param name A key of {@linkcode ENCODER_PRESETS}.
 * @returns A copy of the configuration.
 * @throws {RangeError} naming the known presets for an unknown name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderPresetConfig } from "./presets.ts";
 * assert(encoderPresetConfig("minilm-l6").hidden_size === 384);
 * ```
 */
export function encoderPresetConfig(name: string): EncoderConfig {
  const config = Object.hasOwn(ENCODER_PRESETS, name) ? ENCODER_PRESETS[name] : undefined;
  if (!config) {
    throw new RangeError(
      `Unknown encoder preset '${name}' (known: ${Object.keys(ENCODER_PRESETS).join(", ")})`,
    );
  }
  validateEncoderConfig(config);
  return { ...config };
}

/**
 * Checks that a configuration's dimensions fit together.
 *
 * @param config The configuration.
 * @throws {RangeError} naming the first field that does not fit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENCODER_PRESETS, validateEncoderConfig } from "./presets.ts";
 * assert.throws(
 *   () => validateEncoderConfig({ ...ENCODER_PRESETS["minilm-tiny"]!, num_attention_heads: 5 }),
 *   /num_attention_heads/,
 * );
 * ```
 */
export function validateEncoderConfig(config: Readonly<EncoderConfig>): void {
  const ints = [
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
  ] as const;
  for (const field of ints) {
    const v = config[field];
    if (!Number.isInteger(v) || v <= 0) {
      throw new RangeError(
        `Invalid encoder config: '${field}' must be a positive integer, got ${v}`,
      );
    }
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new RangeError(
      `Invalid encoder config: 'num_attention_heads' (${config.num_attention_heads}) must divide ` +
        `hidden_size (${config.hidden_size})`,
    );
  }
  if (config.vocab_size < 200) {
    throw new RangeError(
      `Invalid encoder config: 'vocab_size' must be >= 200 (specials and characters), got ${config.vocab_size}`,
    );
  }
}

/**
 * The parameters of an encoder in safetensors order, with Hugging Face `BertModel` names (no
 * pooler: sentence-transformers pools the last hidden state itself). Linear weights are torch
 * `[out, in]`. Biases, LayerNorm betas included, are N(0, initializer_range) rather than zero, so
 * a numerics test exercises every bias add; LayerNorm gammas are ones.
 *
 * @param config The configuration.
 * @returns One spec per parameter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENCODER_PRESETS, encoderParameterSpecs } from "./presets.ts";
 * const specs = encoderParameterSpecs(ENCODER_PRESETS["minilm-tiny"]!);
 * assert(specs[0]!.name === "embeddings.word_embeddings.weight");
 * ```
 */
export function encoderParameterSpecs(config: Readonly<EncoderConfig>): ParameterSpec[] {
  const h = config.hidden_size;
  const inter = config.intermediate_size;
  const layerNorm = (prefix: string): ParameterSpec[] => [
    { name: `${prefix}.weight`, shape: [h], init: "ones" },
    { name: `${prefix}.bias`, shape: [h], init: "normal" },
  ];
  const linear = (prefix: string, out: number, inp: number): ParameterSpec[] => [
    { name: `${prefix}.weight`, shape: [out, inp], init: "normal" },
    { name: `${prefix}.bias`, shape: [out], init: "normal" },
  ];
  const specs: ParameterSpec[] = [
    { name: "embeddings.word_embeddings.weight", shape: [config.vocab_size, h], init: "normal" },
    {
      name: "embeddings.position_embeddings.weight",
      shape: [config.max_position_embeddings, h],
      init: "normal",
    },
    {
      name: "embeddings.token_type_embeddings.weight",
      shape: [config.type_vocab_size, h],
      init: "normal",
    },
    ...layerNorm("embeddings.LayerNorm"),
  ];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    specs.push(
      ...linear(`${p}.attention.self.query`, h, h),
      ...linear(`${p}.attention.self.key`, h, h),
      ...linear(`${p}.attention.self.value`, h, h),
      ...linear(`${p}.attention.output.dense`, h, h),
      ...layerNorm(`${p}.attention.output.LayerNorm`),
      ...linear(`${p}.intermediate.dense`, inter, h),
      ...linear(`${p}.output.dense`, h, inter),
      ...layerNorm(`${p}.output.LayerNorm`),
    );
  }
  return specs;
}

/**
 * Parameter count of an encoder (embeddings included, no pooler).
 *
 * @param config The configuration.
 * @returns The number of parameters.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENCODER_PRESETS, encoderParameterCount } from "./presets.ts";
 * // all-MiniLM-L6-v2 without its 148k-parameter pooler.
 * assert(encoderParameterCount(ENCODER_PRESETS["minilm-l6"]!) === 22_565_376);
 * ```
 */
export function encoderParameterCount(config: Readonly<EncoderConfig>): number {
  return encoderParameterSpecs(config)
    .reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1), 0);
}
