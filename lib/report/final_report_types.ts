/**
 * The shape of `metrics/final_report.json`: the per-dtype headline entry, the quality entry, the
 * block verdicts and the per-setup extended section. Computed by `final_report.ts`, which
 * re-exports these types.
 *
 * @module
 */
import type { Environment, Failures, PerplexityIssue } from "./report_data.ts";
import type { BatchScalingEntry } from "./batch_scaling.ts";
import type { SpeedVerdict } from "../analysis/mod.ts";
import type { FourBitVerdict, NoisyCell, WeightsOrigin } from "./verdicts.ts";

/** The brief's per-dtype numbers (cache on, the setup's smallest batch). */
export interface DtypeEntry {
  /** transformers.js dtype name. */
  dtype: string;
  /**
   * Decode tokens/s at 2048 tokens of context, pooled over the cell's runs (decode tokens ÷
   * decode time); null when 2048 was not measured.
   */
  tokens_s_2048: number | null;
  /** 95 % interval of `tokens_s_2048` from rounds; null below two rounds. */
  tokens_s_2048_ci95: [number, number] | null;
  /** Pooled decode tokens/s at the longest context measured for this dtype. */
  tokens_s_longest: number | null;
  /** 95 % interval of `tokens_s_longest` from rounds; null below two rounds. */
  tokens_s_longest_ci95: [number, number] | null;
  /** Rounds behind the longest context's numbers (1 in files written before rounds). */
  rounds_longest: number | null;
  /** That longest context, tokens. */
  longest_context: number | null;
  /** Largest peak GPU memory over the dtype's cache-on cells, GB (10⁹ bytes); null without a GPU reading. */
  vram_gb: number | null;
  /**
   * Largest peak process RSS over the dtype's cache-on cells, GB: each cell's own fresh worker,
   * measured runs only, the loaded model and runtime included.
   */
  rss_gb: number | null;
  /** Largest increase of that peak over the loaded-model baseline, GB; null in older files. */
  rss_increase_gb?: number | null;
  /**
   * Peak memory at the longest cached context over rounds (VRAM where measured, else RSS): the
   * median of the per-round peaks, their range and how many rounds; a memory comparison needs
   * three rounds a side (lib/analysis `memoryLess`).
   */
  memory_longest: {
    kind: "VRAM" | "RSS";
    median_gb: number | null;
    range_gb: [number, number] | null;
    rounds: number;
  };
  /**
   * The model's weights at this dtype, GB: parameters × the dtype's nominal bits ÷ 8
   * (quantisation scales excluded); null when the model's configuration was not readable.
   */
  weights_gb: number | null;
  /**
   * The KV cache the longest cached context needs, GB: 2 × layers × KV heads × head dim ×
   * element bytes × (context + tokens generated) × batch; null without the configuration.
   */
  kv_cache_gb_longest: number | null;
  /** Mean prefill at 2048 tokens, ms; null when 2048 was not measured. */
  prefill_ms: number | null;
  /** Mean prefill at the longest context, ms. */
  prefill_ms_longest: number | null;
  /** Perplexity; null when not measured. */
  ppl: number | null;
}

/** Quality of one dtype against the baseline. */
export interface QualityEntry {
  /** Perplexity. */
  ppl: number | null;
  /** (ppl / baseline − 1) × 100. */
  delta_ppl_pct: number | null;
  /** Mean KL(baseline ‖ dtype), nats. */
  kl: number | null;
  /** Argmax agreement with the baseline, percent. */
  top1_agreement: number | null;
  /** Baseline dtype. */
  baseline: string;
  /** Perplexity method, window and stride. */
  method: string;
  /** Window, tokens. */
  window: number | null;
  /** Stride, tokens. */
  stride: number | null;
}

/** A check with its verdict (null when it cannot be decided) and the numbers behind it. */
export interface Check<T> {
  /** true / false, or null when the data cannot decide. */
  value: boolean | null;
  /** The numbers the verdict rests on. */
  details: T;
}

/** One arm's verdict against its block's baseline. */
export interface BlockVerdictEntry {
  /** `q4 cache on`, or `fp16 cache on ~aa` for the A/A control. */
  arm: string;
  /** Geometric mean of the per-round ratios (arm ÷ baseline). */
  ratio: number | null;
  /** Its interval (Bonferroni over the block's arms); null below two rounds. */
  ci95: [number, number] | null;
  /** Rounds both arms decoded in. */
  rounds: number;
  /** `faster`, `slower` or `not established`. */
  verdict: SpeedVerdict;
  /** Whether the interval lies clear of the ±10 % band or inside it. */
  settled: boolean;
  /** Why. */
  reason: string;
}

/** One block (model × device × context × batch × prompt family): its A/A control and verdicts. */
export interface BlockEntry {
  /** Block id. */
  block: string;
  /** Context, tokens. */
  context: number;
  /** Batch. */
  batch: number;
  /** Prompt family. */
  family: string;
  /** The baseline arm. */
  baseline: string;
  /** The A/A control ÷ the baseline; null when the block has no A/A arm. */
  aa_ratio: number | null;
  /** Its 95 % interval [low, high]; null without an A/A arm or below two rounds. */
  aa_ci95: [number, number] | null;
  /** Whether every verdict of the block is settled. */
  settled: boolean;
  /** Every arm against the baseline. */
  verdicts: BlockVerdictEntry[];
}

