/**
 * The checks and verdicts of one setup in `final_report.json`: the sweet spot and its ties, the
 * 4-bit ΔPPL check and verdict, the KV-cache check. Private to lib/report (final_report.ts).
 *
 * @module
 */
import {
  armRows,
  compareArms,
  DELTA_PPL_BUDGET_PCT,
  memoryCell,
  memoryLess,
  withinPplBudget,
} from "../analysis/mod.ts";
import type { DtypeEntry, QualityEntry, SetupExtended } from "./final_report_types.ts";
import type { ReportData } from "./report_data.ts";
import type { SummaryRow } from "./summary.ts";
import { reportLabel, round, type Setup } from "./_util.ts";
import { fourBitVerdict, RANDOM_WEIGHTS_REASON, type WeightsOrigin } from "./verdicts.ts";

/** 4-bit dtypes, in the order the report looks for one. */
export const FOUR_BIT = ["q4", "q4f16", "bnb4"] as const;

/**
 * The fastest dtype (pooled decode rate) within the ΔPPL budget (`withinPplBudget`) at the
 * setup's longest cached context. Dtypes whose
 * own longest context is shorter (their longer cells failed) are not compared: a speed at 512
 * tokens against others' at 2048 would favour the dtype that could not run the long context.
 */
export function sweetSpot(
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
    if (withinPplBudget(delta) !== true) continue;
    if (entry.tokens_s_longest === null || entry.longest_context !== context) continue;
    if (best === null || entry.tokens_s_longest > (best.tokens_s ?? -Infinity)) {
      best = {
        label,
        dtype: entry.dtype,
        tokens_s: entry.tokens_s_longest,
        context: entry.longest_context,
        delta_ppl_pct: delta ?? null,
      };
    }
  }
  return best === null
    ? {
      sweet_spot: null,
      sweet_spot_note: `no dtype under ${DELTA_PPL_BUDGET_PCT} % ΔPPL was measured at ${
        context ?? "any"
      } tokens with the cache`,
    }
    : { sweet_spot: best, sweet_spot_note: "" };
}

export function fourBitCheck(
  quality: Record<string, QualityEntry>,
  random: boolean,
): SetupExtended["checks"]["four_bit_delta_ppl_under_5pct"] {
  for (const dtype of FOUR_BIT) {
    const delta = quality[reportLabel(dtype)]?.delta_ppl_pct;
    if (delta !== null && delta !== undefined) {
      return {
        value: random ? null : withinPplBudget(delta),
        details: {
          dtype,
          delta_ppl_pct: delta,
          budget_pct: DELTA_PPL_BUDGET_PCT,
          reason: random ? RANDOM_WEIGHTS_REASON : "",
        },
      };
    }
  }
  return {
    value: null,
    details: {
      dtype: null,
      delta_ppl_pct: null,
      budget_pct: DELTA_PPL_BUDGET_PCT,
      reason: "no 4-bit perplexity measured",
    },
  };
}

/** The dtype comparisons start from: fp16 when measured, else fp32, else the first. */
export function referenceLabel(entries: Record<string, DtypeEntry>): string | undefined {
  const labels = Object.keys(entries);
  return ["fp16", "fp32"].find((l) => labels.includes(l)) ?? labels[0];
}

/** Where a setup's headline numbers were measured: its model, device and smallest batch. */
export interface Place {
  /** The setup. */
  setup: Setup;
  /** Its smallest batch. */
  batch: number;
}

/** The arm of `dtype` with the cache on at `context` of a place. */
function armAt(place: Place, dtype: string, context: number) {
  return {
    model: place.setup.model,
    device: place.setup.device,
    batch: place.batch,
    context_tokens: context,
    dtype,
  };
}

/**
 * The 4-bit verdict of a setup: the paired comparison of the 4-bit arm with the reference at
 * their shared longest context, their peak memory over rounds, and the ΔPPL rule.
 */
