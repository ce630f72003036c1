/**
 * The checks and verdicts of one setup in `final_report.json`: the sweet spot and its ties, the
 * 4-bit ΔPPL check and verdict, the KV-cache check. Private to lib/report (final_report.ts).
 *
 * @module
 */
import { DELTA_PPL_BUDGET_PCT } from "./ppl_degradation.ts";
import type { DtypeEntry, QualityEntry, SetupExtended } from "./final_report.ts";
import type { SummaryRow } from "./summary.ts";
import { reportLabel, round } from "./_util.ts";
import {
  fourBitVerdict,
  RANDOM_WEIGHTS_REASON,
  speedsOverlap,
  type WeightsOrigin,
} from "./verdicts.ts";

/** 4-bit dtypes, in the order the report looks for one. */
export const FOUR_BIT = ["q4", "q4f16", "bnb4"] as const;

/**
 * The fastest dtype within the ΔPPL budget at the setup's longest cached context. Dtypes whose
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

export function fourBitCheck(
  quality: Record<string, QualityEntry>,
  random: boolean,
): SetupExtended["checks"]["four_bit_delta_ppl_under_5pct"] {
  for (const dtype of FOUR_BIT) {
    const delta = quality[reportLabel(dtype)]?.delta_ppl_pct;
    if (delta !== null && delta !== undefined) {
      return {
        value: random ? null : delta < DELTA_PPL_BUDGET_PCT,
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

export function fourBitAnswer(
  cells: readonly SummaryRow[],
  entries: Record<string, DtypeEntry>,
  quality: Record<string, QualityEntry>,
  weights: WeightsOrigin,
): SetupExtended["checks"]["four_bit_verdict"] {
  const fourDtype = FOUR_BIT.find((d) => entries[reportLabel(d)] !== undefined);
  const ref = referenceLabel(entries);
  if (fourDtype === undefined || ref === undefined) {
    return {
      value: null,
      details: {
        dtype: null,
        reference: ref ?? null,
        context: null,
        speed_ratio: null,
        ci95_overlap: null,
        memory_ratio: null,
        reason: "no 4-bit dtype was measured",
      },
    };
  }
  const four = entries[reportLabel(fourDtype)]!;
  const base = entries[ref]!;
  // Speeds are compared only at one context: a dtype whose long cells failed would otherwise be
  // compared at a shorter (faster) context than the reference.
  const context = four.longest_context !== null && four.longest_context === base.longest_context
    ? four.longest_context
    : null;
  const speed = context === null ? null : ratio(four.tokens_s_longest, base.tokens_s_longest);
  const overlap = context === null ? null : speedsOverlap(cells, [four.dtype, base.dtype], context);
  const memory = four.vram_gb !== null
    ? ratio(base.vram_gb, four.vram_gb)
    : ratio(base.rss_gb, four.rss_gb);
  const { verdict, reason } = fourBitVerdict({
    deltaPplPct: quality[reportLabel(fourDtype)]?.delta_ppl_pct ?? null,
    budgetPct: DELTA_PPL_BUDGET_PCT,
    speedRatio: speed,
    overlap: overlap ?? true,
    memoryRatio: memory,
    weights,
  });
  return {
    value: verdict,
    details: {
      dtype: fourDtype,
      reference: base.dtype,
      context,
      speed_ratio: round(speed, 3),
      ci95_overlap: overlap,
      memory_ratio: round(memory, 3),
      reason,
    },
  };
}

export function sweetSpotTies(
  cells: readonly SummaryRow[],
  entries: Record<string, DtypeEntry>,
  quality: Record<string, QualityEntry>,
  spot: NonNullable<SetupExtended["sweet_spot"]>,
): string[] {
  return Object.entries(entries)
    .filter(([label, e]) =>
      label !== spot.label && e.longest_context === spot.context &&
      (quality[label]?.delta_ppl_pct ?? Infinity) <= DELTA_PPL_BUDGET_PCT &&
      spot.context !== null && speedsOverlap(cells, [spot.dtype, e.dtype], spot.context)
    )
    .map(([label]) => label);
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

/** Pooled decode tokens/s of a cell (the mean of per-run rates in files without it). */
export function pooled(cell: SummaryRow | undefined): number | null {
  return cell?.decode_tokens_per_s_pooled ?? cell?.decode_tokens_per_s_mean ?? null;
}

export function cacheCheck(
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
