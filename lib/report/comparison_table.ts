/**
 * The comparison table of dtypes the brief asks for: decode tokens/s at the longest cached
 * context, prefill, memory, PPL and ΔPPL per (model, device, dtype), each cell with a 0–1 score
 * (1 = best in its column within its setup) that drives the colours.
 *
 * @module
 */
import { BYTES_PER_GB, compareDtypes, displayLabel, setupRows, setupsOf } from "./_util.ts";
import type { ReportData } from "./report_data.ts";

/** Which way a column is better. */
export type Better = "higher" | "lower";

/** One column of the comparison table. */
export interface ComparisonColumn {
  /** Field of {@linkcode ComparisonRow} it shows. */
  key: "tokens_per_s" | "prefill_ms" | "memory_gb" | "ppl" | "delta_ppl_pct";
  /** Header text. */
  title: string;
  /** Which way is better (drives the colour). */
  better: Better;
  /** Decimals shown. */
  digits: number;
}

/** One dtype of one setup. */
export interface ComparisonRow {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** Weight dtype. */
  dtype: string;
  /** The setup's key: the model, plus ` (device)` when it ran on several devices. */
  setup: string;
  /** Row label: `int8 (q8)`. */
  label: string;
  /** Context of the speed columns (the setup's longest context measured with the cache on). */
  context_tokens: number | null;
  /** Mean decode tokens/s at that context, cache on. */
  tokens_per_s: number | null;
  /** Mean prefill at that context, ms. */
  prefill_ms: number | null;
  /** Peak memory at that context with the cache on, GB (VRAM when measured, else RSS). */
  memory_gb: number | null;
  /** Perplexity. */
  ppl: number | null;
  /** Perplexity change against the baseline, percent. */
  delta_ppl_pct: number | null;
  /** Score in [0, 1] per column key (1 = best of the setup); null where the value is. */
  scores: Record<ComparisonColumn["key"], number | null>;
}

/** The comparison table. */
export interface ComparisonTable {
  /** Columns, in display order. */
  columns: ComparisonColumn[];
  /** Rows, by setup then dtype. */
  rows: ComparisonRow[];
  /** `VRAM` when any GPU memory was measured, else `RSS`. */
  memoryKind: "VRAM" | "RSS";
  /** Whether rows come from more than one setup (then tables show a model column). */
  manySetups: boolean;
}

/**
 * Builds the comparison table from the report tables.
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns Columns, rows and which memory the memory column shows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonTable, parseResultsCsv, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const table = comparisonTable(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(table.rows.length === 0 && table.columns.length === 5);
 * ```
 */
export function comparisonTable(data: ReportData): ComparisonTable {
  const memoryKind = data.summary.some((r) => r.peak_vram_bytes_max !== null) ? "VRAM" : "RSS";
  const setups = setupsOf(data.summary);
  const contexts = new Set<number>();
  const rows: ComparisonRow[] = [];
  for (const setup of setups) {
    const cells = setupRows(data.summary, setup);
    const cached = cells.filter((c) => c.use_cache);
    const context = cached.length > 0 ? Math.max(...cached.map((c) => c.context_tokens)) : null;
    if (context !== null) contexts.add(context);
    const dtypes = [...new Set(cells.map((c) => c.dtype))].sort(compareDtypes);
    const mine: ComparisonRow[] = dtypes.map((dtype) => {
      const cell = cached.find((c) => c.dtype === dtype && c.context_tokens === context);
      const ppl = data.perplexity.find((p) => p.model === setup.model && p.dtype === dtype);
      const memory = memoryKind === "VRAM" ? cell?.peak_vram_bytes_max : cell?.peak_rss_bytes_max;
      return {
        model: setup.model,
        device: setup.device,
        dtype,
        setup: setup.key,
        label: displayLabel(dtype),
        context_tokens: context,
        tokens_per_s: cell?.decode_tokens_per_s_mean ?? null,
        prefill_ms: cell?.prefill_ms_mean ?? null,
        memory_gb: memory === null || memory === undefined ? null : memory / BYTES_PER_GB,
        ppl: ppl?.ppl ?? null,
        delta_ppl_pct: ppl?.delta_ppl_pct ?? null,
        scores: {
          tokens_per_s: null,
          prefill_ms: null,
          memory_gb: null,
          ppl: null,
          delta_ppl_pct: null,
        },
      };
    });
    for (const column of COLUMNS) score(mine, column);
    rows.push(...mine);
  }
  const ctx = contexts.size === 1 ? ` @ ${[...contexts][0]}` : " @ longest";
  const titles: Record<ComparisonColumn["key"], string> = {
    tokens_per_s: `decode tok/s${ctx}`,
    prefill_ms: `prefill ms${ctx}`,
    memory_gb: `peak ${memoryKind} GB`,
    ppl: "perplexity",
    delta_ppl_pct: "ΔPPL %",
  };
  return {
    columns: COLUMNS.map((c) => ({ ...c, title: titles[c.key] })),
    rows,
    memoryKind,
    manySetups: setups.length > 1,
  };
}

const COLUMNS: readonly ComparisonColumn[] = [
  { key: "tokens_per_s", title: "", better: "higher", digits: 1 },
  { key: "prefill_ms", title: "", better: "lower", digits: 1 },
  { key: "memory_gb", title: "", better: "lower", digits: 2 },
  { key: "ppl", title: "", better: "lower", digits: 2 },
  { key: "delta_ppl_pct", title: "", better: "lower", digits: 2 },
];

function score(rows: ComparisonRow[], column: ComparisonColumn): void {
  const values = rows.map((r) => r[column.key]).filter((v): v is number => v !== null);
  if (values.length === 0) return;
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  for (const row of rows) {
    const v = row[column.key];
    if (v === null) continue;
    const s = hi === lo ? 1 : (v - lo) / (hi - lo);
    row.scores[column.key] = column.better === "higher" ? s : 1 - s;
  }
}
