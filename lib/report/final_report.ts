/**
 * `metrics/final_report.json`: the brief's per-dtype headline numbers, then an extended section
 * (quality, KV-cache speedup per length, the sweet spot, checks), the environment and the failed
 * cells — all derived from the CSVs.
 *
 * Shape: with one setup (one model on one device) the per-dtype entries sit at the top level,
 * keyed as the brief keys them (`fp16`, `int8` = q8, `4bit` = q4, others by DTYPE_REPORT_LABEL).
 * `by_model` always holds them as `by_model[setup][label]`, where setup is the model reference
 * (plus ` (device)` when a model ran on several devices); with several setups only `by_model`
 * holds them. `extended[setup]` holds the rest per setup.
 *
 * @module
 */
import type { Environment, Failures, PerplexityIssue, ReportData } from "./report_data.ts";
import type { SummaryRow } from "./summary.ts";
import { batchScaling, type BatchScalingEntry, STOPS_PAYING_RULE } from "./batch_scaling.ts";
import {
  BYTES_PER_GB,
  compareDtypes,
  reportLabel,
  round,
  type Setup,
  setupRows,
  setupsOf,
} from "./_util.ts";
import {
  armRows,
  memoryCell,
  MIN_EFFECT,
  nominalKvBytes,
  nominalWeightBytes,
  PEAK_RSS_CONTAINS,
  type SpeedVerdict,
} from "../analysis/mod.ts";
import {
  type FourBitVerdict,
  NOISY_CV_PCT,
  type NoisyCell,
  noisyCells,
  RANDOM_WEIGHTS_REASON,
  type WeightsOrigin,
  weightsOrigin,
} from "./verdicts.ts";
import {
  cacheCheck,
  fourBitAnswer,
  fourBitCheck,
  interval,
  pooled,
  referenceLabel,
  sweetSpot,
  sweetSpotTies,
} from "./_checks.ts";

/** The context the brief's headline numbers are taken at. */
export const HEADLINE_CONTEXT = 2048;

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

/**
 * Computes the final report from the report tables.
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The report object (see {@linkcode finalReportJson} for the file's shape).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalReport, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const report = finalReport(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(Object.keys(report.by_model).length === 0 && report.failed_cells.count === 0);
 * ```
 */
