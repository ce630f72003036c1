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
import { DELTA_PPL_BUDGET_PCT } from "./ppl_degradation.ts";
import type { Environment, Failures, PerplexityIssue, ReportData } from "./report_data.ts";
import type { SummaryRow } from "./summary.ts";
import { BYTES_PER_GB, compareDtypes, reportLabel, round, setupRows, setupsOf } from "./_util.ts";

/** The context the brief's headline numbers are taken at. */
export const HEADLINE_CONTEXT = 2048;

/** Dtypes the 4-bit check looks at, in order of preference. */
const FOUR_BIT = ["q4", "q4f16", "bnb4"] as const;

/** The brief's per-dtype numbers (cache on, the setup's smallest batch). */
export interface DtypeEntry {
  /** transformers.js dtype name. */
  dtype: string;
  /** Mean decode tokens/s at 2048 tokens of context; null when 2048 was not measured. */
  tokens_s_2048: number | null;
  /** Mean decode tokens/s at the longest context measured for this dtype. */
  tokens_s_longest: number | null;
  /** That longest context, tokens. */
  longest_context: number | null;
  /** Largest peak GPU memory over the dtype's cache-on cells, GB (10⁹ bytes); null without a GPU reading. */
  vram_gb: number | null;
  /** Largest peak process RSS over the dtype's cache-on cells, GB (the worker process's baseline included). */
  rss_gb: number | null;
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

/** Everything beyond the headline numbers for one setup. */
export interface SetupExtended {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Batch size of every number here. */
  batch: number;
  /** Contexts measured, ascending. */
  contexts: number[];
  /** Quality per dtype label. */
  quality: Record<string, QualityEntry>;
  /** Decode tokens/s with the cache ÷ without, per dtype label and context. */
  kv_cache_speedup: Record<string, Record<string, number | null>>;
  /** The fastest dtype (decode tokens/s at the longest context, cache on) whose ΔPPL ≤ 5 %. */
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
      { dtype: string | null; delta_ppl_pct: number | null; budget_pct: number }
    >;
    cache_faster_at_every_length: Check<
      {
        pairs: number;
        min_speedup: number | null;
        slower: { label: string; context: number; speedup: number }[];
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
      entries[label] = {
        dtype,
        tokens_s_2048: round(at(HEADLINE_CONTEXT)?.decode_tokens_per_s_mean, 2),
        tokens_s_longest: longest === null ? null : round(at(longest)?.decode_tokens_per_s_mean, 2),
        longest_context: longest,
        vram_gb: gb(maxOf(on, "peak_vram_bytes_max")),
        rss_gb: gb(maxOf(on, "peak_rss_bytes_max")),
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
        const with_ = at(context)?.decode_tokens_per_s_mean;
        const without = mine.find((c) => !c.use_cache && c.context_tokens === context)
          ?.decode_tokens_per_s_mean;
        return [String(context), with_ && without ? round(with_ / without, 3) : null];
      }));
    }
    by_model[setup.key] = entries;
    extended[setup.key] = {
      model: setup.model,
      device: setup.device,
      batch: cells[0]?.batch ?? 1,
      contexts: [...new Set(cells.map((c) => c.context_tokens))].sort((a, b) => a - b),
      quality,
      kv_cache_speedup: speedups,
      ...sweetSpot(entries, quality, longestCached(cells)),
      checks: {
        four_bit_delta_ppl_under_5pct: fourBitCheck(quality),
        cache_faster_at_every_length: cacheCheck(speedups),
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

function maxOf(rows: readonly SummaryRow[], field: "peak_vram_bytes_max" | "peak_rss_bytes_max") {
  const values = rows.map((r) => r[field]).filter((v): v is number => v !== null);
  return values.length === 0 ? null : Math.max(...values);
}

function gb(bytes: number | null): number | null {
  return bytes === null ? null : round(bytes / BYTES_PER_GB, 3);
}

/** The setup's longest context measured with the cache on (what the comparison table shows). */
function longestCached(cells: readonly SummaryRow[]): number | null {
  const cached = cells.filter((c) => c.use_cache).map((c) => c.context_tokens);
  return cached.length === 0 ? null : Math.max(...cached);
}

/**
 * The fastest dtype within the ΔPPL budget at the setup's longest cached context. Dtypes whose
 * own longest context is shorter (their longer cells failed) are not compared: a speed at 512
 * tokens against others' at 2048 would favour the dtype that could not run the long context.
 */
function sweetSpot(
  entries: Record<string, DtypeEntry>,
  quality: Record<string, QualityEntry>,
  context: number | null,
): Pick<SetupExtended, "sweet_spot" | "sweet_spot_note"> {
  if (Object.keys(quality).length === 0) {
    return { sweet_spot: null, sweet_spot_note: "no perplexity measured" };
  }
  let best: SetupExtended["sweet_spot"] = null;
  for (const [label, entry] of Object.entries(entries)) {
    const delta = quality[label]?.delta_ppl_pct;
    if (delta === null || delta === undefined || delta > DELTA_PPL_BUDGET_PCT) continue;
    if (entry.tokens_s_longest === null || entry.longest_context !== context) continue;
    if (best === null || entry.tokens_s_longest > (best.tokens_s ?? -Infinity)) {
      best = {
        label,
        dtype: entry.dtype,
        tokens_s: entry.tokens_s_longest,
        context: entry.longest_context,
        delta_ppl_pct: delta,
      };
    }
  }
  return best === null
    ? {
      sweet_spot: null,
      sweet_spot_note: `no dtype within ${DELTA_PPL_BUDGET_PCT} % ΔPPL was measured at ${
        context ?? "any"
      } tokens with the cache`,
    }
    : { sweet_spot: best, sweet_spot_note: "" };
}

function fourBitCheck(
  quality: Record<string, QualityEntry>,
): SetupExtended["checks"]["four_bit_delta_ppl_under_5pct"] {
  for (const dtype of FOUR_BIT) {
    const delta = quality[reportLabel(dtype)]?.delta_ppl_pct;
    if (delta !== null && delta !== undefined) {
      return {
        value: delta < DELTA_PPL_BUDGET_PCT,
        details: { dtype, delta_ppl_pct: delta, budget_pct: DELTA_PPL_BUDGET_PCT },
      };
    }
  }
  return {
    value: null,
    details: { dtype: null, delta_ppl_pct: null, budget_pct: DELTA_PPL_BUDGET_PCT },
  };
}

function cacheCheck(
  speedups: Record<string, Record<string, number | null>>,
): SetupExtended["checks"]["cache_faster_at_every_length"] {
  const pairs: { label: string; context: number; speedup: number }[] = [];
  for (const [label, byContext] of Object.entries(speedups)) {
    for (const [context, speedup] of Object.entries(byContext)) {
      if (speedup !== null) pairs.push({ label, context: Number(context), speedup });
    }
  }
  const slower = pairs.filter((p) => p.speedup <= 1);
  return {
    value: pairs.length === 0 ? null : slower.length === 0,
    details: {
      pairs: pairs.length,
      min_speedup: pairs.length === 0 ? null : Math.min(...pairs.map((p) => p.speedup)),
      slower,
    },
  };
}
