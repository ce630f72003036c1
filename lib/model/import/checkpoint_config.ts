/**
 * Reads a Hugging Face checkpoint's `config.json` into the builder's {@linkcode LlamaConfig}:
 * which architectures convert, which fields they need, and how each maps (defaults as
 * transformers has them). Anything the graph cannot reproduce exactly is rejected with one line.
 *
 * @module
 */
import type { Llama3RopeScaling, LlamaConfig } from "../presets.ts";
import { validateConfig } from "../presets.ts";

/** The architectures `build-model --from` converts, with the `model_type` each declares. */
export const IMPORT_ARCHITECTURES: Readonly<Record<string, string>> = Object.freeze({
  LlamaForCausalLM: "llama",
  MistralForCausalLM: "mistral",
  Qwen2ForCausalLM: "qwen2",
});

/** transformers' default `max_position_embeddings` per architecture. */
const DEFAULT_POSITIONS: Readonly<Record<string, number>> = Object.freeze({
  LlamaForCausalLM: 2048,
  MistralForCausalLM: 4096 * 32,
  Qwen2ForCausalLM: 32768,
});

/** A checkpoint configuration, mapped. */
export interface CheckpointConfig {
  /** The architecture (a key of {@linkcode IMPORT_ARCHITECTURES}). */
  architecture: string;
  /** The configuration the graph builder takes. */
  config: LlamaConfig;
  /** `max_position_embeddings` as the checkpoint declares it. */
  sourceMaxPositions: number;
  /** What was adapted and why (recorded in the written `config.json`). */
  notes: string[];
}

/** Options of {@linkcode parseCheckpointConfig}. */
export interface ParseCheckpointOptions {
  /**
   * Positions the ONNX RoPE caches cover, instead of `max_position_embeddings` (transformers
   * computes RoPE for any position, so a larger value changes no logit below the declared one).
   * @default the checkpoint's (capped at a sliding window)
   */
  maxPositions?: number;
  /** File name for messages. @default "config.json" */
  source?: string;
}

/**
 * Maps a parsed `config.json` to the builder's configuration.
 *
 * @param raw The parsed `config.json`.
 * @param options Positions override, file name for messages.
 * @returns The architecture, the mapped configuration and notes.
 * @throws {RangeError} naming the field (or the architecture and the supported ones) when the
 * checkpoint cannot be converted exactly.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCheckpointConfig } from "./checkpoint_config.ts";
 * const { config } = parseCheckpointConfig({
 *   architectures: ["Qwen2ForCausalLM"], hidden_size: 64, intermediate_size: 128,
 *   num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 512,
 *   max_position_embeddings: 256, tie_word_embeddings: true,
 * });
 * assert(config.attention_bias === "qkv" && config.head_dim === 16 && config.rope_theta === 10000);
 * ```
 */
