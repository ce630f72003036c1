/**
 * `deno task sweep [--config sweeps/x.json] [--out DIR] [--force] [--dry-run]` — the main job.
 * Progress on stderr; the list of outputs on stdout.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { loadSweepSpec, runSweep, STAGING_DIR } from "../sweep/mod.ts";
import { formatDuration } from "../measure/progress.ts";
import { join } from "node:path";
import { parseFlags, runCli } from "./_cli.ts";
import { resolveShard } from "../sweep/shard.ts";
import { formatPlan, planShards } from "../sweep/shard_plan.ts";

const HELP =
  `Usage: deno task sweep [--config sweeps/default.json] [--out DIR] [--force] [--dry-run]
                        [--no-probe] [--no-preflight]

Runs perplexity, then the sweep spec's grid as blocks (model × device × context × batch): per
block one live worker per arm (dtype × use_cache) plus an A/A control of the baseline arm,
measured in interleaved rounds (min_rounds..max_rounds, each arm's repetitions decoding for
min_rep_seconds), then writes benchmarks/ (results.csv, results.parquet, perplexity.csv,
blocks.json, summary.csv, PNGs), figures/ and metrics/. time_budget_s bounds the whole run.
Finished blocks are skipped (resume); --force starts from an empty result set and replaces the
old files only when the new run ends (never merged with them).

Cluster runs (docs/cluster.md): --shard I/N runs shard I (0-based) of N, whole blocks (every
arm of a block, A/A control included) balanced by estimated cost, into --out (default shards/shard-I-of-N); without --shard the
index comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Job; N from --shards or TURBO_SHARDS)
or SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (Slurm array; N = SLURM_ARRAY_TASK_COUNT).
--plan N prints the plan of N shards and runs nothing. Merge with 'deno task merge DIR...'.

First runs the doctor's checks for the spec (benchmarks/preflight.json, written with the first
measured rows); a fail stops the sweep, writing nothing, unless --no-preflight. Telemetry sampling is off inside the rounds unless the spec sets
telemetry_interval_ms (10-1000; benchmarks/telemetry.csv): sampling slows decoding.`;

/**
 * Ctrl-C: finished cells are already in results.csv (it is rewritten after each block); say so
 * and how to resume in one line, release the output's lock, exit 130. A forced run is abandoned
 * instead: its staging folder is removed and the previous results stay as they were.
 */
function onInterrupt(outDir: string, forced: boolean, resume: string): void {
  Deno.addSignalListener("SIGINT", () => {
    const bench = join(outDir, "benchmarks");
    const lock = join(bench, ".sweep.lock");
    let ours = false;
    try {
      ours = Deno.readTextFileSync(lock).trim() === String(Deno.pid);
      if (ours) Deno.removeSync(lock);
    } catch {
      // no lock yet, or another sweep's: left alone
    }
    if (forced) {
      if (ours) {
        try {
          Deno.removeSync(join(bench, STAGING_DIR), { recursive: true });
        } catch { /* nothing staged yet */ }
      }
      console.error(
        `interrupted: this forced run is abandoned; the previous results in ${bench} are kept`,
      );
    } else {
      console.error(
        `interrupted: finished cells are kept in ${join(bench, "results.csv")}; ` +
          `run the same command again to resume (complete blocks are skipped): ${resume}`,
      );
    }
    Deno.exit(130);
  });
}

/**
 * An out-of-space error (`os error 28`, which names no file) as one line naming the output.
 *
 * @param error What the sweep threw.
 * @param outDir The sweep's `--out`.
 * @returns The error to report.
 */
export function diskFull(error: unknown, outDir: string): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!/os error 28|No space left on device/.test(message)) return error;
  return new Error(
    `the disk holding '${outDir}' is full (No space left on device): finished cells are kept in ` +
      `${join(outDir, "benchmarks", "results.csv")}; free space and run the same command to resume`,
  );
}

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      config: { type: "string", default: "sweeps/default.json" },
      out: { type: "string" },
      shard: { type: "string" },
      shards: { type: "string" },
      plan: { type: "string" },
      force: { type: "boolean", default: false },
      "dry-run": { type: "boolean", default: false },
      "no-probe": { type: "boolean", default: false },
      "no-preflight": { type: "boolean", default: false },
    });
    if (values.help) {
      console.log(HELP);
      return;
    }
    const spec = await loadSweepSpec(values.config!);
    if (values.plan !== undefined) {
      const n = Number(values.plan);
      if (!Number.isInteger(n) || n < 1) {
        throw new TypeError(`--plan must be a positive integer, got '${values.plan}'`);
      }
      console.log(formatPlan(planShards(spec, n)));
      return;
    }
    const shard = resolveShard({ shard: values.shard, shards: values.shards }, Deno.env.toObject());
    const outDir = values.out ?? (shard ? `shards/shard-${shard.index}-of-${shard.count}` : ".");
    const resumeCommand = ["deno task sweep --config", values.config!].concat(
      values.out ? ["--out", values.out] : [],
      values.shard ? ["--shard", values.shard] : [],
      values.shards ? ["--shards", values.shards] : [],
      values["no-preflight"] ? ["--no-preflight"] : [],
    ).join(" ") +
      (values.config === "sweeps/default.json" && !values.out ? " (or: make sweep RESUME=1)" : "");
    if (!values["dry-run"]) onInterrupt(outDir, values.force!, resumeCommand);
    const summary = await runSweep(spec, {
      outDir,
      shard,
      force: values.force!,
      dryRun: values["dry-run"]!,
      skipProbe: values["no-probe"]!,
      preflight: !values["no-preflight"],
      specSource: values.config!,
      resumeCommand,
    }).catch((error) => {
      throw diskFull(error, outDir);
    });
    if (values["dry-run"]) return;
    console.log(
      `sweep '${spec.name}' done in ${formatDuration(summary.seconds)}` +
        (summary.estimateS !== null
          ? ` (estimated ${formatDuration(summary.estimateS)} before figures and reports)`
          : "") +
        `: ${summary.cellsOk} cells ok, ${summary.cellsFailed} failed, ${summary.cellsSkipped} ` +
        `already complete, ${summary.cellsLeft} left for a resume; ${summary.rows} rows`,
    );
    for (const file of summary.files) console.log(`  ${file}`);
  });
}
