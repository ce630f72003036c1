/**
 * The sweep orchestrator: expands the grid, skips finished cells, runs each model + dtype +
 * device in a child process (clean peak memory; a crash cannot take the sweep down), records a
 * failing cell as rows with `status=error` and goes on, and rewrites `results.csv` atomically
 * after every cell so a kill at any moment leaves no partial and no duplicated row.
 *
 * @module
 */
import { recordSweepCell } from "../history/record.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import type { BenchRow, PerplexityRow } from "../results/schema.ts";
import { readTable, writeParquet, writeTable } from "../results/table.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { type Cell, type CellGroup, expandGrid, promptSlots } from "./grid.ts";
import { acquireLock } from "./lock.ts";
import { formatDuration, progressLine } from "./progress.ts";
import { decodeMessage, type Provenance, type WorkerJob, type WorkerMessage } from "./protocol.ts";
import type { SweepSpec } from "./spec.ts";
import { errorRow } from "./rows.ts";
import { checkContexts } from "./preflight.ts";
import { estimateCellMs, estimatePerplexityMs, fitCostModel, type ProbePoint } from "./estimate.ts";

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

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));

/**
 * Runs a sweep.
 *
 * @param spec A validated spec.
 * @param options Output directory, resume behaviour, logging.
 * @returns Counts and the files written.
 * @throws {Error} when the output dir is not writable, another sweep holds its lock, or an
 * existing results.csv is corrupt (nothing is overwritten then).
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
    const groups = expandGrid(spec);
    const gridCells = groups.flatMap((g) => g.cells);
    const pending = groups
      .map((g) => ({
        ...g,
        cells: g.cells.filter((c) =>
          options.force ||
          !store.isComplete(c.id, promptSlots(spec).length * spec.runs, spec.max_new_tokens)
        ),
      }))
      .filter((g) => g.cells.length > 0);
    const pendingCells = pending.flatMap((g) => g.cells);
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
    const runsPerCell = spec.warmup + promptSlots(spec).length * spec.runs;
    log(
      `sweep '${spec.name}': ${groups.length} model×dtype×device groups, ${gridCells.length} cells ` +
        `(${summary.cellsSkipped} already complete), ${runsPerCell} runs per cell ` +
        `(${spec.warmup} warmup + ${promptSlots(spec).length} prompts × ${spec.runs})`,
    );
    const provenance = await collectProvenance();
    const costs = new Map<string, number>();
    if (pending.length > 0 && !options.skipProbe) {
      const probe = await runProbe(
        spec,
        pending[0]!,
        provenance,
        options.workerEnv,
        options.workerStderr,
      );
      if (probe) {
        const model = fitCostModel(probe.points);
        for (const cell of pendingCells) costs.set(cell.id, estimateCellMs(spec, cell, model));
        const loads = pending.length * probe.loadMs;
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
            `(probe on ${pending[0]!.key}: load ${probe.loadMs.toFixed(0)} ms; ${points}; ` +
            `other dtypes assumed alike)`,
        );
      } else {
        log("estimate: unavailable (the probe failed; see the first group's errors)");
      }
    }
    if (options.dryRun) {
      for (const g of pending) log(`  ${g.key}: ${g.cells.length} cells`);
      summary.seconds = (performance.now() - started) / 1000;
      return summary;
    }

    const deadlineMs = spec.time_budget_s === null ? null : Date.now() + spec.time_budget_s * 1000;
    const totalCost = pendingCells.reduce((a, c) => a + (costs.get(c.id) ?? 1), 0);
    let doneCost = 0;
    const onCellDone = async (cell: Cell, rows: BenchRow[]) => {
      store.replace(cell.id, rows);
      await writeTable(resultsPath, "bench", store.all());
      recordSweepCell(rows); // history: benchmarks/history.sqlite ($TURBO_HISTORY_DB)
      const failed = rows.some((r) => r.status !== "ok");
      if (failed) summary.cellsFailed++;
      else summary.cellsOk++;
      doneCost += costs.get(cell.id) ?? 1;
      log(
        progressLine(
          doneCost,
          totalCost,
          (performance.now() - started) / 1000,
          `${failed ? "FAILED " : ""}${cell.id}${failed ? `: ${rows[0]?.error ?? ""}` : ""}`,
        ),
      );
    };
    for (const group of pending) {
      const left = await runGroup(spec, group, provenance, deadlineMs, onCellDone, log, options);
      summary.cellsLeft += left;
    }
    if (summary.cellsLeft > 0) {
      log(`time budget reached: ${summary.cellsLeft} cells left; rerun the same command to resume`);
    }

    if (spec.perplexity) {
      const pplStore = existingPpl;
      for (const model of spec.models) {
        if (!options.force && perplexityComplete(pplStore, spec, model)) {
          log(`perplexity of ${model}: complete, skipped`);
          continue;
        }
        log(`perplexity of ${model}: ${spec.perplexity.dtypes.join(", ")}`);
        const rows = await runPerplexity(
          spec,
          model,
          provenance,
          log,
          options.workerEnv,
          options.workerStderr,
        );
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
    summary.rows = all.length;
    summary.files.push(resultsPath, join(benchDir, "results.parquet"), perplexityPath);
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

class RowStore {
  #byCell = new Map<string, BenchRow[]>();

  constructor(rows: readonly BenchRow[]) {
    for (const row of rows) {
      const list = this.#byCell.get(row.cell_id) ?? [];
      list.push(row);
      this.#byCell.set(row.cell_id, list);
    }
  }

  /**
   * A cell is complete when it has the spec's number of runs, none failed (failed cells are
   * retried) and each made the spec's new tokens: rows of an earlier spec with fewer runs or
   * another `max_new_tokens` are redone, not mixed into this one's results.
   */
  isComplete(cellId: string, runs: number, newTokens: number): boolean {
    const rows = this.#byCell.get(cellId);
    return rows !== undefined && rows.length === runs &&
      rows.every((r) => r.status === "ok" && r.new_tokens === newTokens);
  }

  replace(cellId: string, rows: BenchRow[]): void {
    this.#byCell.delete(cellId);
    this.#byCell.set(cellId, rows);
  }

  all(): BenchRow[] {
    return [...this.#byCell.values()].flat();
  }
}

