/**
 * The comparison table of dtypes the brief asks for: decode tokens/s at the longest cached
 * context, prefill, memory, PPL and ΔPPL per (model, device, dtype), each cell with a 0–1 score
 * (1 = best in its column within its setup) that drives the colours.
 *
 * @module
 */
import { compareDtypes, displayLabel } from "./_util.ts";
import type { ReportData } from "./report_data.ts";
import { type FinalReport, finalReport } from "./final_report.ts";

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
  /** Pooled decode tokens/s at that context, cache on (lib/analysis `cellRate`). */
  tokens_per_s: number | null;
  /** Mean prefill at that context, ms. */
  prefill_ms: number | null;
  /** Peak memory over the dtype's cache-on cells, GB (VRAM when measured, else RSS). */
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
  return comparisonTableOf(finalReport(data));
}

/**
 * The comparison table of a final report: every value is the one `final_report.json` holds for
 * the dtype (speed and prefill at the setup's longest cached context, the peak memory over the
 * dtype's cache-on cells, perplexity and ΔPPL), so the table, the summary PNG and the notebook
 * can never print another number than the JSON.
 *
 * @param report From `finalReport`.
 * @returns Columns, rows and which memory the memory column shows.
 */
export function comparisonTableOf(report: FinalReport): ComparisonTable {
  const all = Object.values(report.by_model).flatMap((e) => Object.values(e));
  const memoryKind = all.some((e) => e.vram_gb !== null) ? "VRAM" : "RSS";
  const contexts = new Set<number>();
  const rows: ComparisonRow[] = [];
  const setups = Object.keys(report.by_model);
  for (const key of setups) {
    const ext = report.extended[key]!;
    const entries = Object.entries(report.by_model[key]!)
      .toSorted((a, b) => compareDtypes(a[1].dtype, b[1].dtype));
    const cached = entries.map(([, e]) => e.longest_context).filter((c): c is number => c !== null);
    const context = cached.length > 0 ? Math.max(...cached) : null;
    if (context !== null) contexts.add(context);
    const mine: ComparisonRow[] = entries.map(([label, e]) => {
      const there = e.longest_context === context;
      return {
        model: ext.model,
        device: ext.device,
        dtype: e.dtype,
        setup: key,
        label: displayLabel(e.dtype),
        context_tokens: context,
        tokens_per_s: there ? e.tokens_s_longest : null,
        prefill_ms: there ? e.prefill_ms_longest : null,
        memory_gb: memoryKind === "VRAM" ? e.vram_gb : e.rss_gb,
        ppl: e.ppl,
        delta_ppl_pct: ext.quality[label]?.delta_ppl_pct ?? null,
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