export function parseCheckpointConfig(
  raw: Record<string, unknown>,
  options: ParseCheckpointOptions = {},
): CheckpointConfig {
  const file = options.source ?? "config.json";
  const fail = (message: string): never => {
    throw new RangeError(`Cannot import checkpoint: ${file}: ${message}`);
  };
  const architectures = Array.isArray(raw.architectures) ? raw.architectures : [];
  const supported = Object.keys(IMPORT_ARCHITECTURES).join(", ");
  if (architectures.length !== 1 || typeof architectures[0] !== "string") {
    fail(
      `'architectures' must name one architecture (supported: ${supported}), got ${
        JSON.stringify(raw.architectures)
      }`,
    );
  }
  const architecture = architectures[0] as string;
  if (!Object.hasOwn(IMPORT_ARCHITECTURES, architecture)) {
    fail(`architecture '${architecture}' is not supported (supported: ${supported})`);
  }
  const notes: string[] = [];
  const int = (name: string, fallback?: number): number => {
    const v = raw[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return fail(`'${name}' is missing`);
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      return fail(`'${name}' must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const num = (name: string, fallback: number): number => {
    const v = raw[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !(v > 0)) {
      return fail(`'${name}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const v = raw[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      return fail(`'${name}' must be true or false, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const act = raw.hidden_act ?? "silu";
  if (act !== "silu") fail(`'hidden_act' must be 'silu' (SwiGLU), got ${JSON.stringify(act)}`);
  if (flag("mlp_bias", false)) fail("'mlp_bias' true is not supported (MLP biases)");
  const heads = int("num_attention_heads");
  const hidden = int("hidden_size");
  const qwen2 = architecture === "Qwen2ForCausalLM";
  const attentionBias = qwen2 ? "qkv" as const : flag("attention_bias", false);
  if (qwen2 && raw.attention_bias === false) notes.push("Qwen2 always has q/k/v biases");
  const declared = int("max_position_embeddings", DEFAULT_POSITIONS[architecture]!);
  let positions = declared;
  // Sliding-window attention equals full causal attention up to the window: cap the positions so
  // every length the model accepts is exact.
  const window = raw.sliding_window;
  const windowed = architecture === "MistralForCausalLM" ||
    (qwen2 && flag("use_sliding_window", false));
  if (windowed && window !== undefined && window !== null) {
    if (typeof window !== "number" || !Number.isInteger(window) || window <= 0) {
      fail(`'sliding_window' must be a positive integer or null, got ${JSON.stringify(window)}`);
    }
    if ((window as number) < positions) {
      positions = window as number;
      notes.push(
        `positions capped at sliding_window ${window}: full attention equals sliding-window attention up to it`,
      );
    }
  }
  if (options.maxPositions !== undefined) {
    if (!Number.isInteger(options.maxPositions) || options.maxPositions <= 0) {
      fail(`'maxPositions' must be a positive integer, got ${options.maxPositions}`);
    }
    if (options.maxPositions > positions && windowed && positions < declared) {
      fail(`'maxPositions' ${options.maxPositions} exceeds sliding_window ${positions}`);
    }
    if (options.maxPositions !== positions) {
      notes.push(
        `RoPE caches cover ${options.maxPositions} positions (checkpoint: ${declared}); ` +
          "transformers computes RoPE for any position, so logits below both are unchanged",
      );
    }
    positions = options.maxPositions;
  }
  const vocab = int("vocab_size");
  const config: LlamaConfig = {
    hidden_size: hidden,
    intermediate_size: int("intermediate_size"),
    num_hidden_layers: int("num_hidden_layers"),
    num_attention_heads: heads,
    num_key_value_heads: int("num_key_value_heads", heads),
    head_dim: int("head_dim", Math.floor(hidden / heads)),
    vocab_size: vocab,
    tokenizer_vocab_size: vocab,
    ...rope(raw, fail),
    rms_norm_eps: num("rms_norm_eps", 1e-6),
    max_position_embeddings: positions,
    tie_word_embeddings: flag("tie_word_embeddings", false),
    initializer_range: num("initializer_range", 0.02),
    ...(attentionBias ? { attention_bias: attentionBias } : {}),
  };
  try {
    validateConfig(config);
  } catch (error) {
    fail((error as Error).message.replace(/^Cannot build model: /, ""));
  }
  return { architecture, config, sourceMaxPositions: declared, notes };
}

/** `rope_theta` and `rope_scaling` from transformers 4 (`rope_scaling`) or 5 (`rope_parameters`). */
function rope(
  raw: Record<string, unknown>,
  fail: (message: string) => never,
): Pick<LlamaConfig, "rope_theta" | "rope_scaling"> {
  const params = raw.rope_parameters && typeof raw.rope_parameters === "object"
    ? raw.rope_parameters as Record<string, unknown>
    : {};
  const theta = params.rope_theta ?? raw.rope_theta ?? 10000;
  if (typeof theta !== "number" || !(theta > 0)) {
    fail(`'rope_theta' must be a positive number, got ${JSON.stringify(theta)}`);
  }
  const scaling = raw.rope_scaling && typeof raw.rope_scaling === "object"
    ? raw.rope_scaling as Record<string, unknown>
    : params;
  const type = scaling.rope_type ?? scaling.type ?? "default";
  if (type === "default") return { rope_theta: theta as number, rope_scaling: null };
  if (type !== "llama3") {
    fail(`rope type '${String(type)}' is not supported (supported: default, llama3)`);
  }
  const field = (name: keyof Llama3RopeScaling): number => {
    const v = scaling[name];
    if (typeof v !== "number" || !(v > 0)) {
      fail(`'rope_scaling.${name}' must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v as number;
  };
  return {
    rope_theta: theta as number,
    rope_scaling: {
      rope_type: "llama3",
      factor: field("factor"),
      low_freq_factor: field("low_freq_factor"),
      high_freq_factor: field("high_freq_factor"),
      original_max_position_embeddings: field("original_max_position_embeddings"),
    },
  };
}