async function ensureWritable(dir: string): Promise<void> {
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

async function readExisting<K extends "bench" | "perplexity">(
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

interface WorkerRun {
  messages: AsyncGenerator<WorkerMessage>;
  lastStderr: () => string;
  timedOut: () => boolean;
  kill: () => void;
  status: Promise<Deno.CommandStatus>;
}

async function spawnWorker(
  job: WorkerJob,
  env: Record<string, string> = {},
  timeoutMs?: number,
  stderr?: (chunk: Uint8Array) => void,
): Promise<WorkerRun> {
  const jobPath = await Deno.makeTempFile({ prefix: "turbo-job-", suffix: ".json" });
  await Deno.writeTextFile(jobPath, JSON.stringify(job));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", WORKER, jobPath],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env,
  }).spawn();
  let last = "";
  const stderrDone = (async () => {
    // Forward the worker's stderr as it comes (progress bars use \r), keep its last line.
    for await (const chunk of child.stderr) {
      if (stderr) stderr(chunk);
      else await Deno.stderr.write(chunk);
      const text = new TextDecoder().decode(chunk);
      const line = text.split(/[\r\n]/).map((l) => l.trim()).filter(Boolean).pop();
      if (line) last = line;
    }
  })();
  async function* messages(): AsyncGenerator<WorkerMessage> {
    for await (const line of lines(child.stdout)) {
      const message = decodeMessage(line);
      if (message) yield message;
    }
  }
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  }, timeoutMs);
  const status = child.status.then(async (s) => {
    clearTimeout(timer);
    await stderrDone.catch(() => {});
    await Deno.remove(jobPath).catch(() => {});
    return s;
  });
  return {
    messages: messages(),
    lastStderr: () => last,
    timedOut: () => timedOut,
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
    },
    status,
  };
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

