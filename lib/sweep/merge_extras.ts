/**
 * The files beside a shard's `results.csv` that its reports read — `telemetry.csv` (each cell's
 * measured-window series) and `preflight.json` (the doctor's verdicts on that shard's machine) —
 * merged so a merged report keeps every shard's telemetry figure and pre-flight warnings.
 *
 * @module
 */
import { join } from "node:path";
import type { CheckResult } from "../doctor/check.ts";
import type { PreflightSummary } from "../report/run_health.ts";
import { TelemetryStore } from "./telemetry_store.ts";

/** One shard's directory holding the files (its `benchmarks/`, or itself), with its label. */
export interface ShardFiles {
  /** The directory `results.csv` was read from. */
  benchDir: string;
  /** `I/N` (or the directory when unsharded), used to label its pre-flight checks. */
  label: string;
  /** Host that ran the shard (empty when unknown). */
  host: string;
}

/**
 * Concatenates the shards' telemetry, cell after cell in shard order, on one axis of measured
 * time (a shard without `telemetry.csv` adds nothing).
 *
 * @param shards The shards, in the order given to the merge.
 * @returns The merged store (empty when no shard sampled telemetry).
 * @throws {Error} naming the cell when two shards hold samples of the same cell.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeTelemetry } from "./merge_extras.ts";
 * const dir = await Deno.makeTempDir();
 * const store = await mergeTelemetry([{ benchDir: dir, label: "0/2", host: "a" }]);
 * assert.deepEqual(store.cells(), []);
 * ```
 */
export async function mergeTelemetry(shards: readonly ShardFiles[]): Promise<TelemetryStore> {
  const merged = new TelemetryStore();
  for (const shard of shards) {
    const store = await TelemetryStore.load(join(shard.benchDir, "telemetry.csv"));
    for (const cell of store.cells()) {
      if (merged.cells().includes(cell)) {
        throw new Error(
          `merge: telemetry of cell '${cell}' is in two shards (again in '${shard.benchDir}')`,
        );
      }
      merged.adopt(cell, store.samplesOf(cell));
    }
  }
  return merged;
}

/**
 * Joins the shards' pre-flight verdicts into one summary; each check's name is prefixed with its
 * shard and host (`[0/3 node-a] background load`). Null when no shard has a `preflight.json`.
 *
 * @param shards The shards, in the order given to the merge.
 * @returns The merged summary (`checked_at` the earliest shard's), or null.
 * @throws {SyntaxError} naming the file when a `preflight.json` is not one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergePreflight } from "./merge_extras.ts";
 * const dir = await Deno.makeTempDir();
 * const check = { name: "deno", status: "warn" as const, detail: "x", advice: "y" };
 * await Deno.writeTextFile(`${dir}/preflight.json`, JSON.stringify({ checked_at: "t", checks: [check] }));
 * const merged = await mergePreflight([{ benchDir: dir, label: "1/2", host: "b" }]);
 * assert.equal(merged?.checks[0]?.name, "[1/2 b] deno");
 * assert.deepEqual(merged?.counts, { pass: 0, warn: 1, fail: 0 });
 * ```
 */
export async function mergePreflight(
  shards: readonly ShardFiles[],
): Promise<PreflightSummary | null> {
  const checks: CheckResult[] = [];
  const times: string[] = [];
  for (const shard of shards) {
    const path = join(shard.benchDir, "preflight.json");
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const value = JSON.parse(text) as Partial<PreflightSummary>;
    if (!Array.isArray(value.checks)) throw new SyntaxError(`'${path}' has no checks array`);
    if (typeof value.checked_at === "string") times.push(value.checked_at);
    const tag = [shard.label, shard.host].filter((s) => s !== "").join(" ");
    for (const c of value.checks) checks.push({ ...c, name: `[${tag}] ${c.name}` });
  }
  if (checks.length === 0 && times.length === 0) return null;
  const count = (s: CheckResult["status"]) => checks.filter((c) => c.status === s).length;
  return {
    checked_at: times.sort()[0] ?? "",
    checks,
    counts: { pass: count("pass"), warn: count("warn"), fail: count("fail") },
  };
}