export function finalReport(data: ReportData): FinalReport {
  const by_model: FinalReport["by_model"] = {};
  const extended: FinalReport["extended"] = {};
  for (const setup of setupsOf(data.summary)) {
    const cells = setupRows(data.summary, setup);
    const dtypes = [...new Set(cells.map((c) => c.dtype))].sort(compareDtypes);
    const ppl = data.perplexity.filter((p) => p.model === setup.model);
    const shape = data.models[setup.model];
    const place = { setup, batch: cells[0]?.batch ?? 1 };
    const entries: Record<string, DtypeEntry> = {};
    const quality: Record<string, QualityEntry> = {};
    const speedups: Record<string, Record<string, number | null>> = {};
    for (const dtype of dtypes) {
      const label = reportLabel(dtype);
      const mine = cells.filter((c) => c.dtype === dtype);
      const on = mine.filter((c) => c.use_cache);
      const at = (context: number) => on.find((c) => c.context_tokens === context);
      const longest = on.length > 0 ? Math.max(...on.map((c) => c.context_tokens)) : null;
      const p = ppl.find((r) => r.dtype === dtype);
      const last = longest === null ? undefined : at(longest);
      entries[label] = {
        dtype,
        tokens_s_2048: round(pooled(at(HEADLINE_CONTEXT)), 2),
        tokens_s_2048_ci95: ci(at(HEADLINE_CONTEXT)),
        tokens_s_longest: round(pooled(last), 2),
        tokens_s_longest_ci95: ci(last),
        rounds_longest: last?.rounds ?? null,
        longest_context: longest,
        vram_gb: gb(maxOf(on, "peak_vram_bytes_max")),
        rss_gb: gb(maxOf(on, "peak_rss_bytes_max")),
        rss_increase_gb: gb(maxOf(on, "peak_rss_increase_bytes_max")),
        memory_longest: memoryAt(data, place, dtype, longest),
        weights_gb: shape === undefined ? null : gb(nominalWeightBytes(shape, dtype)),
        kv_cache_gb_longest: shape === undefined || last === undefined
          ? null
          : gb(nominalKvBytes(shape, dtype, last.context_tokens + last.new_tokens_max, last.batch)),
        prefill_ms: round(at(HEADLINE_CONTEXT)?.prefill_ms_mean, 2),
        prefill_ms_longest: longest === null ? null : round(at(longest)?.prefill_ms_mean, 2),
        ppl: round(p?.ppl, 4),
      };
      if (p) {
        quality[label] = {
          ppl: round(p.ppl, 4),
          delta_ppl_pct: round(p.delta_ppl_pct, 3),
          kl: round(p.kl, 6),
          top1_agreement: round(p.top1_agreement, 3),
          baseline: p.baseline,
          method: p.method,
          window: p.window,
          stride: p.stride,
        };
      }
      const contexts = [...new Set(mine.map((c) => c.context_tokens))].sort((a, b) => a - b);
      speedups[label] = Object.fromEntries(contexts.map((context) => {
        const with_ = pooled(at(context));
        const without = pooled(mine.find((c) => !c.use_cache && c.context_tokens === context));
        return [String(context), with_ && without ? round(with_ / without, 3) : null];
      }));
    }
    by_model[setup.key] = entries;
    const weights = weightsOrigin(cells, ppl);
    const random = weights === "random";
    const spot = random
      ? { sweet_spot: null, sweet_spot_note: RANDOM_WEIGHTS_REASON }
      : sweetSpot(entries, quality, longestCached(cells));
    const ties = spot.sweet_spot === null
      ? []
      : sweetSpotTies(data, place, entries, quality, spot.sweet_spot);
    extended[setup.key] = {
      model: setup.model,
      weights,
      quality_verdicts_note: random ? RANDOM_WEIGHTS_REASON : "",
      device: setup.device,
      batch: cells[0]?.batch ?? 1,
      contexts: [...new Set(cells.map((c) => c.context_tokens))].sort((a, b) => a - b),
      quality,
      kv_cache_speedup: speedups,
      kv_cache_reference: cacheReference(cells, entries),
      blocks: blockEntries(data, setup),
      min_effect_pct: round(MIN_EFFECT * 100, 1)!,
      drift_warnings: data.drift
        .filter((w) => w.model === setup.model && w.device === setup.device)
        .map((w) => ({
          dtype: w.dtype,
          use_cache: w.use_cache,
          from_context: w.from_context,
          to_context: w.to_context,
          rise: round(w.rise, 3)!,
          basis: w.basis,
          message: w.message,
        })),
      memory_contains: PEAK_RSS_CONTAINS,
      ...spot,
      sweet_spot_ties: ties,
      sweet_spot_settled: spot.sweet_spot === null ? null : ties.length === 0,
      noisy_cells: noisyCells(cells),
      noisy_cv_pct: NOISY_CV_PCT,
      ...batchScalingSection(data.summary, setup),
      checks: {
        four_bit_delta_ppl_under_5pct: fourBitCheck(quality, random),
        four_bit_verdict: fourBitAnswer(data, place, entries, quality, weights),
        cache_faster_at_every_length: cacheCheck(data, place, entries, speedups),
      },
    };
  }
  return {
    by_model,
    extended,
    environment: data.environment,
    failed_cells: {
      count: data.failures.cells,
      runs: data.failures.runs,
      reasons: data.failures.reasons,
    },
    perplexity_not_measured: data.perplexityIssues,
  };
}

/**
 * The JSON text of `metrics/final_report.json`: with one setup its dtype entries first at the top
 * level (the brief's shape), then `by_model`, `extended`, `environment`, `failed_cells`.
 *
 * @param report From {@linkcode finalReport}.
 * @returns Pretty-printed JSON, newline-terminated.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalReport, finalReportJson, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const json = JSON.parse(finalReportJson(finalReport(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null))));
 * assert(json.failed_cells.count === 0);
 * ```
 */
