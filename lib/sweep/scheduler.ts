/**
 * The sweep's scheduler: one fresh worker process per cell (so a cell's peak memory is its own,
 * never what an earlier cell's arena left behind), in the grid's interleaved order, with the
 * machine's load read before and after each cell, a timeout per model load and per cell, and a
 * failing or killed cell recorded as an error row. Also the checks before the first cell and
 * the probe that estimates the run's length.
 *
 * @module
 */
import { loadavg } from "node:os";
import type { BenchRow } from "../results/schema.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";
import type { Cell } from "./grid.ts";
import type { Provenance, WorkerJob } from "./protocol.ts";
import { errorRow } from "./rows.ts";
import type { SweepSpec } from "./spec.ts";
import type { ProbePoint } from "./estimate.ts";
import { exitReason, spawnWorker, type WorkerOptions } from "./worker_process.ts";

/** Options of {@linkcode runCells}. */
export interface RunCellsOptions extends WorkerOptions {
  /** Epoch ms after which no new cell starts, or null. @default null */
  deadlineMs?: number | null;
  /** The machine's 1-minute load average. @default os.loadavg()[0] */
  load1?: () => number;
}

/**
 * Runs cells one fresh worker each, in order; each cell's rows (or its error row) go to
 * `onCellDone` with `load1_before` / `load1_after` filled in, and the telemetry of its measured
 * window (null when the worker sent none).
 *
 * @param spec The sweep spec.
 * @param cells Cells in run order.
 * @param provenance Row provenance.
 * @param onCellDone Called once per cell that ran.
 * @param options Deadline, worker environment.
 * @returns How many cells the deadline left unstarted.
 * @example
 * ```ts ignore
 * const left = await runCells(spec, expandGrid(spec), provenance, async (cell, rows) => {});
 * ```
 */
export async function runCells(
  spec: SweepSpec,
  cells: readonly Cell[],
  provenance: Provenance,
  onCellDone: (cell: Cell, rows: BenchRow[], telemetry: TelemetryRun | null) => Promise<void>,
  options: RunCellsOptions = {},
): Promise<number> {
  const deadlineMs = options.deadlineMs ?? null;
  const load1 = options.load1 ?? (() => loadavg()[0] ?? 0);
  for (const [i, cell] of cells.entries()) {
    // Past the budget, start no worker: a load costs time and its failure would record cells as
    // errors that the budget was meant to leave for a resume.
    if (deadlineMs !== null && Date.now() > deadlineMs) return cells.length - i;
    const before = load1();
    const result = await runOneCell(spec, cell, provenance, deadlineMs, options);
    if (result === "budget") return cells.length - i;
    const after = load1();
    for (const row of result.rows) {
      row.load1_before = before;
      row.load1_after = after;
    }
    await onCellDone(cell, result.rows, result.telemetry);
  }
  return 0;
}

async function runOneCell(
  spec: SweepSpec,
  cell: Cell,
  provenance: Provenance,
  deadlineMs: number | null,
  workers: WorkerOptions,
): Promise<{ rows: BenchRow[]; telemetry: TelemetryRun | null } | "budget"> {
  const job: WorkerJob = {
    mode: "bench",
    spec,
    model: cell.model,
    dtype: cell.dtype,
    device: cell.device,
    cells: [cell],
    provenance,
    deadlineMs,
  };
  const worker = await spawnWorker(job, workers);
  let timedOut: "load" | "cell" | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // One clock bounds loading the model (until the cell starts), a second the cell itself.
  const arm = (phase: "load" | "cell") => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = phase;
      worker.kill();
    }, spec.cell_timeout_s * 1000);
  };
  arm("load");
  let rows: BenchRow[] | null = null;
  let telemetry: TelemetryRun | null = null;
  let budget = false;
  for await (const message of worker.messages) {
    if (message.type === "start") arm("cell");
    else if (message.type === "budget") budget = true;
    else if (message.type === "cell" && message.cellId === cell.id) {
      clearTimeout(timer);
      rows = message.rows;
      telemetry = message.telemetry ?? null;
    }
  }
  clearTimeout(timer);
  const status = await worker.status;
  if (rows !== null) return { rows, telemetry };
  if (budget) return "budget";
  const reason = timedOut === "load"
    ? `timeout: loading the model took longer than cell_timeout_s=${spec.cell_timeout_s}`
    : timedOut === "cell"
    ? `timeout: the cell ran longer than cell_timeout_s=${spec.cell_timeout_s}`
    : exitReason(status, worker.lastStderr());
  return { rows: [errorRow(cell, reason, provenance)], telemetry: null };
}

