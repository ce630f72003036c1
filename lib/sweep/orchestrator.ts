/**
 * The sweep orchestrator: checks the spec's models, runs perplexity, then runs the grid as
 * blocks (lib/sweep/blocks.ts): per block one live worker per arm, measured in interleaved
 * rounds until its verdicts settle or its share of the time budget is spent
 * (lib/sweep/block_runner.ts). Results are rewritten atomically after every block, so a kill at
 * any moment leaves no partial and no duplicated row. A run refused by its pre-flight or its
 * model check, or in which every cell failed, writes no results and no `preflight.json`, and
 * throws, so it can never replace a good run's outputs; a forced run starts from an
 * empty result set and replaces the old files only when it ends (lib/sweep/run_files.ts). Its
 * options and summary types live in `orchestrator_types.ts` and are re-exported here.
 *
 * @module
 */
import { measureReadBandwidth } from "../measure/bandwidth.ts";
import { join } from "node:path";
import { cpus } from "node:os";
import { writeParquet, writeTable } from "../results/table.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { expandGrid, promptSlots } from "./grid.ts";
import { acquireLock } from "./lock.ts";
import { progressLine } from "../measure/progress.ts";
import { preflightWarnings } from "../measure/run_checks.ts";
import { epochMs } from "../measure/rounds.ts";
import type { Provenance } from "./protocol.ts";
import type { SweepSpec } from "./spec.ts";
import { checkContexts } from "./preflight.ts";
import { estimateRun } from "./run_estimate.ts";
import { ensureWritable, readExisting, RowStore } from "./row_store.ts";
import { checkModels, runProbe } from "./scheduler.ts";
import type { WorkerOptions } from "./worker_process.ts";
import { perplexityComplete, perplexityStep } from "./perplexity_pass.ts";
import { rowStamp, writeShardManifest } from "./shard.ts";
import { planShards, shardCells, shardPerplexityModels } from "./shard_plan.ts";
import { TelemetryStore } from "./telemetry_store.ts";
import { preflightLines, sweepPreflight, writePreflight } from "./sweep_preflight.ts";
import { systemProbe } from "../doctor/probe.ts";
import { designLine, groupBlocks } from "./blocks.ts";
import { runBlock } from "./block_runner.ts";
import { blockSettled, MIN_SETTLED_ROUNDS } from "../analysis/block.ts";
import { blockLabel, recordBlock } from "./block_record.ts";
import { budgetStopLines, openRunFiles, readBlocks, writeBlocks } from "./run_files.ts";
import type { SweepOptions, SweepSummary } from "./orchestrator_types.ts";

export type * from "./orchestrator_types.ts";

/**
 * Runs a sweep.
 *
 * @param spec A validated spec.
 * @param options Output directory, resume behaviour, logging.
 * @returns Counts and the files written.
 * @throws {Error} when the output dir is not writable, another sweep holds its lock, an existing
 * results.csv is corrupt, a model cannot be loaded (checked before the first block), or every
 * cell that ran failed — nothing is overwritten in any of these cases.
 * @example
 * ```ts ignore
 * import { loadSweepSpec, runSweep } from "./mod.ts";
 * await runSweep(await loadSweepSpec("sweeps/default.json"), { outDir: "." });
 * ```
 */
