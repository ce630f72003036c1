/**
 * `metrics/final_report.json`: the brief's per-dtype headline numbers, then an extended section
 * (quality, KV-cache speedup per length, the sweet spot, checks), the environment and the failed
 * cells — all derived from the CSVs.
 *
 * Shape: with one setup (one model on one device) the per-dtype entries sit at the top level,
 * keyed as the brief keys them (`fp16`, `int8` = q8, `4bit` = q4, others by DTYPE_REPORT_LABEL).
 * `by_model` always holds them as `by_model[setup][label]`, where setup is the model reference
 * (plus ` (device)` when a model ran on several devices); with several setups only `by_model`
 * holds them. `extended[setup]` holds the rest per setup. The types of that shape live in
 * `final_report_types.ts` and are re-exported here.
 *
 * @module
 */
import type { ReportData } from "./report_data.ts";
import type { SummaryRow } from "./summary.ts";
import { batchScaling, STOPS_PAYING_RULE } from "./batch_scaling.ts";
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
} from "../analysis/mod.ts";
import { NOISY_CV_PCT, noisyCells, RANDOM_WEIGHTS_REASON, weightsOrigin } from "./verdicts.ts";
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
import type {
  BlockEntry,
  DtypeEntry,
  FinalReport,
  QualityEntry,
  SetupExtended,
} from "./final_report_types.ts";

export type * from "./final_report_types.ts";

/** The context the brief's headline numbers are taken at. */
export const HEADLINE_CONTEXT = 2048;

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
