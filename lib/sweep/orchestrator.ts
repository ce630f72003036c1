/**
 * The sweep orchestrator: checks the spec's models, expands the grid, skips finished cells, has
 * the scheduler run each remaining cell in a fresh worker process, records a failing cell as a
 * row with `status=error` and goes on, and rewrites `results.csv` atomically after every cell so
 * a kill at any moment leaves no partial and no duplicated row. A run in which every cell failed
 * writes nothing and throws, so it can never replace a good run's outputs.
 *
 * The parts: `row_store.ts` (rows by cell, resume), `worker_process.ts` (spawning workers),
 * `scheduler.ts` (cell order, one worker per cell, timeouts, checks), `perplexity_pass.ts`.
 *
 * @module
 */
import { recordSweepCell } from "../history/record.ts";
import { measureReadBandwidth } from "../measure/bandwidth.ts";
import { join } from "node:path";
import { cpus } from "node:os";
import type { BenchRow } from "../results/schema.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";
import { writeParquet, writeTable } from "../results/table.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { type Cell, expandGrid, newTokensOf, promptSlots } from "./grid.ts";
import { acquireLock } from "./lock.ts";
import { formatDuration, progressLine } from "../measure/progress.ts";
import { NOISY_CV, preflightWarnings } from "../measure/run_checks.ts";
import { summarize } from "../measure/stats.ts";
import type { Provenance } from "./protocol.ts";
import type { SweepSpec } from "./spec.ts";
import { checkContexts } from "./preflight.ts";
import { estimateCellMs, estimatePerplexityMs, fitCostModel } from "./estimate.ts";
import { ensureWritable, readExisting, RowStore } from "./row_store.ts";
import { checkModels, runCells, runProbe } from "./scheduler.ts";
import type { WorkerOptions } from "./worker_process.ts";
import { perplexityComplete, runPerplexity } from "./perplexity_pass.ts";
import { rowStamp, type ShardSelection, writeShardManifest } from "./shard.ts";
import { planShards, shardCells, shardPerplexityModels } from "./shard_plan.ts";
import { TelemetryStore } from "./telemetry_store.ts";
import { preflightLines, sweepPreflight, writePreflight } from "./sweep_preflight.ts";
import { type DoctorProbe, systemProbe } from "../doctor/probe.ts";

/** Options of {@linkcode runSweep}. */
export interface SweepOptions {
  /** Directory that receives `benchmarks/`, `figures/` and `metrics/`. @default "." */
  outDir?: string;
  /** Redo cells that are already complete. @default false */
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
}

/** What a sweep did. */
export interface SweepSummary {
  /** Cells in the grid. */
  cellsTotal: number;
  /** Cells skipped because they were complete. */
  cellsSkipped: number;
  /** Cells run now that succeeded. */
  cellsOk: number;
  /** Cells run now that failed (recorded as error rows). */
  cellsFailed: number;
  /** Cells not started because the time budget ran out. */
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
}

/**
 * Runs a sweep.
 *
 * @param spec A validated spec.
 * @param options Output directory, resume behaviour, logging.
 * @returns Counts and the files written.
 * @throws {Error} when the output dir is not writable, another sweep holds its lock, an existing
 * results.csv is corrupt, a model cannot be loaded (checked before the first cell), or every
 * cell that ran failed — nothing is overwritten in any of these cases.
 * @example
 * ```ts ignore
 * import { loadSweepSpec, runSweep } from "./mod.ts";
 * await runSweep(await loadSweepSpec("sweeps/default.json"), { outDir: "." });
 * ```
 */
