/**
 * The sweep's row store: the rows of `results.csv` by cell, which cells are complete (resume),
 * and reading an existing table strictly (a corrupt file stops the sweep before anything is
 * overwritten).
 *
 * @module
 */
import { join } from "node:path";
import type { BenchRow, PerplexityRow } from "../results/schema.ts";
import { readTable } from "../results/table.ts";

/**
 * The bench rows of a sweep, keyed by cell; a cell's rows are replaced as a whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RowStore } from "./row_store.ts";
 * const store = new RowStore([]);
 * store.replace("c", [{ cell_id: "c", status: "ok", round: 1, spec_hash: "h" } as never]);
 * assert(store.isComplete("c", "h", 1) && !store.isComplete("c", "other", 1));
 * ```
 */
export class RowStore {
  #byCell = new Map<string, BenchRow[]>();

  /**
   * Creates a store holding `rows`.
   *
   * @param rows Rows read from an existing results.csv.
   */
  constructor(rows: readonly BenchRow[]) {
    for (const row of rows) {
      const list = this.#byCell.get(row.cell_id) ?? [];
      list.push(row);
      this.#byCell.set(row.cell_id, list);
    }
  }

  /**
   * A cell is complete when it has at least `minRows` rows, none failed (failed cells are
   * retried), every row ran in a round (rows of the one-block-per-cell design have none) and
   * every row was measured under this spec (`spec_hash`): rows of another spec — other runs,
   * tokens, rounds — are redone, never mixed into this one's results.
   *
   * @param cellId The cell.
   * @param specHash The spec's hash (lib/sweep/shard.ts `specHash`).
   * @param minRows Rows the spec's `min_rounds` make at least.
   * @returns Whether the cell can be skipped.
   */
  isComplete(cellId: string, specHash: string, minRows: number): boolean {
    const rows = this.#byCell.get(cellId);
    return rows !== undefined && rows.length >= minRows &&
      rows.every((r) =>
        r.status === "ok" && (r.round ?? null) !== null && r.spec_hash === specHash
      );
  }

  /**
   * Replaces a cell's rows.
   *
   * @param cellId The cell.
   * @param rows Its new rows.
   */
  replace(cellId: string, rows: BenchRow[]): void {
    this.#byCell.delete(cellId);
    this.#byCell.set(cellId, rows);
  }

  /**
   * Every row, cells in insertion order.
   *
   * @returns The rows.
   */
  all(): BenchRow[] {
    return [...this.#byCell.values()].flat();
  }
}

/**
 * Creates `dir` and checks that a file can be written in it.
 *
 * @param dir The directory.
 * @throws {Error} naming the directory when it is not writable.
 */
export async function ensureWritable(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${Deno.pid}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new Error(
      `Cannot run sweep: output dir '${dir}' is not writable (${(error as Error).message})`,
    );
  }
}

/**
 * Reads an existing table, or `[]` when the file is missing.
 *
 * @param path The CSV.
 * @param kind Which table.
 * @returns Its rows.
 * @throws {Error} when the file is corrupt, saying how to start afresh (nothing is overwritten).
 */
export async function readExisting<K extends "bench" | "perplexity">(
  path: string,
  kind: K,
): Promise<(K extends "bench" ? BenchRow : PerplexityRow)[]> {
  try {
    return await readTable(path, kind) as never;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw new Error(
      `${(error as Error).message}. Nothing was overwritten: move it away ` +
        `('mv ${path} ${path}.bad') to start afresh, or repair it, then rerun`,
    );
  }
}