/** Runs a group's cells, respawning the worker after a crash; returns cells left by the budget. */
async function runGroup(
  spec: SweepSpec,
  group: CellGroup,
  provenance: Provenance,
  deadlineMs: number | null,
  onCellDone: (cell: Cell, rows: BenchRow[]) => Promise<void>,
  log: (line: string) => void,
  options: SweepOptions,
): Promise<number> {
  let remaining = [...group.cells];
  while (remaining.length > 0) {
    // Past the budget, start no worker: loading a model costs time and a load failure would
    // record cells as errors that the budget was meant to leave for a resume.
    if (deadlineMs !== null && Date.now() > deadlineMs) return remaining.length;
    const job: WorkerJob = {
      mode: "bench",
      spec,
      model: group.model,
      dtype: group.dtype,
      device: group.device,
      cells: remaining,
      provenance,
      deadlineMs,
    };
    const worker = await spawnWorker(job, options.workerEnv, undefined, options.workerStderr);
    let current: Cell | null = null;
    let timedOut: "load" | "cell" | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One clock bounds loading the model (until the first cell starts) and then each cell.
    const arm = (phase: "load" | "cell") => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = phase;
        worker.kill();
      }, spec.cell_timeout_s * 1000);
    };
    arm("load");
    let budgetStop = false;
    const finished = new Set<string>();
    for await (const message of worker.messages) {
      if (message.type === "start") {
        current = remaining.find((c) => c.id === message.cellId) ?? null;
        arm("cell");
      } else if (message.type === "cell") {
        clearTimeout(timer);
        const cell = remaining.find((c) => c.id === message.cellId);
        if (cell) {
          finished.add(cell.id);
          await onCellDone(cell, message.rows);
        }
        current = null;
        arm("cell");
      } else if (message.type === "budget") {
        budgetStop = true;
      }
    }
    clearTimeout(timer);
    const status = await worker.status;
    remaining = remaining.filter((c) => !finished.has(c.id));
    if (budgetStop) return remaining.length;
    if (remaining.length === 0) break;
    const reason = timedOut === "load"
      ? `timeout: loading the model took longer than cell_timeout_s=${spec.cell_timeout_s}`
      : timedOut === "cell"
      ? `timeout: the cell ran longer than cell_timeout_s=${spec.cell_timeout_s}`
      : `worker died (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`})` +
        (worker.lastStderr() ? `: ${worker.lastStderr()}` : "");
    if (current) {
      await onCellDone(current, [errorRow(current, reason, provenance)]);
      remaining = remaining.filter((c) => c.id !== current!.id);
    } else if (finished.size === 0) {
      // The worker died before finishing any cell (e.g. while loading): every cell fails alike.
      for (const cell of remaining) await onCellDone(cell, [errorRow(cell, reason, provenance)]);
      remaining = [];
    }
    // Otherwise it died between two cells after making progress: restart it for the rest.
    if (remaining.length > 0) {
      log(`  restarting the worker for ${remaining.length} cells of ${group.key}`);
    }
  }
  return 0;
}

async function runProbe(
  spec: SweepSpec,
  group: CellGroup,
  provenance: Provenance,
  env?: Record<string, string>,
  stderr?: (chunk: Uint8Array) => void,
): Promise<{ loadMs: number; points: ProbePoint[] } | null> {
  const worker = await spawnWorker(
    {
      mode: "probe",
      spec,
      model: group.model,
      dtype: group.dtype,
      device: group.device,
      cells: [],
      provenance,
      deadlineMs: null,
    },
    env,
    spec.cell_timeout_s * 1000,
    stderr,
  );
  let result = null;
  for await (const message of worker.messages) {
    if (message.type === "probe") result = message;
  }
  await worker.status;
  return result;
}

async function runPerplexity(
  spec: SweepSpec,
  model: string,
  provenance: Provenance,
  log: (line: string) => void,
  env?: Record<string, string>,
  stderr?: (chunk: Uint8Array) => void,
): Promise<PerplexityRow[]> {
  const worker = await spawnWorker(
    {
      mode: "ppl",
      spec,
      model,
      dtype: spec.perplexity!.dtypes[0]!,
      device: spec.devices[0]!,
      cells: [],
      provenance,
      deadlineMs: null,
      // Each dtype is a bounded piece of work: the timeout grows with their number.
    },
    env,
    spec.cell_timeout_s * 1000 * (spec.perplexity!.dtypes.length + 1),
    stderr,
  );
  let rows: PerplexityRow[] = [];
  for await (const message of worker.messages) {
    if (message.type === "ppl") rows = message.rows;
  }
  const status = await worker.status;
  if (rows.length === 0) {
    const reason = worker.timedOut()
      ? `timeout: perplexity ran longer than ${spec.perplexity!.dtypes.length + 1} × ` +
        `cell_timeout_s=${spec.cell_timeout_s}`
      : `perplexity worker failed (${
        status.signal ? `signal ${status.signal}` : `exit code ${status.code}`
      }): ${worker.lastStderr()}`;
    log(`  ${reason}`);
    rows = spec.perplexity!.dtypes.map((dtype) => ({
      timestamp: new Date().toISOString(),
      model,
      dtype,
      device: spec.devices[0]!,
      execution_provider: "",
      method: spec.perplexity!.method,
      window: spec.perplexity!.window,
      stride: spec.perplexity!.stride,
      max_tokens: spec.perplexity!.max_tokens,
      scored_tokens: null,
      ppl: null,
      stderr: null,
      bits_per_byte: null,
      baseline: "",
      delta_ppl_pct: null,
      kl: null,
      top1_agreement: null,
      seconds: null,
      tokens_per_s: null,
      status: "error" as const,
      error: reason.slice(0, 500),
      git_commit: provenance.gitCommit,
    }));
  }
  return rows;
}

function perplexityComplete(rows: readonly PerplexityRow[], spec: SweepSpec, model: string) {
  const p = spec.perplexity!;
  return p.dtypes.every((dtype) =>
    rows.some((r) =>
      r.model === model && r.dtype === dtype && r.status === "ok" && r.method === p.method &&
      r.window === p.window && r.stride === p.stride && r.max_tokens === p.max_tokens
    )
  );
}
