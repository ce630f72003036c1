/**
 * The Markdown table of a llama.cpp comparison, rendered from `cells.csv` lines (or cells on
 * their way there): every figure in it was computed by lib/analysis; this only formats.
 *
 * @module
 */
import { cellLine } from "./files.ts";
import type { VersusCell } from "./versus.ts";

const HEADER = [
  "| model | ours | llama.cpp | context | rounds | ours decode tok/s (median over rounds) | " +
  "llama.cpp decode tok/s (median over rounds) | ratio of medians | " +
  "ours ÷ llama.cpp (geometric mean of per-round ratios) | 95 % t interval | " +
  "llama.cpp A/A interval | verdict (ours vs llama.cpp) | target | " +
  "MB read per token, ours / llama.cpp | GB/s at the median rate, ours / llama.cpp " +
  "(% of the measured read bandwidth) |",
  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|",
];

/**
 * The table, one line per cell.
 *
 * @param cells Cells, or lines read back from `cells.csv` (every value a string).
 * @returns Markdown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { versusTable } from "./table.ts";
 * const t = versusTable([{ model: "preset:small", dtype: "q4", quantization: "q4 b32 acc4",
 *   llama_type: "Q4_0", context: "128", new_tokens: "32", rounds: "5", ours_median_tok_s: "600",
 *   llamacpp_median_tok_s: "1000", ratio_of_medians: "0.6", ratio_geomean: "0.61",
 *   ratio_ci_low: "0.55", ratio_ci_high: "0.68", verdict: "slower", aa_ratio: "1.01",
 *   aa_ci_low: "0.95", aa_ci_high: "1.07", target: "0.8", target_verdict: "missed",
 *   ours_bytes_per_token: "8000000", llamacpp_bytes_per_token: "6000000",
 *   ours_effective_gb_s: "4.8", llamacpp_effective_gb_s: "6", ours_bandwidth_fraction: "0.2",
 *   llamacpp_bandwidth_fraction: "0.25" }]);
 * assert(t.includes("| preset:small | q4 (q4 b32 acc4) | Q4_0 | 128 | 5 | 600.0 | 1000.0 | 0.60 | 0.61 | 0.55–0.68 | 0.95–1.07 | slower | ≥ 0.8: missed | 8.00 / 6.00 | 4.8 / 6.0 (20 % / 25 %) |"));
 * // A CSV written before these columns existed renders them as "—".
 * const old = versusTable([{ model: "m", dtype: "q4", llama_type: "Q4_0", verdict: "slower" }]);
 * assert(old.split("\n")[2]!.endsWith("| — | — |"));
 * ```
 */
export function versusTable(
  cells: readonly (VersusCell | Readonly<Record<string, unknown>>)[],
): string {
  const lines = [...HEADER];
  // A figure of a CSV line ("" when empty) or of a cell (null when empty), as a number.
  const val = (x: unknown) => x === null || x === "" || x === undefined ? NaN : Number(x);
  const num = (x: unknown, digits: number) => {
    const v = val(x);
    return Number.isFinite(v) ? v.toFixed(digits) : "—";
  };
  // Ours / llama.cpp, "—" when neither side has the figure.
  const pair = (a: unknown, b: unknown, digits: number, scale = 1) =>
    Number.isFinite(val(a)) || Number.isFinite(val(b))
      ? `${num(val(a) / scale, digits)} / ${num(val(b) / scale, digits)}`
      : "—";
  const pct = (x: unknown) => Number.isFinite(val(x)) ? `${(val(x) * 100).toFixed(0)} %` : "—";
  // Rounded outward, so a printed interval always holds the one the verdict was taken on.
  const range = (lo: unknown, hi: unknown) => {
    const [a, b] = [Number(lo), Number(hi)];
    if (
      lo === null || lo === "" || lo === undefined || !Number.isFinite(a) || !Number.isFinite(b)
    ) {
      return "—";
    }
    return `${(Math.floor(a * 100 + 1e-9) / 100).toFixed(2)}–${
      (Math.ceil(b * 100 - 1e-9) / 100).toFixed(2)
    }`;
  };
  for (const cell of cells) {
    const c: Readonly<Record<string, unknown>> = "comparison" in cell
      ? cellLine(cell as VersusCell)
      : cell;
    const q = c.quantization ? `${c.dtype} (${c.quantization})` : String(c.dtype);
    const target = c.target === null || c.target === ""
      ? "—"
      : `≥ ${c.target}: ${c.target_verdict}`;
    const fractions = Number.isFinite(val(c.ours_bandwidth_fraction)) ||
        Number.isFinite(val(c.llamacpp_bandwidth_fraction))
      ? ` (${pct(c.ours_bandwidth_fraction)} / ${pct(c.llamacpp_bandwidth_fraction)})`
      : "";
    const gbs = pair(c.ours_effective_gb_s, c.llamacpp_effective_gb_s, 1);
    lines.push(
      `| ${c.model} | ${q} | ${c.llama_type} | ${c.context} | ${c.rounds} | ${
        num(c.ours_median_tok_s, 1)
      } | ${num(c.llamacpp_median_tok_s, 1)} | ${num(c.ratio_of_medians, 2)} | ${
        num(c.ratio_geomean, 2)
      } | ${range(c.ratio_ci_low, c.ratio_ci_high)} | ${
        range(c.aa_ci_low, c.aa_ci_high)
      } | ${c.verdict} | ${target} | ${
        pair(c.ours_bytes_per_token, c.llamacpp_bytes_per_token, 2, 1e6)
      } | ${gbs === "—" ? gbs : gbs + fractions} |`,
    );
  }
  return lines.join("\n");
}
