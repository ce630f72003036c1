/**
 * Private helpers of lib/report: dtype labels and order, number formatting, and the facet wrapper
 * the figures share. Never re-exported.
 *
 * @module
 */
import { DTYPE_REPORT_LABEL, DTYPES, isDtype } from "../dtypes.ts";

/** Bytes per GB in every figure and report (decimal, as GPU tools print it). */
export const BYTES_PER_GB = 1e9;

/** The label the brief uses for `dtype` (`q8` → `int8`), or the dtype itself when unknown. */
export function reportLabel(dtype: string): string {
  return isDtype(dtype) ? DTYPE_REPORT_LABEL[dtype] : dtype;
}

/** A label that shows both names when they differ: `int8 (q8)`, `fp16`. */
export function displayLabel(dtype: string): string {
  const label = reportLabel(dtype);
  return label === dtype ? dtype : `${label} (${dtype})`;
}

/** Sort key for a dtype: its position in DTYPES (unknown dtypes last, by name). */
export function dtypeRank(dtype: string): number {
  const i = (DTYPES as readonly string[]).indexOf(dtype);
  return i < 0 ? DTYPES.length : i;
}

/** Compares dtypes in DTYPES order. */
export function compareDtypes(a: string, b: string): number {
  return dtypeRank(a) - dtypeRank(b) || a.localeCompare(b);
}

/** Distinct values of `key` over `rows`, in first-seen order. */
export function distinct<T, K>(rows: readonly T[], key: (row: T) => K): K[] {
  return [...new Set(rows.map(key))];
}

/** Formats a number for prose and tables; `—` for null. */
export function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Rounds to `digits` decimals, keeping null. */
export function round(value: number | null | undefined, digits = 3): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A (model, device) pair: the unit a comparison table or report section covers. */
export interface Setup {
  /** Model reference. */
  model: string;
  /** Device. */
  device: string;
  /** The key reports use: the model, plus ` (device)` when the model ran on several devices. */
  key: string;
}

/** The setups in `rows`, in first-seen order. */
export function setupsOf(rows: readonly { model: string; device: string }[]): Setup[] {
  const pairs = distinct(rows, (r) => `${r.model}\u0000${r.device}`).map((k) => {
    const [model = "", device = ""] = k.split("\u0000");
    return { model, device };
  });
  return pairs.map(({ model, device }) => ({
    model,
    device,
    key: pairs.filter((p) => p.model === model).length > 1 ? `${model} (${device})` : model,
  }));
}

/** The rows of one setup at its smallest batch (the headline numbers use one batch size). */
export function setupRows<T extends { model: string; device: string; batch: number }>(
  rows: readonly T[],
  setup: Setup,
): T[] {
  const mine = rows.filter((r) => r.model === setup.model && r.device === setup.device);
  const batch = Math.min(...mine.map((r) => r.batch));
  return mine.filter((r) => r.batch === batch);
}

/** Splits text into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}
