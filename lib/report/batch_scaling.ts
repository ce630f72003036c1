/**
 * Batch scaling: decode throughput per batch size, in total and per sequence, and the batch size
 * at which batching stops paying (docs/batching.md). Read from the summary rows, so every number
 * is recomputable from `results.csv`: `decode_tokens_per_s` is the cell's pooled decode rate of
 * the whole batch (lib/analysis: Σ decode tokens ÷ Σ decode time), the per-sequence rate that
 * rate ÷ batch.
 *
 * @module
 */
import type { SummaryRow } from "./summary.ts";
import { compareDtypes, fmt, reportLabel, round } from "./_util.ts";
import { interval } from "./_checks.ts";

/** Gain per doubling of the batch below which a larger batch no longer pays. */
export const PAYING_GAIN_PER_DOUBLING = 1.1;

/** The rule, stated once for the report and the JSON. */
export const STOPS_PAYING_RULE =
  "the smallest batch b such that no larger measured batch b' reaches b's total decode tokens/s " +
  "× 1.1^log2(b'/b) (a gain of ≥ 10 % per doubling)";

/** One batch size of one (dtype, cache mode, context). */
export interface BatchPoint {
  /** Sequences per run. */
  batch: number;
  /** Pooled total decode tokens/s of the batch (all sequences). */
  decode_tokens_per_s: number | null;
  /** `decode_tokens_per_s ÷ batch`: one sequence's decode tokens/s. */
  decode_tokens_per_s_per_seq: number | null;
  /** 95 % interval of the total from rounds [low, high]; null below two rounds. */
  decode_tokens_per_s_ci95: [number, number] | null;
  /** Mean prefill of the whole batch, ms. */
  prefill_ms: number | null;
  /** Peak RSS of the cell's worker, bytes. */
  peak_rss_bytes: number | null;
  /** Whether the cell's runs vary by more than 20 %. */
  noisy: boolean;
}

/** Batch scaling of one dtype, cache mode and context. */
export interface BatchScalingEntry {
  /** Weight dtype. */
  dtype: string;
  /** The report's label of the dtype. */
  label: string;
  /** KV cache on or off. */
  use_cache: boolean;
  /** Prompt tokens of every sequence. */
  context_tokens: number;
  /** One point per measured batch size, ascending. */
  points: BatchPoint[];
  /** The batch where batching stops paying ({@linkcode STOPS_PAYING_RULE}); null without data. */
  stops_paying_at: number | null;
  /** True when that is the largest measured batch: batching still paid up to there. */
  largest_measured: boolean;
  /** Total decode tokens/s at the stop ÷ at the smallest batch; null without both. */
  gain_at_stop: number | null;
  /**
   * False when a cell the verdict rests on (every batch up to the one after the stop) varies by
   * more than 20 % across its runs: the stop point is then within noise, not settled.
   */
  settled: boolean;
}

/**
 * The batch at which batching stops paying: the smallest batch b such that no larger batch b'
 * has a total of at least total(b) × 1.1^log2(b'/b).
 *
 * @param points Batch sizes with their total decode tokens/s (null or ≤ 0 ignored).
 * @returns The batch, or null when no point has a throughput.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stopsPayingAt } from "./batch_scaling.ts";
 * const at = (totals: number[]) =>
 *   stopsPayingAt(totals.map((t, i) => ({ batch: 2 ** i, decode_tokens_per_s: t })));
 * assert.equal(at([100, 190, 360, 380, 300]), 4); // 8 gains only 5.6 % over 4
 * assert.equal(at([100, 105, 250]), 4); // 2 looks flat, but 4 gains 58 % per doubling over 1
 * assert.equal(at([100, 200, 400]), 4); // still paying at the largest measured batch
 * assert.equal(at([]), null);
 * ```
 */
export function stopsPayingAt(
  points: readonly { batch: number; decode_tokens_per_s: number | null }[],
): number | null {
  const valid = points
    .filter((p) => p.decode_tokens_per_s !== null && p.decode_tokens_per_s > 0)
    .toSorted((a, b) => a.batch - b.batch);
  for (const [i, p] of valid.entries()) {
    const beaten = valid.slice(i + 1).some((q) =>
      q.decode_tokens_per_s! >=
        p.decode_tokens_per_s! * PAYING_GAIN_PER_DOUBLING ** Math.log2(q.batch / p.batch)
    );
    if (!beaten) return p.batch;
  }
  return null;
}

/**
 * Batch scaling per (dtype, cache mode, context) of one setup's summary rows, only where more
 * than one batch size was measured.
 *
 * @param rows Summary rows of one model and device.
 * @returns The entries, by dtype, cache (on first) and context; empty with one batch size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchScaling } from "./batch_scaling.ts";
 * assert.deepEqual(batchScaling([]), []);
 * ```
 */
