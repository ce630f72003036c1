/**
 * Where a sweep writes, so that a forced run never mixes runs: it starts from an empty result
 * set in a staging folder (`benchmarks/.staging/`) and moves its files over the old ones only
 * when it ends (completed, or stopped by its budget); a run that fails or is killed leaves the
 * old files as they were. Also the per-block record (`blocks.json`: rounds run, why they
 * stopped) and the budget stop's message (which cells are missing, the command that resumes).
 *
 * @module
 */
import { join } from "node:path";
import type { RoundStop } from "../measure/rounds.ts";

/** Name of the staging folder inside `benchmarks/`. */
export const STAGING_DIR = ".staging";

/** The run's output folder and how it ends. */
export interface RunFiles {
  /** Where this run's files are written now. */
  dir: string;
  /** Moves a forced run's files over the old ones (a no-op otherwise). */
  commit(): Promise<void>;
  /** Drops a forced run's files, keeping the old ones (a no-op otherwise). */
  abandon(): Promise<void>;
}

/**
 * Opens the run's output folder: `benchDir` itself, or for a forced run a fresh staging folder.
 *
 * @param benchDir `OUT/benchmarks`.
 * @param forced Whether the run starts from an empty result set.
 * @returns The folder and its commit / abandon.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { openRunFiles } from "./run_files.ts";
 * const bench = await Deno.makeTempDir();
 * await Deno.writeTextFile(join(bench, "results.csv"), "old");
 * const run = await openRunFiles(bench, true);
 * await Deno.writeTextFile(join(run.dir, "results.csv"), "new");
 * assert.equal(await Deno.readTextFile(join(bench, "results.csv")), "old");
 * await run.commit();
 * assert.equal(await Deno.readTextFile(join(bench, "results.csv")), "new");
 * ```
 */
export async function openRunFiles(benchDir: string, forced: boolean): Promise<RunFiles> {
  if (!forced) return { dir: benchDir, commit: async () => {}, abandon: async () => {} };
  const dir = join(benchDir, STAGING_DIR);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  return {
    dir,
    commit: async () => {
      for (const entry of Deno.readDirSync(dir)) {
        if (entry.isFile) await Deno.rename(join(dir, entry.name), join(benchDir, entry.name));
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    abandon: async () => {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** One block's record in `blocks.json`. */
export interface BlockRecord {
  /** The block's id (`BenchRow.block`). */
  block: string;
  /** Its arms' cell ids (the A/A control's included). */
  cells: string[];
  /** Rounds run. */
  rounds: number;
  /**
   * Why its rounds stopped: `settled` (every verdict of the block settled), `max_rounds`,
   * `budget` (its share of the time budget), `no_arms` (every arm failed).
   */
  stop: RoundStop;
  /** Whether it stopped settled. */
  settled: boolean;
  /** Wall time, seconds. */
  seconds: number;
  /** Whether telemetry was sampled inside its rounds (off by default: it slows decoding). */
  telemetry: boolean;
}

/**
 * Reads `blocks.json`, or `[]` when it is missing or unreadable.
 *
 * @param path The file.
 * @returns The records.
 */
export async function readBlocks(path: string): Promise<BlockRecord[]> {
  try {
    const value = JSON.parse(await Deno.readTextFile(path));
    return Array.isArray(value?.blocks) ? value.blocks : [];
  } catch {
    return [];
  }
}

/**
 * Writes `blocks.json` atomically (a temporary file renamed over it).
 *
 * @param path The file.
 * @param blocks The records.
 */
export async function writeBlocks(path: string, blocks: readonly BlockRecord[]): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, JSON.stringify({ blocks }, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/**
 * The budget stop's message: how many cells are missing (the first few by id) and the command
 * that resumes the run.
 *
 * @param missing Cell ids not measured.
 * @param resumeCommand The command.
 * @returns Lines to log.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { budgetStopLines } from "./run_files.ts";
 * const lines = budgetStopLines(["a", "b"], "deno task sweep --config s.json");
 * assert(lines[0]!.includes("2 cells") && lines.at(-1)!.includes("deno task sweep --config s.json"));
 * ```
 */
export function budgetStopLines(missing: readonly string[], resumeCommand: string): string[] {
  const shown = missing.slice(0, 12);
  return [
    `time budget reached: ${missing.length} cells not measured:`,
    ...shown.map((id) => `  ${id}`),
    ...(missing.length > shown.length ? [`  … and ${missing.length - shown.length} more`] : []),
    `resume (keeps this run's finished blocks, measures the rest): ${resumeCommand}`,
  ];
}