export async function runSweep(spec: SweepSpec, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const outDir = options.outDir ?? ".";
  const benchDir = join(outDir, "benchmarks");
  const resultsPath = join(benchDir, "results.csv");
  const perplexityPath = join(benchDir, "perplexity.csv");
  checkContexts(spec, options.specSource);
  await ensureWritable(benchDir);

  const lock = acquireLock(join(benchDir, ".sweep.lock"));
  try {
    const existing = await readExisting(resultsPath, "bench");
    const existingPpl = await readExisting(perplexityPath, "perplexity");
    const store = new RowStore(existing);
    const shard = options.shard ?? null;
    const plan = shard ? planShards(spec, shard.count) : null;
    const gridCells = plan ? shardCells(plan, shard!.index) : expandGrid(spec);
    const pplModels = plan ? shardPerplexityModels(plan, shard!.index) : spec.models;
    const stamp = rowStamp(spec, shard, Deno.env.toObject());
    const runsPerCell = promptSlots(spec).length * spec.runs;
    const pendingCells = gridCells.filter((c) =>
      options.force || !store.isComplete(c.id, runsPerCell, newTokensOf(spec, c))
    );
    const summary: SweepSummary = {
      cellsTotal: gridCells.length,
      cellsSkipped: gridCells.length - pendingCells.length,
      cellsOk: 0,
      cellsFailed: 0,
      cellsLeft: 0,
      rows: 0,
      perplexityRows: 0,
      estimateS: null,
      seconds: 0,
      files: [],
    };
    log(
      `sweep '${spec.name}'${
        shard ? ` shard ${stamp.shard} (from ${shard.source})` : ""
      }: ${gridCells.length} cells (${summary.cellsSkipped} already ` +
        `complete), each in a fresh worker, dtypes and cache modes interleaved per length; ` +
        `${spec.warmup} warmup + ${promptSlots(spec).length} prompts × ${spec.runs} runs per cell`,
    );
    for (const warning of preflightWarnings()) log(`warning: ${warning}`);
    if (!options.dryRun) {
      // The doctor's checks for this spec: recorded always, fatal unless --no-preflight.
      const checks = await sweepPreflight(spec, { probe: options.doctorProbe ?? systemProbe() });
      for (const line of preflightLines(checks)) log(line);
      await writePreflight(join(benchDir, "preflight.json"), checks);
      summary.files.push(join(benchDir, "preflight.json"));
      if (checks.counts.fail > 0 && (options.preflight ?? true)) {
        throw new Error(
          `Sweep stopped by its pre-flight: ${checks.counts.fail} check(s) failed (see above and ` +
            `${join(benchDir, "preflight.json")}); fix them or rerun with --no-preflight`,
        );
      }
    }
    const telemetryPath = join(benchDir, "telemetry.csv");
    const telemetry = await TelemetryStore.load(telemetryPath);
    const provenance = await collectProvenance();
    const workers: WorkerOptions = {
      ...(options.workerEnv ? { workerEnv: options.workerEnv } : {}),
      ...(options.workerStderr ? { workerStderr: options.workerStderr } : {}),
    };
    const needPerplexity = spec.perplexity !== null &&
      pplModels.some((m) => options.force || !perplexityComplete(existingPpl, spec, m));
    const weights = new Map<string, string>();
    const startMs = new Map<string, number>();
    if (pendingCells.length > 0 || needPerplexity) {
      for (const c of await checkModels(spec, provenance, options.specSource, workers)) {
        weights.set(c.model, c.weights);
        startMs.set(c.model, c.startMs);
        if (c.weights === "random") {
          log(`${c.model}: random weights (speed and dtype agreement only, no language quality)`);
        }
      }
    }
    const costs = new Map<string, number>();
    if (pendingCells.length > 0 && !options.skipProbe) {
      const probe = await runProbe(spec, pendingCells[0]!, provenance, workers);
      if (probe) {
        const model = fitCostModel(probe.points);
        for (const cell of pendingCells) costs.set(cell.id, estimateCellMs(spec, cell, model));
        // Each cell starts a fresh worker: its start and model load, as the check timed it.
        const loads = pendingCells.reduce((a, c) => a + (startMs.get(c.model) ?? probe.loadMs), 0);
        const bench = [...costs.values()].reduce((a, b) => a + b, 0) + loads;
        const ppl = estimatePerplexityMs(spec, model) * spec.models.length;
        summary.estimateS = (bench + ppl) / 1000;
        const points = probe.points.map((p) =>
          `prefill ${p.tokens} tokens ${p.prefillMs.toFixed(1)} ms, decode ${
            p.decodeMs.toFixed(1)
          } ms/token`
        ).join("; ");
        log(
          `estimate: ~${formatDuration(summary.estimateS)} for ${pendingCells.length} cells ` +
            (ppl > 0 ? `and perplexity (~${formatDuration(ppl / 1000)}) ` : "") +
            `(probe on ${pendingCells[0]!.model} ${pendingCells[0]!.dtype}: worker start + load ${
              (startMs.get(pendingCells[0]!.model) ?? probe.loadMs).toFixed(0)
            } ms per cell; ${points}; other dtypes assumed alike)`,
        );
      } else {
        log("estimate: unavailable (the probe failed; see the first cell's error)");
      }
    }
    if (options.dryRun) {
      for (const c of pendingCells) log(`  ${c.id}`);
      summary.seconds = (performance.now() - started) / 1000;
      return summary;
    }
    if (pendingCells.some((c) => c.device === "cpu") && options.bandwidthProbe !== false) {
      // The roofline's bound, once per sweep, with the sweep's threads (lib/measure/bandwidth.ts).
      const bw = await measureReadBandwidth({ threads: spec.threads }).catch((error) => {
        log(`bandwidth probe failed: ${String(error).split("\n")[0]}`);
        return null;
      });
      if (bw) {
        provenance.readGbS = bw.read_gb_s;
        log(`read bandwidth: ${bw.read_gb_s.toFixed(2)} GB/s (${bw.method})`);
        await Deno.writeTextFile(join(benchDir, "bandwidth.json"), JSON.stringify(bw, null, 2));
        summary.files.push(join(benchDir, "bandwidth.json"));
      }
    }

    if (shard) await writeShardManifest(benchDir, spec, shard, stamp, gridCells, pplModels);
    const deadlineMs = spec.time_budget_s === null ? null : Date.now() + spec.time_budget_s * 1000;
    const totalCost = pendingCells.reduce((a, c) => a + (costs.get(c.id) ?? 1), 0);
    let doneCost = 0;
    const failures: string[] = [];
    const onCellDone = async (cell: Cell, rows: BenchRow[], run: TelemetryRun | null) => {
      for (const row of rows) {
        if (!row.weights) row.weights = weights.get(cell.model) ?? "";
        Object.assign(row, stamp);
      }
      store.replace(cell.id, rows);
      if (run) telemetry.replace(cell.id, run);
      else telemetry.delete(cell.id);
      const failed = rows.some((r) => r.status !== "ok");
      if (failed) {
        summary.cellsFailed++;
        failures.push(`${cell.id}: ${rows.find((r) => r.status !== "ok")?.error ?? ""}`);
      } else summary.cellsOk++;
      // Until one cell of this run succeeded, keep its rows in memory: an all-failed run must
      // not replace a good results.csv (a kill meanwhile only means those cells run again).
      if (summary.cellsOk > 0) {
        await writeTable(resultsPath, "bench", store.all());
        await telemetry.write(telemetryPath);
      }
      recordSweepCell(rows); // history: benchmarks/history.sqlite ($TURBO_HISTORY_DB)
      doneCost += costs.get(cell.id) ?? 1;
      const cv = failed ? null : decodeCv(rows);
      log(
        progressLine(
          doneCost,
          totalCost,
          (performance.now() - started) / 1000,
          `${failed ? "FAILED " : ""}${cell.id}${failed ? `: ${rows[0]?.error ?? ""}` : ""}` +
            (cv !== null && cv > NOISY_CV ? ` (noisy: decode CV ${(cv * 100).toFixed(0)} %)` : ""),
        ),
      );
    };
    summary.cellsLeft = await runCells(spec, pendingCells, provenance, onCellDone, {
      deadlineMs,
      ...workers,
    });
    if (summary.cellsOk === 0 && summary.cellsFailed > 0) {
      throw new Error(
        `Sweep failed: all ${summary.cellsFailed} cells that ran failed, so nothing was written ` +
          `to '${outDir}' (first: ${failures[0]})`,
      );
    }
    if (summary.cellsLeft > 0) {
      log(`time budget reached: ${summary.cellsLeft} cells left; rerun the same command to resume`);
    }

    if (spec.perplexity && pplModels.length > 0) {
      const pplStore = existingPpl;
      for (const model of pplModels) {
        if (!options.force && perplexityComplete(pplStore, spec, model)) {
          log(`perplexity of ${model}: complete, skipped`);
          continue;
        }
        log(`perplexity of ${model}: ${spec.perplexity.dtypes.join(", ")}`);
        const rows = (await runPerplexity(spec, model, provenance, log, workers))
          .map((r) => ({ ...r, weights: r.weights || weights.get(model) || "", ...stamp }));
        summary.perplexityRows += rows.length;
        const keep = pplStore.filter((r) =>
          !(r.model === model && rows.some((n) => n.dtype === r.dtype))
        );
        pplStore.splice(0, pplStore.length, ...keep, ...rows);
        await writeTable(perplexityPath, "perplexity", pplStore);
        for (const r of rows) {
          log(
            `  ${r.dtype}: ${
              r.status === "ok" ? `ppl ${r.ppl?.toFixed(3)}` : `${r.status}: ${r.error}`
            }`,
          );
        }
      }
    } else if (existingPpl.length === 0) {
      await writeTable(perplexityPath, "perplexity", []);
    }

    if (spec.conversations) {
      const { runConversationPass } = await import("../chat/sweep_pass.ts");
      const pass = await runConversationPass(spec.conversations, { ...spec, outDir, log });
      summary.files.push(...pass.files);
    }

    if (spec.embeddings) {
      // Optional embedding benchmark (lib/embed), in this process, rerun on every sweep run.
      log(`embeddings of ${spec.embeddings.model}`);
      try {
        const { runEmbedSweepStep } = await import("../embed/sweep_step.ts");
        summary.files.push(...await runEmbedSweepStep(spec.embeddings, outDir, log));
      } catch (error) {
        log(`embeddings failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
      }
    }

    const all = store.all();
    await writeTable(resultsPath, "bench", all);
    await writeParquet(join(benchDir, "results.parquet"), "bench", all);
    await telemetry.write(telemetryPath);
    summary.rows = all.length;
    summary.files.push(
      resultsPath,
      join(benchDir, "results.parquet"),
      perplexityPath,
      telemetryPath,
    );
    if (!options.skipOutputs) {
      const { writeAllOutputs } = await import("../report/mod.ts");
      const out = await writeAllOutputs({
        resultsCsv: resultsPath,
        perplexityCsv: perplexityPath,
        outDir,
      });
      summary.files.push(...out.files);
    }
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  } finally {
    lock.release();
  }
}

/** Coefficient of variation of a cell's per-run decode tokens/s; null below two runs. */
function decodeCv(rows: readonly BenchRow[]): number | null {
  const rates = rows.flatMap((r) => r.decode_tokens_per_s === null ? [] : [r.decode_tokens_per_s]);
  if (rates.length < 2) return null;
  const s = summarize(rates);
  return s.mean === 0 ? null : s.std / s.mean;
}

async function collectProvenance(): Promise<Provenance> {
  const info = await systemInfo();
  return {
    gitCommit: info.gitCommit,
    denoVersion: info.deno,
    ortVersion: info.onnxruntime,
    transformersVersion: info.transformers,
    cpuName: `${info.cpuModel} (${cpus().length} cores)`,
    gpuName: info.gpu?.name ?? null,
  };
}
