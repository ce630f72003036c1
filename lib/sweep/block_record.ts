/**
 * What the orchestrator keeps of a finished block: its rows stamped and stored by cell, its
 * arms' telemetry, the history record, its `blocks.json` entry, and its progress label.
 *
 * @module
 */
import { recordSweepCell } from "../history/record.ts";
import type { BenchRow } from "../results/schema.ts";
import { NOISY_CV } from "../measure/run_checks.ts";
import { summarize } from "../measure/stats.ts";
import type { BlockResult } from "./block_runner.ts";
import type { RowStore } from "./row_store.ts";
import type { BlockRecord } from "./run_files.ts";
import type { SweepSpec } from "./spec.ts";
import type { TelemetryStore } from "./telemetry_store.ts";

/**
 * Stores a block's rows (stamped) and telemetry, and records them in the history.
 *
 * @param spec The sweep spec.
 * @param result The block's result.
 * @param into The row and telemetry stores, and each model's stamp.
 * @returns The block's record, how many arms succeeded, and `cell: reason` of each that failed.
 */
export function recordBlock(
  spec: SweepSpec,
  result: BlockResult,
  into: {
    store: RowStore;
    telemetry: TelemetryStore;
    stamp: (model: string) => Partial<BenchRow>;
  },
): { record: BlockRecord; ok: number; failed: string[] } {
  let ok = 0;
  const failed: string[] = [];
  for (const cell of result.block.arms) {
    const rows = result.rows.get(cell.id) ?? [];
    const stamp = into.stamp(cell.model);
    for (const row of rows) Object.assign(row, { ...stamp, weights: row.weights || stamp.weights });
    into.store.replace(cell.id, rows);
    const run = result.telemetry.get(cell.id);
    if (run) into.telemetry.replace(cell.id, run);
    else into.telemetry.delete(cell.id);
    const error = rows.find((r) => r.status !== "ok");
    if (error) failed.push(`${cell.id}: ${error.error}`);
    else ok++;
    recordSweepCell(rows); // history: benchmarks/history.sqlite ($TURBO_HISTORY_DB)
  }
  const record: BlockRecord = {
    block: result.block.id,
    cells: result.block.arms.map((c) => c.id),
    rounds: result.rounds,
    stop: result.stop,
    settled: result.stop === "settled",
    seconds: result.seconds,
    telemetry: spec.telemetry_interval_ms !== 0,
  };
  return { record, ok, failed };
}

/**
 * A block's progress label: rounds and why they stopped, failed arms, noisy arms.
 *
 * @param result The block's result.
 * @returns For example `m|cpu|ctx=128|b=1|conversational: 5 rounds (budget)`.
 */
export function blockLabel(result: BlockResult): string {
  const arms = result.block.arms;
  const noisy = arms.filter((c) => {
    const cv = decodeCv(result.rows.get(c.id) ?? []);
    return cv !== null && cv > NOISY_CV;
  }).length;
  const failed = arms.filter((c) => result.rows.get(c.id)?.[0]?.status !== "ok");
  return `${result.block.id}: ${result.rounds} rounds (${result.stop})` +
    (failed.length > 0 ? `; FAILED ${failed.map((c) => c.id.split("|")[1]).join(", ")}` : "") +
    (noisy > 0 ? `; ${noisy} arms noisy (decode CV > ${NOISY_CV * 100} %)` : "");
}

/** Coefficient of variation of an arm's per-run decode tokens/s; null below two runs. */
function decodeCv(rows: readonly BenchRow[]): number | null {
  const rates = rows.flatMap((r) => r.decode_tokens_per_s === null ? [] : [r.decode_tokens_per_s]);
  if (rates.length < 2) return null;
  const s = summarize(rates);
  return s.mean === 0 ? null : s.std / s.mean;
}