export function fourBitAnswer(
  data: ReportData,
  place: Place,
  entries: Record<string, DtypeEntry>,
  quality: Record<string, QualityEntry>,
  weights: WeightsOrigin,
): SetupExtended["checks"]["four_bit_verdict"] {
  const fourDtype = FOUR_BIT.find((d) => entries[reportLabel(d)] !== undefined);
  const ref = referenceLabel(entries);
  const empty = {
    dtype: null,
    reference: ref ?? null,
    context: null,
    speed_ratio: null,
    speed_ci95: null,
    speed_rounds: 0,
    speed_verdict: null,
    speed_reason: "",
    memory_ratio: null,
    memory_gb: null,
    memory_established: false,
    memory_reason: "",
    prefill_ratio: null,
  };
  if (fourDtype === undefined || ref === undefined) {
    return { value: null, details: { ...empty, reason: "no 4-bit dtype was measured" } };
  }
  const four = entries[reportLabel(fourDtype)]!;
  const base = entries[ref]!;
  // Speeds are compared only at one context: a dtype whose long cells failed would otherwise be
  // compared at a shorter (faster) context than the reference.
  const context = four.longest_context !== null && four.longest_context === base.longest_context
    ? four.longest_context
    : null;
  const speed = context === null ? null : compareArms(
    data.runs,
    data.blocks,
    armAt(place, four.dtype, context),
    armAt(place, base.dtype, context),
  );
  const field = four.vram_gb !== null ? "peak_vram_bytes" : "peak_rss_bytes";
  const memory = context === null ? null : memoryLess(
    memoryCell(armRows(data.runs, armAt(place, four.dtype, context)), field),
    memoryCell(armRows(data.runs, armAt(place, base.dtype, context)), field),
  );
  const { verdict, reason } = fourBitVerdict({
    deltaPplPct: quality[reportLabel(fourDtype)]?.delta_ppl_pct ?? null,
    budgetPct: DELTA_PPL_BUDGET_PCT,
    speedRatio: speed?.ratio ?? null,
    speedVerdict: speed?.verdict ?? "not established",
    memoryRatio: memory?.ratio ?? null,
    memoryEstablished: memory?.established ?? false,
    weights,
  });
  return {
    value: verdict,
    details: {
      dtype: fourDtype,
      reference: base.dtype,
      context,
      speed_ratio: round(speed?.ratio, 3),
      speed_ci95: interval(speed?.ci95 ?? null),
      speed_rounds: speed?.rounds ?? 0,
      speed_verdict: speed?.verdict ?? null,
      speed_reason: speed?.reason ?? "",
      memory_ratio: round(memory?.ratio, 3),
      memory_gb: memory?.medians_bytes
        ? [round(memory.medians_bytes[0] / 1e9, 3)!, round(memory.medians_bytes[1] / 1e9, 3)!]
        : null,
      memory_established: memory?.established ?? false,
      memory_reason: memory?.reason ?? "",
      prefill_ratio: round(ratio(base.prefill_ms_longest, four.prefill_ms_longest), 3),
      reason,
    },
  };
}

/** An interval rounded for the JSON (3 decimals), or null. */
export function interval(ci: [number, number] | null): [number, number] | null {
  return ci === null ? null : [round(ci[0], 3)!, round(ci[1], 3)!];
}

/**
 * The dtypes within budget at the sweet spot's context that the sweet spot is not established
 * to beat: its paired comparison with each (one Bonferroni family over them) is not "faster".
 */
export function sweetSpotTies(
  data: ReportData,
  place: Place,
  entries: Record<string, DtypeEntry>,
  quality: Record<string, QualityEntry>,
  spot: NonNullable<SetupExtended["sweet_spot"]>,
): string[] {
  const context = spot.context;
  if (context === null) return [];
  const rivals = Object.entries(entries).filter(([label, e]) =>
    label !== spot.label && e.longest_context === context &&
    withinPplBudget(quality[label]?.delta_ppl_pct) === true
  );
  return rivals
    .filter(([, e]) =>
      compareArms(
        data.runs,
        data.blocks,
        armAt(place, spot.dtype, context),
        armAt(place, e.dtype, context),
        rivals.length,
      ).verdict !== "faster"
    )
    .map(([label]) => label);
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

/** Pooled decode tokens/s of a cell (lib/analysis `cellRate`, via the summary). */
export function pooled(cell: SummaryRow | undefined): number | null {
  return cell?.decode_tokens_per_s_pooled ?? null;
}

/**
 * Whether the cache is faster at every length: each (dtype, context) pair measured both ways is
 * compared round by round (cache on ÷ off). `true` when every pair is established faster,
 * `false` when any is established slower, `null` when some pair is not established (one round, or
 * an interval that does not clear 1 and the 10 % minimum). "Faster at every length" holds only if
 * every pair's test holds (an intersection–union test), so each pair is tested at the 5 % level
 * without a multiplicity correction: requiring all of them can only lower the error rate.
 * `false` claims the opposite, that the cache is slower at some length, which one pair suffices
 * for: a pair counts as slower only when it is slower with the pairs as one Bonferroni family.
 */
export function cacheCheck(
  data: ReportData,
  place: Place,
  entries: Record<string, DtypeEntry>,
  speedups: Record<string, Record<string, number | null>>,
): SetupExtended["checks"]["cache_faster_at_every_length"] {
  const pairs: { label: string; context: number; speedup: number }[] = [];
  for (const [label, byContext] of Object.entries(speedups)) {
    for (const [context, speedup] of Object.entries(byContext)) {
      if (speedup !== null) pairs.push({ label, context: Number(context), speedup });
    }
  }
  // "Faster at every length" needs every pair (intersection–union: each at 5 %). "Slower at some
  // length" needs only one pair, so it is a union over the pairs: one Bonferroni family.
  const verdicts = pairs.map((p) => {
    const on = { ...armAt(place, entries[p.label]!.dtype, p.context), use_cache: true };
    const off = { ...on, use_cache: false };
    const family = compareArms(data.runs, data.blocks, on, off, pairs.length).verdict;
    const verdict = compareArms(data.runs, data.blocks, on, off).verdict;
    return {
      ...p,
      verdict: verdict === "slower" && family !== "slower" ? "not established" : verdict,
    };
  });
  const slower = verdicts.filter((p) => p.verdict === "slower")
    .map(({ label, context, speedup }) => ({ label, context, speedup }));
  const open = verdicts.filter((p) => p.verdict === "not established")
    .map(({ label, context, speedup }) => ({ label, context, speedup }));
  return {
    value: pairs.length === 0 || (slower.length === 0 && open.length > 0)
      ? null
      : slower.length === 0,
    details: {
      pairs: pairs.length,
      min_speedup: pairs.length === 0 ? null : Math.min(...pairs.map((p) => p.speedup)),
      slower,
      not_established: open,
    },
  };
}