export function batchScaling(rows: readonly SummaryRow[]): BatchScalingEntry[] {
  const groups = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const key = `${r.dtype}\u0000${r.use_cache}\u0000${r.context_tokens}`;
    groups.set(key, [...groups.get(key) ?? [], r]);
  }
  const out: BatchScalingEntry[] = [];
  for (const cells of groups.values()) {
    if (new Set(cells.map((c) => c.batch)).size < 2) continue;
    const first = cells[0]!;
    const points = cells.toSorted((a, b) => a.batch - b.batch).map((c): BatchPoint => ({
      batch: c.batch,
      decode_tokens_per_s: round(c.decode_tokens_per_s_pooled, 2),
      decode_tokens_per_s_per_seq: c.decode_tokens_per_s_pooled === null
        ? null
        : round(c.decode_tokens_per_s_pooled / c.batch, 2),
      decode_tokens_per_s_ci95: c.decode_tokens_per_s_ci95_low === null ||
          c.decode_tokens_per_s_ci95_high === null
        ? null
        : interval([c.decode_tokens_per_s_ci95_low, c.decode_tokens_per_s_ci95_high]),
      prefill_ms: round(c.prefill_ms_mean, 2),
      peak_rss_bytes: c.peak_rss_bytes_max,
      noisy: c.noisy,
    }));
    const at = stopsPayingAt(points);
    const stop = points.findIndex((p) => p.batch === at);
    const resting = stop < 0 ? [] : points.slice(0, stop + 2);
    const one = points[0]!.decode_tokens_per_s;
    const top = stop < 0 ? null : points[stop]!.decode_tokens_per_s;
    out.push({
      dtype: first.dtype,
      label: reportLabel(first.dtype),
      use_cache: first.use_cache,
      context_tokens: first.context_tokens,
      points,
      stops_paying_at: at,
      largest_measured: at !== null && at === points.at(-1)!.batch,
      gain_at_stop: one && top ? round(top / one, 2) : null,
      settled: at !== null && resting.every((p) => !p.noisy),
    });
  }
  return out.sort((a, b) =>
    compareDtypes(a.dtype, b.dtype) || Number(b.use_cache) - Number(a.use_cache) ||
    a.context_tokens - b.context_tokens
  );
}

/**
 * The report's lines for batch scaling: one per entry, "batching stops paying at batch B on
 * DEVICE", with the totals it rests on.
 *
 * @param entries From {@linkcode batchScaling}.
 * @param device The device and its name, as the report prints it.
 * @returns One list item (Markdown inline) per entry; empty without entries.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchScalingLines } from "./batch_scaling.ts";
 * const point = (batch: number, t: number) => ({
 *   batch, decode_tokens_per_s: t, decode_tokens_per_s_per_seq: t / batch,
 *   decode_tokens_per_s_ci95: null, prefill_ms: 1, peak_rss_bytes: 1e8, noisy: false,
 * });
 * const [line] = batchScalingLines([{
 *   dtype: "q4", label: "int4", use_cache: true, context_tokens: 128,
 *   points: [point(1, 100), point(2, 180), point(4, 190)], stops_paying_at: 2,
 *   largest_measured: false, gain_at_stop: 1.8, settled: false,
 * }], "cpu (Test CPU)");
 * assert.match(line!, /batching stops paying at batch 2 on cpu \(Test CPU\)/);
 * assert.match(line!, /within noise/);
 * ```
 */
export function batchScalingLines(entries: readonly BatchScalingEntry[], device: string): string[] {
  return entries.map((e) => {
    const where = `**${e.label}**, context ${e.context_tokens}, KV cache ${
      e.use_cache ? "on" : "off"
    }`;
    const one = e.points[0]!;
    const at = e.points.find((p) => p.batch === e.stops_paying_at);
    const series = e.points.map((p) =>
      `b${p.batch} ${fmt(p.decode_tokens_per_s, 0)} (${fmt(p.decode_tokens_per_s_per_seq, 0)})`
    ).join(", ");
    if (!at) return `${where}: no decode throughput measured.`;
    const gain = e.gain_at_stop === null ? "" : ` (${fmt(e.gain_at_stop, 2)}× batch ${one.batch})`;
    const verdict = e.largest_measured
      ? `batching still pays up to the largest measured batch, ${at.batch}, on ${device}`
      : `batching stops paying at batch ${at.batch} on ${device}`;
    const noise = e.settled
      ? ""
      : " — within noise: a cell it rests on varies by more than 20 % across its runs, so rerun " +
        "on a quieter machine before relying on it";
    return `${where}: ${verdict}${gain}${noise}. Decode tokens/s, total (per sequence): ${series}.`;
  });
}
