/**
 * The sweep's cells without the sweep's table writer: the GPU bundle cannot carry Polars (a
 * 115 MB native library, docs/gpu.md), so the check runs the spec's grid through the sweep's own
 * block runner (`runBlock`: one live worker per arm, rounds, the same rows, the same stamp) and writes
 * `results.csv` itself in the sweep's column order, which `readTable`, `deno task report` and
 * `deno task merge` read like any sweep's.
 *
 * @module
 */
import { BENCH_FIELDS, type BenchRow } from "../results/schema.ts";
import { expandGrid } from "../sweep/grid.ts";
import { collectProvenance } from "../sweep/orchestrator.ts";
import { groupBlocks } from "../sweep/blocks.ts";
import { runBlock } from "../sweep/block_runner.ts";
import { rowStamp } from "../sweep/shard.ts";
import type { SweepSpec } from "../sweep/spec.ts";

/**
 * One CSV field as the sweep's files write it: empty for null, `""` for an empty string (so it
 * reads back as one), `true`/`false`, numbers as JavaScript prints them, strings quoted when they
 * hold a comma, quote or line break.
 *
 * @param value The value.
 * @returns The field text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvField } from "./cells.ts";
 * assert.equal(csvField(null), "");
 * assert.equal(csvField('a "b", c'), '"a ""b"", c"');
 * assert.equal(csvField(false), "false");
 * assert.equal(csvField(""), '""');
 * ```
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  if (text === "") return '""';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * `results.csv` text of rows, in {@linkcode BENCH_FIELDS} order.
 *
 * @param rows The rows.
 * @returns The CSV text (header included).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultsCsv } from "./cells.ts";
 * assert.match(resultsCsv([]), /^run_id,cell_id,timestamp,/);
 * ```
 */
export function resultsCsv(rows: readonly BenchRow[]): string {
  const lines = [BENCH_FIELDS.join(",")];
  for (const row of rows) {
    const record = row as unknown as Record<string, unknown>;
    lines.push(BENCH_FIELDS.map((f) => csvField(record[f])).join(","));
  }
  return lines.join("\n") + "\n";
}

/** Options of {@linkcode runSweepCells}. */
export interface SweepCellsOptions {
  /** Where `results.csv` goes (rewritten after every block). */
  resultsPath: string;
  /** Where the rows go as JSON, also after every block (a kill keeps the blocks done). */
  rowsPath?: string;
  /** Epoch ms after which no new cell starts. */
  deadlineMs: number;
  /** Progress lines. @default console.error */
  log?: (line: string) => void;
}

/**
 * Runs every block of a spec, one live worker per arm, writing `results.csv` after each block.
 *
 * @param spec The parsed spec.
 * @param options Output path, deadline.
 * @returns The rows and how many cells the deadline left unstarted.
 * @example
 * ```ts ignore
 * import { parseSweepSpec } from "../sweep/spec.ts";
 * await runSweepCells(parseSweepSpec(json), { resultsPath: "results.csv", deadlineMs: Date.now() + 6e5 });
 * ```
 */
export async function runSweepCells(
  spec: SweepSpec,
  options: SweepCellsOptions,
): Promise<{ rows: BenchRow[]; cellsLeft: number }> {
  const log = options.log ?? ((line: string) => console.error(line));
  const provenance = await collectProvenance();
  const stamp = rowStamp(spec, null, Deno.env.toObject());
  const blocks = groupBlocks(spec, expandGrid(spec));
  const total = blocks.reduce((a, b) => a + b.arms.length, 0);
  const rows: BenchRow[] = [];
  let done = 0;
  let cellsLeft = 0;
  for (const [i, block] of blocks.entries()) {
    const result = await runBlock(spec, block, provenance, { hardDeadlineMs: options.deadlineMs });
    if (result === "budget") {
      cellsLeft = blocks.slice(i).reduce((a, b) => a + b.arms.length, 0);
      break;
    }
    for (const cell of block.arms) {
      const cellRows = result.rows.get(cell.id) ?? [];
      for (const row of cellRows) {
        if (!row.weights) row.weights = cell.model.startsWith("preset:") ? "random" : "";
        Object.assign(row, stamp);
      }
      rows.push(...cellRows);
      done++;
      const bad = cellRows.find((r) => r.status !== "ok");
      log(`cell ${done}/${total} ${cell.id}${bad ? `: FAILED ${bad.error}` : ""}`);
    }
    // After every block: a kill keeps the blocks done.
    await Deno.writeTextFile(options.resultsPath, resultsCsv(rows));
    if (options.rowsPath) await Deno.writeTextFile(options.rowsPath, JSON.stringify(rows));
  }
  if (cellsLeft > 0) log(`deadline reached: ${cellsLeft} cells not started`);
  return { rows, cellsLeft };
}