/** The reference dtype with and without the cache at one context. */
export interface CacheDetail {
  /** Pooled decode tokens/s with the cache. */
  tokens_s_on: number | null;
  /** Without. */
  tokens_s_off: number | null;
  /** Mean of the per-run median per-token decode latency with the cache, ms. */
  token_p50_ms_on: number | null;
  /** Without, ms. */
  token_p50_ms_off: number | null;
}

/** Everything beyond the headline numbers for one setup. */
export interface SetupExtended {
  /** Model reference. */
  model: string;
  /** `random` (a preset: quality verdicts are null), `trained`, or `unknown` (older files). */
  weights: WeightsOrigin;
  /** Why the quality verdicts are null, or empty. */
  quality_verdicts_note: string;
  /** Cells whose runs vary by more than 20 % (coefficient of variation): their means are shaky. */
  noisy_cells: NoisyCell[];
  /** That threshold, percent. */
  noisy_cv_pct: number;
  /**
   * Dtypes within the ΔPPL budget that the sweet spot is not established to beat (its paired
   * comparison with each, one Bonferroni family, is not "faster"): when any, the ranking is not
   * settled.
   */
  sweet_spot_ties: string[];
  /** Whether the sweet spot's lead is outside every tie's interval; null without a sweet spot. */
  sweet_spot_settled: boolean | null;
  /** Device. */
  device: string;
  /** Batch size of every number here (the smallest measured; see `batch_scaling`). */
  batch: number;
  /**
   * Decode throughput per batch size and where batching stops paying, per dtype, cache mode and
   * context; only present when the setup measured more than one batch size (docs/batching.md).
   */
  batch_scaling?: { rule: string; entries: BatchScalingEntry[] };
  /** Contexts measured, ascending. */
  contexts: number[];
  /** Quality per dtype label. */
  quality: Record<string, QualityEntry>;
  /** Decode tokens/s with the cache ÷ without, per dtype label and context. */
  kv_cache_speedup: Record<string, Record<string, number | null>>;
  /** The reference dtype's decode rates and token latencies with and without the cache. */
  kv_cache_reference: { label: string; by_context: Record<string, CacheDetail> } | null;
  /** Every block's A/A ratio and verdicts (`aa_ratio`, `aa_ci95` in each). */
  blocks: BlockEntry[];
  /** The minimum speed effect a verdict needs, percent. */
  min_effect_pct: number;
  /** Arms that decoded faster at a longer context (a sign that the machine drifted). */
  drift_warnings: {
    dtype: string;
    use_cache: boolean;
    from_context: number;
    to_context: number;
    rise: number;
    basis: string;
    message: string;
  }[];
  /** What the memory numbers contain. */
  memory_contains: string;
  /** The fastest dtype (pooled decode tokens/s at the longest context, cache on) whose ΔPPL < 5 %. */
  sweet_spot: {
    label: string;
    dtype: string;
    tokens_s: number | null;
    context: number | null;
    delta_ppl_pct: number | null;
  } | null;
  /** Why there is no sweet spot, or empty. */
  sweet_spot_note: string;
  /** The brief's checks. */
  checks: {
    four_bit_delta_ppl_under_5pct: Check<
      { dtype: string | null; delta_ppl_pct: number | null; budget_pct: number; reason: string }
    >;
    /** The verdict report.md prints for "is 4-bit worth it?", with the numbers it rests on. */
    four_bit_verdict: {
      value: FourBitVerdict | null;
      details: {
        dtype: string | null;
        reference: string | null;
        context: number | null;
        speed_ratio: number | null;
        /** Interval of the ratio over rounds; null below two rounds. */
        speed_ci95: [number, number] | null;
        /** Rounds both arms decoded in. */
        speed_rounds: number;
        /** The paired comparison's verdict (4-bit against the reference). */
        speed_verdict: SpeedVerdict | null;
        /** Why the paired comparison gave that verdict (lib/analysis `compare`). */
        speed_reason: string;
        /** Reference ÷ 4-bit median per-round peak memory (above 1: 4-bit needs less). */
        memory_ratio: number | null;
        /** The medians that ratio divides, GB: [4-bit, reference]; null without readings. */
        memory_gb: [number, number] | null;
        /** Whether 4-bit's smaller peak memory is established over rounds. */
        memory_established: boolean;
        /** Why (or why not). */
        memory_reason: string;
        /** Reference ÷ 4-bit mean prefill at the longest context (above 1: 4-bit prefills faster). */
        prefill_ratio: number | null;
        reason: string;
      };
    };
    cache_faster_at_every_length: Check<
      {
        pairs: number;
        min_speedup: number | null;
        /** Pairs established slower with the cache (paired over rounds). */
        slower: { label: string; context: number; speedup: number }[];
        /** Pairs whose difference is not established (one round, or within noise). */
        not_established: { label: string; context: number; speedup: number }[];
      }
    >;
  };
}

/** The final report. */
export interface FinalReport {
  /** Per setup, per dtype label: the brief's numbers. */
  by_model: Record<string, Record<string, DtypeEntry>>;
  /** Per setup: quality, KV-cache speedups, sweet spot and checks. */
  extended: Record<string, SetupExtended>;
  /** Provenance from the CSV. */
  environment: Environment;
  /** Failed runs (excluded from every number, counted here). */
  failed_cells: { count: number; runs: number; reasons: Failures["reasons"] };
  /** (model, dtype) pairs whose perplexity was skipped or failed, with the reason. */
  perplexity_not_measured: PerplexityIssue[];
}
