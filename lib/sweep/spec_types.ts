/**
 * The sweep spec's shape: the prompt families, perplexity settings and {@linkcode SweepSpec}
 * itself. Validated by `spec.ts` (`parseSweepSpec`), which re-exports everything here.
 *
 * @module
 */
import type { Device, Dtype } from "../dtypes.ts";
import type { ConversationsSpec } from "../chat/sweep_spec.ts";
import type { EmbedSweepSpec } from "../embed/sweep_spec.ts";

/** Prompt families of the brief's workload. */
export const FAMILIES = ["conversational", "code", "summary"] as const;

/** One of {@linkcode FAMILIES}. */
export type Family = typeof FAMILIES[number];

/** Perplexity methods. */
export const PPL_METHODS = ["hf", "llama-cpp"] as const;

/** Perplexity settings of a sweep. */
export interface PerplexitySpec {
  /** Dtypes to evaluate (the first present of fp32, fp16 is the baseline). */
  dtypes: Dtype[];
  /** Window length in tokens. */
  window: number;
  /** Stride in tokens. */
  stride: number;
  /** Token cap on the text, or null for the whole split. */
  max_tokens: number | null;
  /** Scoring method. */
  method: typeof PPL_METHODS[number];
  /** WikiText-2 split. */
  split: "test" | "validation";
  /** Windows per forward. */
  batch: number;
  /** Hold only the baseline and one other dtype in memory at a time (large models). */
  pairwise: boolean;
}

/** A validated sweep spec. Axes are lists; the grid is their product. */
export interface SweepSpec {
  /** Name, used in progress output and the report. */
  name: string;
  /** Model references: Hub ids, local dirs or `preset:NAME`. */
  models: string[];
  /** Weight dtypes. */
  dtypes: Dtype[];
  /** Devices. */
  devices: Device[];
  /** KV cache modes. */
  use_cache: boolean[];
  /** Prompt lengths in tokens. */
  context_lengths: number[];
  /** Prompts per length (spread over the families round-robin). */
  prompts_per_length: number;
  /** Prompt families. */
  families: Family[];
  /** Tokens generated per run (EOS ignored). */
  max_new_tokens: number;
  /**
   * Tokens generated per run of a cache-off cell, or null for `max_new_tokens`: without the cache
   * every step recomputes the whole context, so shorter cache-off cells save the most time for
   * the least information.
   */
  max_new_tokens_no_cache: number | null;
  /** Discarded runs per cell before measuring. */
  warmup: number;
  /** Measured runs per prompt. */
  runs: number;
  /** Seed of the prompt generator and model presets. */
  seed: number;
  /** Batch sizes. */
  batch_sizes: number[];
  /** ORT intra-op threads (0 = ORT default). */
  threads: number;
  /** Wall-clock budget in seconds; cells not started when it runs out are left for a resume. */
  time_budget_s: number | null;
  /** A cell taking longer is killed and recorded as an error. */
  cell_timeout_s: number;
  /** Perplexity settings, or null to skip perplexity. */
  perplexity: PerplexitySpec | null;
  /** Optional conversation pass (`lib/chat`), or null to skip it. */
  conversations: ConversationsSpec | null;
  /** Embedding benchmark (lib/embed/sweep_spec.ts), or null (the default) to skip it. */
  embeddings: EmbedSweepSpec | null;
  /**
   * Milliseconds between telemetry samples of each cell's measured window (10–1000), or 0 for
   * no sampler at all (its thread costs decode speed on a 2-core machine: docs/telemetry.md).
   */
  telemetry_interval_ms: number;
  /**
   * The block's baseline arm: this dtype with the cache on. Every ratio of the block is taken to
   * it, and the A/A control is a second live worker of it. Defaults to fp16 when the grid has it,
   * else the first dtype.
   */
  baseline_dtype: Dtype;
  /**
   * Time floor of one repetition, seconds: it decodes until tokens 2..N have taken this long
   * (`max_new_tokens` / `max_new_tokens_no_cache` being the cap, at least one decode step), so a
   * repetition is long against the scheduler's time slices. 0: exactly the token count.
   */
  min_rep_seconds: number;
  /** Rounds every block runs before it may stop (settled or out of budget); default 1. */
  min_rounds: number;
  /** Rounds a block runs at most; default `min_rounds`. */
  max_rounds: number;
  /** Whether each block carries the A/A control (a second worker of the baseline arm); default false. */
  aa_control: boolean;
  /** Order of the arms in each round: `shuffle` (seeded, redrawn every round) or `rotate`. */
  round_order: "shuffle" | "rotate";
}