/** What {@linkcode checkModels} found for one model. */
export interface ModelCheck {
  /** Model reference. */
  model: string;
  /** `random` or `trained` (from the model's config). */
  weights: string;
  /**
   * What a fresh worker pays before its first run, ms: process start and imports plus one model
   * load, as the check worker measured them (builds excluded).
   */
  startMs: number;
}

/**
 * Resolves and loads every model of the spec once in a worker (its first dtype that loads, on
 * the first device), before the first cell: a model that does not exist or whose ONNX files are
 * not models fails the sweep here, with one line naming `$.models[i]`, instead of filling every
 * cell with errors. A check that only runs out of `cell_timeout_s` is not fatal: the cells then
 * record their own timeouts.
 *
 * @param spec The sweep spec.
 * @param provenance Row provenance (the job needs it).
 * @param source File name for the message. @default "sweep spec"
 * @param workers Worker environment and stderr sink.
 * @returns The weights' origin of each model.
 * @throws {Error} `Invalid SOURCE: $.models[i] (REF) cannot be loaded: REASON`.
 */
export async function checkModels(
  spec: SweepSpec,
  provenance: Provenance,
  source = "sweep spec",
  workers: WorkerOptions = {},
): Promise<ModelCheck[]> {
  const out: ModelCheck[] = [];
  for (const [i, model] of spec.models.entries()) {
    const started = performance.now();
    const worker = await spawnWorker(
      {
        mode: "check",
        spec,
        model,
        dtype: spec.dtypes[0]!,
        device: spec.devices[0]!,
        cells: [],
        provenance,
        deadlineMs: null,
      },
      { ...workers, timeoutMs: spec.cell_timeout_s * 1000 },
    );
    let result: { weights: string; error: string | null } | null = null;
    let startMs = 0;
    for await (const message of worker.messages) {
      if (message.type === "check") {
        result = message;
        startMs = message.startMs ?? performance.now() - started;
      }
    }
    const status = await worker.status;
    if (result === null && worker.timedOut()) {
      out.push({ model, weights: "", startMs: performance.now() - started });
      continue;
    }
    const error = result === null ? exitReason(status, worker.lastStderr()) : result.error;
    if (error !== null) {
      throw new Error(
        `Invalid ${source}: $.models[${i}] (${model}) cannot be loaded on ${spec.devices[0]} ` +
          `in any of its dtypes: ${error}`,
      );
    }
    out.push({ model, weights: result!.weights, startMs });
  }
  return out;
}

/**
 * Times one short prefill and decode of a cell's model at two prompt lengths, for the estimate.
 *
 * @param spec The sweep spec.
 * @param cell A cell whose model, dtype and device are probed.
 * @param provenance Row provenance.
 * @param workers Worker environment and stderr sink.
 * @returns Load time and the probe points, or null when the probe failed.
 */
export async function runProbe(
  spec: SweepSpec,
  cell: Cell,
  provenance: Provenance,
  workers: WorkerOptions = {},
): Promise<{ loadMs: number; points: ProbePoint[] } | null> {
  const worker = await spawnWorker(
    {
      mode: "probe",
      spec,
      model: cell.model,
      dtype: cell.dtype,
      device: cell.device,
      cells: [],
      provenance,
      deadlineMs: null,
    },
    { ...workers, timeoutMs: spec.cell_timeout_s * 1000 },
  );
  let result = null;
  for await (const message of worker.messages) {
    if (message.type === "probe") result = message;
  }
  await worker.status;
  return result;
}