export async function runSweep(spec: SweepSpec, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = performance.now();
  // The budget counts from here: model checks, conversion and perplexity are inside it.
  const deadlineMs = spec.time_budget_s === null ? null : epochMs() + spec.time_budget_s * 1000;
  const log = options.log ?? ((line: string) => console.error(line));
  const outDir = options.outDir ?? ".";
  const benchDir = join(outDir, "benchmarks");
  checkContexts(spec, options.specSource);
  await ensureWritable(benchDir);

  const lock = acquireLock(join(benchDir, ".sweep.lock"));
  const forced = (options.force ?? false) && !options.dryRun;
  let files: Awaited<ReturnType<typeof openRunFiles>> | null = null;
  try {
    // A forced run never reads the old rows: it cannot skip, merge or count them.
    const existing = options.force
      ? []
      : await readExisting(join(benchDir, "results.csv"), "bench");
    const existingPpl = options.force
      ? []
      : await readExisting(join(benchDir, "perplexity.csv"), "perplexity");
    files = await openRunFiles(benchDir, forced);
    const runDir = files.dir;
    const resultsPath = join(runDir, "results.csv");
    const perplexityPath = join(runDir, "perplexity.csv");
    const blocksPath = join(runDir, "blocks.json");
    const store = new RowStore(existing);
    const shard = options.shard ?? null;
    const plan = shard ? planShards(spec, shard.count) : null;
    const gridCells = plan ? shardCells(plan, shard!.index) : expandGrid(spec);
    const blocks = groupBlocks(spec, gridCells);
    const pplModels = plan ? shardPerplexityModels(plan, shard!.index) : spec.models;
    const stamp = rowStamp(spec, shard, Deno.env.toObject());
    const minRows = spec.min_rounds * spec.runs * promptSlots(spec).length;
    const pending = blocks.filter((b) =>
      options.force || b.arms.some((c) => !store.isComplete(c.id, stamp.spec_hash, minRows))
    );
    const allCells = blocks.flatMap((b) => b.arms);
    const pendingCells = pending.flatMap((b) => b.arms);
    const summary: SweepSummary = {
      cellsTotal: allCells.length,
      cellsSkipped: allCells.length - pendingCells.length,
      cellsOk: 0,
      cellsFailed: 0,
      cellsLeft: 0,
      rows: 0,
      perplexityRows: 0,
      estimateS: null,
      seconds: 0,
      files: [],
      blocks: [],
    };
    log(
      `sweep '${spec.name}'${shard ? ` shard ${stamp.shard} (from ${shard.source})` : ""}: ` +
        designLine(spec, blocks.length, allCells.length, summary.cellsSkipped),
    );
    for (const warning of preflightWarnings()) log(`warning: ${warning}`);
    let preflight: Awaited<ReturnType<typeof sweepPreflight>> | null = null;
    if (!options.dryRun) {
      // The doctor's checks for this spec: recorded always, fatal unless --no-preflight.
      const checks = await sweepPreflight(spec, { probe: options.doctorProbe ?? systemProbe() });
      for (const line of preflightLines(checks)) log(line);
      if (checks.counts.fail > 0 && (options.preflight ?? true)) {
        // A refused run leaves the output folder as it was: no preflight.json either.
        throw new Error(
          `Sweep stopped by its pre-flight: ${checks.counts.fail} check(s) failed (see above); ` +
            `fix them or rerun with --no-preflight`,
        );
      }
      preflight = checks;
    }
    // The verdicts are written with the first measured rows (a block with a cell that ran, or a
    // perplexity row): a run that measures nothing leaves no new preflight.json behind.
    const savePreflight = async () => {
      if (preflight === null) return;
      await writePreflight(join(runDir, "preflight.json"), preflight);
      summary.files.push(join(benchDir, "preflight.json"));
      preflight = null;
    };
    const telemetryPath = join(runDir, "telemetry.csv");
    const telemetry = await TelemetryStore.load(telemetryPath);
    const provenance = await collectProvenance();
    const workers: WorkerOptions = {
      ...(options.workerEnv ? { workerEnv: options.workerEnv } : {}),
      ...(options.workerStderr ? { workerStderr: options.workerStderr } : {}),
    };
    const pplPending = spec.perplexity === null
      ? []
      : pplModels.filter((m) => options.force || !perplexityComplete(existingPpl, spec, m));
    const weights = new Map<string, string>();
    const startMs = new Map<string, number>();
    if (pending.length > 0 || pplPending.length > 0) {
      for (const c of await checkModels(spec, provenance, options.specSource, workers)) {
        weights.set(c.model, c.weights);
        startMs.set(c.model, c.startMs);
        if (c.weights === "random") {
          log(`${c.model}: random weights (speed and dtype agreement only, no language quality)`);
        }
      }
    }
    let costs = new Map<string, number>();
    if (pending.length > 0 && !options.skipProbe) {
      const probe = await runProbe(spec, pending[0]!.arms[0]!, provenance, workers);
      if (probe) {
        const estimate = estimateRun(spec, pending, pplPending.length, probe, startMs, {
          elapsedS: (performance.now() - started) / 1000,
        });
        costs = estimate.costs;
        summary.estimateS = estimate.seconds;
        log(estimate.line);
      } else {
        log("estimate: unavailable (the probe failed; see the first block's error)");
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
        await Deno.writeTextFile(join(runDir, "bandwidth.json"), JSON.stringify(bw, null, 2));
        summary.files.push(join(benchDir, "bandwidth.json"));
      }
    }

    if (shard) await writeShardManifest(runDir, spec, shard, stamp, gridCells, pplModels);
    // Perplexity first: the quality half of every answer, inside the same budget.
    const ppl = await perplexityStep(spec, spec.perplexity ? pplModels : [], {
      pending: pplPending,
      store: existingPpl,
      deadlineMs,
      provenance,
      log,
      workers,
      stamp: (model) => ({ weights: weights.get(model) ?? "", ...stamp }),
    });
    summary.perplexityRows = ppl.rows;
    const pplLeft = ppl.left;
    await writeTable(perplexityPath, "perplexity", existingPpl);

    const blockRecords = options.force ? [] : await readBlocks(blocksPath);
    const totalCost = pending.reduce((a, b) => a + (costs.get(b.id) ?? 1), 0);
    let doneCost = 0;
    const failures: string[] = [];
    const missing: string[] = [];
    for (const [i, block] of pending.entries()) {
      const now = epochMs();
      const rest = pending.slice(i).reduce((a, b) => a + (costs.get(b.id) ?? 1), 0);
      // This block's share of what is left of the budget, in proportion to its cost.
      const soft = deadlineMs === null
        ? null
        : now + (deadlineMs - now) * (costs.get(block.id) ?? 1) / rest;
      const result = await runBlock(spec, block, provenance, {
        softDeadlineMs: soft,
        hardDeadlineMs: deadlineMs,
        // The stopping rule spends its α over the looks it may take (lib/analysis/block.ts), so
        // stopping at the first settled round does not inflate the verdicts' error.
        settled: options.settled ??
          ((rows) =>
            blockSettled(rows, {
              baselineDtype: spec.baseline_dtype,
              minRounds: Math.max(MIN_SETTLED_ROUNDS, spec.min_rounds),
              looks: spec.max_rounds - spec.min_rounds + 1,
            }).settled),
        ...workers,
      });
      if (result === "budget") {
        for (const b of pending.slice(i)) missing.push(...b.arms.map((c) => c.id));
        break;
      }
      const { record, ok, failed } = recordBlock(spec, result, {
        store,
        telemetry,
        stamp: (model) => ({ weights: weights.get(model) ?? "", ...stamp }),
      });
      summary.cellsOk += ok;
      summary.cellsFailed += failed.length;
      failures.push(...failed);
      summary.blocks.push(record);
      blockRecords.splice(
        0,
        blockRecords.length,
        ...blockRecords.filter((b) => b.block !== block.id),
        record,
      );
      // Until one cell of this run succeeded, keep its rows in memory: an all-failed run must
      // not replace a good results.csv (a kill meanwhile only means those blocks run again).
      if (summary.cellsOk > 0) {
        await savePreflight();
        await writeTable(resultsPath, "bench", store.all());
        await telemetry.write(telemetryPath);
        await writeBlocks(blocksPath, blockRecords);
      }
      doneCost += costs.get(block.id) ?? 1;
      log(
        progressLine(doneCost, totalCost, (performance.now() - started) / 1000, blockLabel(result)),
      );
    }
    summary.cellsLeft = missing.length;
    if (summary.cellsOk === 0 && summary.cellsFailed > 0) {
      throw new Error(
        `Sweep failed: all ${summary.cellsFailed} cells that ran failed, so nothing was written ` +
          `to '${outDir}' (first: ${failures[0]})`,
      );
    }
    if (missing.length > 0 || pplLeft > 0) {
      const resume = options.resumeCommand ??
        `deno task sweep --config ${options.specSource ?? "SPEC"} --out ${outDir}`;
      if (pplLeft > 0) log(`time budget reached before the perplexity of ${pplLeft} model(s)`);
      for (const line of budgetStopLines(missing, resume)) log(line);
    }
    if (forced && pending.length > 0 && summary.cellsOk + summary.cellsFailed === 0) {
      // A forced run that measured nothing is abandoned: an empty result set must not replace
      // a finished run's files.
      log(`nothing measured within the budget: the previous results in '${benchDir}' are kept`);
      summary.seconds = (performance.now() - started) / 1000;
      return summary;
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

    if (summary.cellsOk > 0 || summary.perplexityRows > 0) await savePreflight();
    const all = store.all();
    await writeTable(resultsPath, "bench", all);
    await writeParquet(join(runDir, "results.parquet"), "bench", all);
    await telemetry.write(telemetryPath);
    await writeBlocks(blocksPath, blockRecords);
    await files.commit();
    files = null;
    summary.rows = all.length;
    summary.files.push(
      ...["results.csv", "results.parquet", "perplexity.csv", "telemetry.csv", "blocks.json"].map(
        (f) => join(benchDir, f),
      ),
    );
    if (!options.skipOutputs) {
      const { writeAllOutputs } = await import("../report/mod.ts");
      const out = await writeAllOutputs({
        resultsCsv: join(benchDir, "results.csv"),
        perplexityCsv: join(benchDir, "perplexity.csv"),
        outDir,
      });
      summary.files.push(...out.files);
    }
    summary.seconds = (performance.now() - started) / 1000;
    return summary;
  } finally {
    await files?.abandon();
    lock.release();
  }
}

/**
 * What every row of this machine records about the software and hardware it ran on.
 *
 * @returns The provenance of rows measured here.
 */
export async function collectProvenance(): Promise<Provenance> {
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
