/**
 * The files a llama.cpp comparison writes into its folder (`benchmarks/llamacpp/<model>/` by
 * default): `turns.csv` (every turn of every arm, warmups marked), `cells.csv` (one line per
 * dtype × context: medians, the paired ratio with its interval and verdict, the A/A, the target
 * verdict — computed by lib/analysis) and `run.json` (what it ran on: llama.cpp's version, threads,
 * load average before and after, commit, CPU). Each file is written to a temporary name and
 * renamed, so a failed run leaves the previous files whole. The docs' generated table reads
 * `cells.csv`.
 *
 * @module
 */
import { join } from "node:path";
import { csvField } from "../gpu/cells.ts";
import type { VersusCell, VersusTurn } from "./versus.ts";

/** Columns of `cells.csv`, in order. */
export const CELL_FIELDS = [
  "model",
  "dtype",
  "quantization",
  "llama_type",
  "context",
  "new_tokens",
  "rounds",
  "ours_median_tok_s",
  "llamacpp_median_tok_s",
  "ratio_of_medians",
  "ratio_geomean",
  "ratio_ci_low",
  "ratio_ci_high",
  "verdict",
  "aa_ratio",
  "aa_ci_low",
  "aa_ci_high",
  "target",
  "target_verdict",
  "ours_bytes_per_token",
  "llamacpp_bytes_per_token",
  "ours_effective_gb_s",
  "llamacpp_effective_gb_s",
  "ours_bandwidth_fraction",
  "llamacpp_bandwidth_fraction",
] as const;

/** One line of `cells.csv`. */
export type CellLine = Record<(typeof CELL_FIELDS)[number], string | number | null>;

/**
 * A cell as a `cells.csv` line.
 *
 * @param c The cell.
 * @returns Its fields.
 * @example
 * ```ts ignore
 * const line = cellLine(cells[0]);
 * ```
 */
export function cellLine(c: VersusCell): CellLine {
  return {
    model: c.model,
    dtype: c.dtype,
    quantization: c.quantization,
    llama_type: c.llama_type,
    context: c.context,
    new_tokens: c.new_tokens,
    rounds: c.rounds,
    ours_median_tok_s: c.ours_median,
    llamacpp_median_tok_s: c.theirs_median,
    ratio_of_medians: c.ratio_of_medians,
    ratio_geomean: c.comparison.ratio,
    ratio_ci_low: c.comparison.ci95?.[0] ?? null,
    ratio_ci_high: c.comparison.ci95?.[1] ?? null,
    verdict: c.comparison.verdict,
    aa_ratio: c.aa.ratio,
    aa_ci_low: c.aa.ci95?.[0] ?? null,
    aa_ci_high: c.aa.ci95?.[1] ?? null,
    target: c.target,
    target_verdict: c.target_verdict,
    ours_bytes_per_token: c.ours_bytes_per_token,
    llamacpp_bytes_per_token: c.llamacpp_bytes_per_token,
    ours_effective_gb_s: c.ours_effective_gb_s,
    llamacpp_effective_gb_s: c.llamacpp_effective_gb_s,
    ours_bandwidth_fraction: c.ours_bandwidth_fraction,
    llamacpp_bandwidth_fraction: c.llamacpp_bandwidth_fraction,
  };
}

/**
 * CSV text of records with the given columns.
 *
 * @param fields Column names.
 * @param rows Records.
 * @returns Header and lines.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toCsv } from "./files.ts";
 * assert.equal(toCsv(["a", "b"], [{ a: 1, b: "x,y" }]), 'a,b\n1,"x,y"\n');
 * ```
 */
export function toCsv(
  fields: readonly string[],
  rows: readonly Record<string, unknown>[],
): string {
  return [fields.join(","), ...rows.map((r) => fields.map((f) => csvField(r[f])).join(","))]
    .join("\n") + "\n";
}

/**
 * Parses CSV text written by {@linkcode toCsv} (quoted fields allowed).
 *
 * @param text The CSV.
 * @returns One record per line, every value a string (empty for a missing value).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsv, toCsv } from "./files.ts";
 * assert.deepEqual(parseCsv(toCsv(["a", "b"], [{ a: 1, b: 'x,"y"' }])), [{ a: "1", b: 'x,"y"' }]);
 * ```
 */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let field = "";
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (ch !== "\r") field += ch;
  }
  if (field !== "" || row.length > 0) rows.push([...row, field]);
  const [header, ...body] = rows;
  if (!header) return [];
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

/** Columns of `turns.csv`, in order. */
export const TURN_FIELDS = [
  "dtype",
  "llama_type",
  "context",
  "round",
  "warmup",
  "position",
  "contender",
  "new_tokens",
  "decode_ms",
  "decode_tok_s",
  "first_step_ms",
  "later_step_median_ms",
] as const;

/**
 * Writes `turns.csv`, `cells.csv` and `run.json` into a folder, each atomically.
 *
 * @param dir The folder (made if missing).
 * @param result Turns and cells.
 * @param run What it ran on.
 * @example
 * ```ts ignore
 * await writeVersusFiles("benchmarks/llamacpp/small", { turns, cells }, { llama_cpp: "1 (c392e50)" });
 * ```
 */
export async function writeVersusFiles(
  dir: string,
  result: { turns: readonly VersusTurn[]; cells: readonly VersusCell[] },
  run: Record<string, unknown>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    [
      "turns.csv",
      toCsv(TURN_FIELDS, result.turns as unknown as Record<string, unknown>[]),
    ],
    ["cells.csv", toCsv(CELL_FIELDS, result.cells.map(cellLine))],
    ["run.json", JSON.stringify(run, null, 2) + "\n"],
  ];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await Deno.writeTextFile(`${path}.partial`, text);
    await Deno.rename(`${path}.partial`, path);
  }
}
