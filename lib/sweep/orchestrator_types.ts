/**
 * The options and the summary of a sweep run ({@linkcode SweepOptions}, {@linkcode SweepSummary}).
 * Used by `orchestrator.ts` (`runSweep`), which re-exports them.
 *
 * @module
 */
import type { ShardSelection } from "./shard.ts";
import type { DoctorProbe } from "../doctor/probe.ts";
import type { SettledCheck } from "./block_runner.ts";
import type { BlockRecord } from "./run_files.ts";

/** Options of `runSweep` (orchestrator.ts). */
export interface SweepOptions {
  /** Directory that receives `benchmarks/`, `figures/` and `metrics/`. @default "." */
  outDir?: string;
  /** Start from an empty result set; the old files are replaced when this run ends. @default false */
  force?: boolean;
  /** Print the plan and the estimate only. @default false */
  dryRun?: boolean;
  /** Skip the probe that estimates the total time. @default false */
  skipProbe?: boolean;
  /** Skip figures and reports at the end. @default false */
  skipOutputs?: boolean;
  /** Progress sink. @default writes to stderr */
  log?: (line: string) => void;
  /** Name of the spec file, for error messages. @default "sweep spec" */
  specSource?: string;
  /** Extra environment for workers (tests use it for fault injection). */
  workerEnv?: Record<string, string>;
  /** Where the workers' stderr goes (notebooks show it in place). @default this process's stderr */
  workerStderr?: (chunk: Uint8Array) => void;
  /** Run only this shard of the grid (lib/sweep/shard_plan.ts). @default null (the whole grid) */
  shard?: ShardSelection | null;
  /** Run the doctor's checks first and stop on a fail (`--no-preflight`: false). @default true */
  preflight?: boolean;
  /** What the pre-flight reads (tests script it). @default the real machine */
  doctorProbe?: DoctorProbe;
  /** Measure the read bandwidth before CPU cells (the roofline's bound). @default true */
  bandwidthProbe?: boolean;
  /**
   * Whether a block's verdicts are settled (rounds stop early when they are, from `min_rounds`
   * on). @default lib/analysis `blockSettled`: every verdict of the block (each arm against the
   * baseline, the A/A control) has its interval clear of the minimum-effect band or inside it
   */
  settled?: SettledCheck;
  /** The command a budget stop prints to resume. @default `deno task sweep --config SPEC --out OUT` */
  resumeCommand?: string;
}

/** What a sweep did. */
export interface SweepSummary {
  /** Cells in the grid (A/A controls included). */
  cellsTotal: number;
  /** Cells skipped because their block was complete. */
  cellsSkipped: number;
  /** Cells run now that succeeded. */
  cellsOk: number;
  /** Cells run now that failed (recorded as error rows). */
  cellsFailed: number;
  /** Cells not measured because the time budget ran out. */
  cellsLeft: number;
  /** Rows in results.csv after the sweep. */
  rows: number;
  /** Perplexity rows written now. */
  perplexityRows: number;
  /** The probe's estimate of the whole run, seconds (null without a probe). */
  estimateS: number | null;
  /** Wall time, seconds. */
  seconds: number;
  /** Files written. */
  files: string[];
  /** The blocks run now: rounds and why they stopped. */
  blocks: BlockRecord[];
}