export function finalReportJson(report: FinalReport): string {
  const setups = Object.values(report.by_model);
  const top = setups.length === 1 ? setups[0] : {};
  return JSON.stringify({ ...top, ...report }, null, 2) + "\n";
}

function maxOf(
  rows: readonly SummaryRow[],
  field: "peak_vram_bytes_max" | "peak_rss_bytes_max" | "peak_rss_increase_bytes_max",
) {
  const values = rows.map((r) => r[field]).filter((v): v is number => v !== null);
  return values.length === 0 ? null : Math.max(...values);
}

function gb(bytes: number | null): number | null {
  return bytes === null ? null : round(bytes / BYTES_PER_GB, 3);
}

function memoryAt(
  data: ReportData,
  place: { setup: Setup; batch: number },
  dtype: string,
  context: number | null,
): DtypeEntry["memory_longest"] {
  const rows = context === null ? [] : armRows(data.runs, {
    model: place.setup.model,
    device: place.setup.device,
    batch: place.batch,
    context_tokens: context,
    dtype,
  });
  const vram = rows.some((r) => r.peak_vram_bytes !== null);
  const m = memoryCell(rows, vram ? "peak_vram_bytes" : "peak_rss_bytes");
  return {
    kind: vram ? "VRAM" : "RSS",
    median_gb: gb(m.median_bytes),
    range_gb: m.range === null ? null : [gb(m.range[0])!, gb(m.range[1])!],
    rounds: m.rounds,
  };
}

function ci(cell: SummaryRow | undefined): [number, number] | null {
  const lo = cell?.decode_tokens_per_s_ci95_low ?? null;
  const hi = cell?.decode_tokens_per_s_ci95_high ?? null;
  return lo === null || hi === null ? null : interval([lo, hi]);
}

function cacheReference(
  cells: readonly SummaryRow[],
  entries: Record<string, DtypeEntry>,
): SetupExtended["kv_cache_reference"] {
  const ref = referenceLabel(entries);
  if (ref === undefined) return null;
  const dtype = entries[ref]!.dtype;
  const mine = cells.filter((c) => c.dtype === dtype);
  const contexts = [...new Set(mine.map((c) => c.context_tokens))].sort((a, b) => a - b);
  const cell = (cache: boolean, context: number) =>
    mine.find((c) => c.use_cache === cache && c.context_tokens === context);
  return {
    label: ref,
    by_context: Object.fromEntries(contexts.map((context) => [String(context), {
      tokens_s_on: round(pooled(cell(true, context)), 2),
      tokens_s_off: round(pooled(cell(false, context)), 2),
      token_p50_ms_on: round(cell(true, context)?.token_p50_ms_mean, 3),
      token_p50_ms_off: round(cell(false, context)?.token_p50_ms_mean, 3),
    }])),
  };
}

function blockEntries(data: ReportData, setup: Setup): BlockEntry[] {
  return data.blocks
    .filter((b) => b.model === setup.model && b.device === setup.device)
    .map((b) => ({
      block: b.block,
      context: b.context_tokens,
      batch: b.batch,
      family: b.family,
      baseline: b.baseline,
      aa_ratio: round(b.aa_ratio, 3),
      aa_ci95: interval(b.aa_ci95),
      settled: b.settled,
      verdicts: b.verdicts.map((v) => ({
        arm: v.arm,
        ratio: round(v.ratio, 3),
        ci95: interval(v.ci95),
        rounds: v.rounds,
        verdict: v.verdict,
        settled: v.settled,
        reason: v.reason,
      })),
    }));
}

/** The setup's longest context measured with the cache on (what the comparison table shows). */
function longestCached(cells: readonly SummaryRow[]): number | null {
  const cached = cells.filter((c) => c.use_cache).map((c) => c.context_tokens);
  return cached.length === 0 ? null : Math.max(...cached);
}

function batchScalingSection(
  rows: readonly SummaryRow[],
  setup: { model: string; device: string },
): Pick<SetupExtended, "batch_scaling"> {
  const entries = batchScaling(
    rows.filter((r) => r.model === setup.model && r.device === setup.device),
  );
  return entries.length === 0 ? {} : { batch_scaling: { rule: STOPS_PAYING_RULE, entries } };
}
