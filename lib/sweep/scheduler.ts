/**
 * The sweep's checks before the first block (every model loads) and the probe that estimates
 * the run's length. The blocks themselves run in lib/sweep/block_runner.ts.
 *
 * @module
 */
import type { Cell } from "./grid.ts";
import type { Provenance } from "./protocol.ts";
import type { SweepSpec } from "./spec.ts";
import type { ProbePoint } from "./estimate.ts";
import { exitReason, spawnWorker, type WorkerOptions } from "./worker_process.ts";

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
