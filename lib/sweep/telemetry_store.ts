/**
 * The sweep's `benchmarks/telemetry.csv`: every cell's measured-window samples, tagged with its
 * cell id, laid end to end on one time axis of *measured* time (each cell's window starts where
 * the previous cell's ended; worker starts, model loads and warmups are left out). A resumed
 * sweep keeps the cells it does not rerun, a rerun cell's samples replace its old ones, and the
 * file is rewritten atomically after every cell, like `results.csv`.
 *
 * @module
 */
import type { TelemetryRun } from "../measure/telemetry.ts";
import {
  readTelemetry,
  type TelemetryRow,
  telemetryRows,
  writeTelemetryRows,
} from "../results/telemetry_table.ts";

/**
 * Telemetry rows by cell, in first-seen order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TelemetryStore } from "./telemetry_store.ts";
 * const run = (label: string) => ({
 *   intervalMs: 100, startedAt: "", gpuSource: null, gpuReason: "off",
 *   marks: [{ tMs: 0, label }, { tMs: 250, label: null }],
 *   series: [100, 200].map((tMs) => ({ tMs, processCpuPct: 90, systemCpuPct: 50, coreCpuPct: [90, 10], rssBytes: 1, memAvailableBytes: 2, load1: 1, gpu: null })),
 * });
 * const store = new TelemetryStore();
 * store.replace("a", run("a"));
 * store.replace("b", run("b"));
 * assert.deepEqual(store.rows().map((r) => [r.cell, r.t_ms]), [["a", 100], ["a", 200], ["b", 300], ["b", 400]]);
 * ```
 */
export class TelemetryStore {
  /** Each cell's rows with `t_ms` from the start of its own window. */
  readonly #cells = new Map<string, TelemetryRow[]>();

  /**
   * Reads an existing sweep telemetry file (none: an empty store).
   *
   * @param path `benchmarks/telemetry.csv`.
   * @returns The store.
   * @throws {SyntaxError} naming the file when it is not a telemetry table.
   */
  static async load(path: string): Promise<TelemetryStore> {
    const store = new TelemetryStore();
    let rows: TelemetryRow[];
    try {
      rows = await readTelemetry(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return store;
      throw error;
    }
    // Undo the layout of `rows()`: a cell's times continue from the previous cell's last one.
    let previousEnd = 0;
    let current: string | null = null;
    let lastT = 0;
    for (const row of rows) {
      if (row.cell === null) continue;
      if (row.cell !== current) {
        previousEnd = current === null ? 0 : lastT;
        current = row.cell;
      }
      lastT = row.t_ms;
      const list = store.#cells.get(row.cell) ?? [];
      list.push({ ...row, t_ms: row.t_ms - previousEnd });
      store.#cells.set(row.cell, list);
    }
    return store;
  }

  /**
   * Sets a cell's samples (a rerun replaces the old ones, keeping the cell's place).
   *
   * @param cellId The cell.
   * @param run Its measured window's telemetry (`WindowTelemetry.finish().run`).
   */
  replace(cellId: string, run: TelemetryRun): void {
    this.#cells.set(cellId, telemetryRows(run).map((r) => ({ ...r, cell: cellId })));
  }

  /**
   * Sets a cell's samples from another store (a merge of shards).
   *
   * @param cellId The cell.
   * @param rows Its rows as {@linkcode samplesOf} gives them (times from the cell's start).
   */
  adopt(cellId: string, rows: readonly TelemetryRow[]): void {
    this.#cells.set(cellId, rows.map((r) => ({ ...r, cell: cellId })));
  }

  /**
   * A cell's samples, times from the cell's start.
   *
   * @param cellId The cell.
   * @returns Its rows (empty when it has none).
   */
  samplesOf(cellId: string): TelemetryRow[] {
    return [...(this.#cells.get(cellId) ?? [])];
  }

  /**
   * Drops a cell's samples (it was rerun and sent none, e.g. it failed).
   *
   * @param cellId The cell.
   */
  delete(cellId: string): void {
    this.#cells.delete(cellId);
  }

  /**
   * Cells with samples.
   *
   * @returns Their ids, in file order.
   */
  cells(): string[] {
    return [...this.#cells.keys()];
  }

  /**
   * Every row on one axis of measured time.
   *
   * @returns The rows, cell after cell.
   */
  rows(): TelemetryRow[] {
    const out: TelemetryRow[] = [];
    let end = 0;
    for (const rows of this.#cells.values()) {
      for (const r of rows) out.push({ ...r, t_ms: end + r.t_ms });
      end = out.at(-1)?.t_ms ?? end;
    }
    return out;
  }

  /**
   * Writes the file atomically.
   *
   * @param path `benchmarks/telemetry.csv`.
   * @returns Rows written.
   */
  async write(path: string): Promise<number> {
    return await writeTelemetryRows(path, this.rows());
  }
}
