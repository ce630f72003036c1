/**
 * The decoder's typed config, read from a Hugging Face `config.json`, and where its weights came
 * from (random, from this project's builder, or trained).
 *
 * @module
 */
import type { AutoTokenizer } from "@huggingface/transformers";

/** The tokenizer transformers.js loads (`AutoTokenizer.from_pretrained`). */
export type Tokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

/** The decoder's shape and special tokens, read from `config.json` (typed, camelCase). */
export interface ModelConfig {
  /** `model_type` (e.g. `llama`). */
  modelType: string;
  /** Rows of the LM head (`vocab_size`). */
  vocabSize: number;
  /** Decoder layers (`num_hidden_layers`). */
  numLayers: number;
  /** Query heads (`num_attention_heads`). */
  numHeads: number;
  /** Key/value heads (`num_key_value_heads`, else `num_attention_heads`). */
  numKvHeads: number;
  /** Width of one head (`head_dim`, else `hidden_size / num_attention_heads`). */
  headDim: number;
  /** Longest sequence (`max_position_embeddings`). */
  maxPositions: number;
  /** Beginning-of-sequence id, or `null`. */
  bosTokenId: number | null;
  /** End-of-sequence ids (config lists one or several). */
  eosTokenIds: number[];
  /** Padding id (`pad_token_id`, else the first EOS, else 0). */
  padTokenId: number;
}

/** Where a model's weights came from: `ResolvedModel.weights` in resolve.ts. */
export type ModelWeights = "random" | "trained";

/**
 * Reads the weights' origin from a parsed `config.json`: `random` when the project's builder
 * wrote it (`turbo_inference.weights: "random"`, or a `turbo_inference.preset` of a build made
 * before that field existed), else `trained`.
 *
 * @param raw The parsed config.
 * @returns `random` or `trained`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightsOf } from "./model_config.ts";
 * assert.equal(weightsOf({ turbo_inference: { preset: "tiny", seed: 42 } }), "random");
 * assert.equal(weightsOf({ turbo_inference: { weights: "imported" } }), "trained");
 * assert.equal(weightsOf({ model_type: "llama" }), "trained");
 * ```
 */
export function weightsOf(raw: Record<string, unknown>): ModelWeights {
  const turbo = raw.turbo_inference;
  if (turbo === null || typeof turbo !== "object") return "trained";
  const t = turbo as Record<string, unknown>;
  return t.weights === "random" || (t.weights === undefined && typeof t.preset === "string")
    ? "random"
    : "trained";
}

/**
 * Reads the typed config from a raw `config.json` object (GPT-2 style names accepted too), with
 * special ids completed from the tokenizer where the config lacks them.
 *
 * @param raw The parsed `config.json`.
 * @param tokenizer Optional tokenizer for missing special ids.
 * @returns The typed config.
 * @throws {RangeError} naming the first missing or invalid field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseModelConfig } from "./model_config.ts";
 * const c = parseModelConfig({
 *   model_type: "llama", vocab_size: 512, num_hidden_layers: 2, num_attention_heads: 4,
 *   num_key_value_heads: 2, hidden_size: 64, max_position_embeddings: 512, eos_token_id: 1,
 * });
 * assert(c.headDim === 16 && c.numKvHeads === 2 && c.padTokenId === 1);
 * ```
 */
export function parseModelConfig(
  raw: Record<string, unknown>,
  tokenizer?: Pick<Tokenizer, "bos_token_id" | "eos_token_id" | "pad_token_id">,
): ModelConfig {
  const text = raw.text_config;
  if (text && typeof text === "object" && raw.num_hidden_layers === undefined) {
    return parseModelConfig({ ...raw, ...(text as Record<string, unknown>) }, tokenizer);
  }
  const int = (names: string[], fallback?: number): number => {
    for (const name of names) {
      const v = raw[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
        throw new RangeError(
          `Invalid config.json: '${name}' must be a positive integer, got ${JSON.stringify(v)}`,
        );
      }
      return v;
    }
    if (fallback !== undefined) return fallback;
    throw new RangeError(`Invalid config.json: '${names[0]}' is missing`);
  };
  const numHeads = int(["num_attention_heads", "n_head"]);
  const hidden = raw.head_dim === undefined ? int(["hidden_size", "n_embd"]) : 0;
  const headDim = int(["head_dim"], hidden / numHeads);
  const ids = (v: unknown): number[] =>
    (Array.isArray(v) ? v : [v]).filter((x): x is number => Number.isInteger(x));
  const special = tokenizer as unknown as Record<string, unknown> | undefined;
  const tokenId = (name: string): number | null => {
    const id = special?.[name];
    return typeof id === "number" && Number.isInteger(id) ? id : null;
  };
  const eos = ids(raw.eos_token_id);
  if (eos.length === 0) {
    const fromTokenizer = tokenId("eos_token_id");
    if (fromTokenizer !== null) eos.push(fromTokenizer);
  }
  const bos = ids(raw.bos_token_id)[0] ?? tokenId("bos_token_id");
  const pad = ids(raw.pad_token_id)[0] ?? tokenId("pad_token_id") ?? eos[0] ?? 0;
  return {
    modelType: typeof raw.model_type === "string" ? raw.model_type : "unknown",
    vocabSize: int(["vocab_size"]),
    numLayers: int(["num_hidden_layers", "n_layer"]),
    numHeads,
    numKvHeads: int(["num_key_value_heads"], numHeads),
    headDim,
    maxPositions: int(["max_position_embeddings", "n_positions"]),
    bosTokenId: bos,
    eosTokenIds: eos,
    padTokenId: pad,
  };
}
