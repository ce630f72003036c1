/**
 * `deno task sweep [--config sweeps/x.json] [--out DIR] [--force] [--dry-run]` — the main job.
 * Progress on stderr; the list of outputs on stdout.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { loadSweepSpec, runSweep } from "../sweep/mod.ts";
import { formatDuration } from "../measure/progress.ts";
import { join } from "node:path";
import { parseFlags, runCli } from "./_cli.ts";
import { resolveShard } from "../sweep/shard.ts";
import { formatPlan, planShards } from "../sweep/shard_plan.ts";

const HELP =
  `Usage: deno task sweep [--config sweeps/default.json] [--out DIR] [--force] [--dry-run]
                        [--no-probe] [--no-preflight]

Runs every cell of the sweep spec (model × dtype × device × use_cache × context × batch), then
perplexity, then writes benchmarks/ (results.csv, results.parquet, perplexity.csv, summary.csv,
PNGs), figures/ and metrics/. Finished cells are skipped (resume); --force redoes them.

Cluster runs (docs/cluster.md): --shard I/N runs shard I (0-based) of N, whole model+dtype
groups balanced by estimated cost, into --out (default shards/shard-I-of-N); without --shard the
index comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Job; N from --shards or TURBO_SHARDS)
or SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (Slurm array; N = SLURM_ARRAY_TASK_COUNT).
--plan N prints the plan of N shards and runs nothing. Merge with 'deno task merge DIR...'.

First runs the doctor's checks for the spec (benchmarks/preflight.json); a fail stops the sweep
unless --no-preflight. Each cell's measured runs are sampled for telemetry
(benchmarks/telemetry.csv, every telemetry_interval_ms of the spec, default 100).`;

/**
 * Ctrl-C: finished cells are already in results.csv (each is appended when it ends); say so and
 * how to resume in one line, release the output's lock, exit 130.
 */
function onInterrupt(outDir: string): void {
  Deno.addSignalListener("SIGINT", () => {
    const lock = join(outDir, "benchmarks", ".sweep.lock");
    try {
      if (Deno.readTextFileSync(lock).trim() === String(Deno.pid)) Deno.removeSync(lock);
    } catch {
      // no lock yet, or another sweep's: left alone
    }
    console.error(
      `interrupted: finished cells are kept in ${join(outDir, "benchmarks", "results.csv")}; ` +
        `run the same command again to resume (finished cells are skipped)`,
    );
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
    if (!values["dry-run"]) onInterrupt(outDir);
    const summary = await runSweep(spec, {
      outDir,
      shard,
      force: values.force!,
      dryRun: values["dry-run"]!,
      skipProbe: values["no-probe"]!,
      preflight: !values["no-preflight"],
      specSource: values.config!,
    }).catch((error) => {
      throw diskFull(error, outDir);
    });
    if (values["dry-run"]) return;
    console.log(
      `sweep '${spec.name}' done in ${formatDuration(summary.seconds)}` +
        (summary.estimateS !== null ? ` (estimated ${formatDuration(summary.estimateS)})` : "") +
        `: ${summary.cellsOk} cells ok, ${summary.cellsFailed} failed, ${summary.cellsSkipped} ` +
        `already complete, ${summary.cellsLeft} left for a resume; ${summary.rows} rows`,
    );
    for (const file of summary.files) console.log(`  ${file}`);
  });
}
