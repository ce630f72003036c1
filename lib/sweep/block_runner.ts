/**
 * Runs the blocks of a sweep: for each block, one live worker process per arm (so each arm's
 * peak memory is its own), all started and warmed up first, then rounds (lib/measure/rounds.ts)
 * in which every arm runs its repetitions in a seeded order drawn afresh each round, until the
 * block's verdicts are settled, `max_rounds`, or the block's share of the time budget. A failing
 * or killed arm becomes an error row and leaves the rounds; the others go on.
 *
 * @module
 */
import { loadavg } from "node:os";
import type { BenchRow } from "../results/schema.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";
import { epochMs, type RoundStop, runRounds } from "../measure/rounds.ts";
import type { Cell } from "./grid.ts";
import type { Block } from "./blocks.ts";
import type { Provenance, WorkerMessage } from "./protocol.ts";
import { errorRow } from "./rows.ts";
import type { SweepSpec } from "./spec.ts";
import { exitReason, spawnWorker, type WorkerOptions, type WorkerRun } from "./worker_process.ts";

/** Whether a block's verdicts are settled, from its rows so far (the A/A control's included). */
export type SettledCheck = (rows: readonly BenchRow[]) => boolean;

/** What one block did. */
export interface BlockResult {
  /** The block. */
  block: Block;
  /** Rows by cell id (an arm that failed: one error row). */
  rows: Map<string, BenchRow[]>;
  /** Telemetry of each arm that sampled it. */
  telemetry: Map<string, TelemetryRun>;
  /** Rounds completed. */
  rounds: number;
  /** Why the rounds stopped. */
  stop: RoundStop;
  /** Wall time of the block, seconds. */
  seconds: number;
}

/** Options of {@linkcode runBlock}. */
export interface RunBlockOptions extends WorkerOptions {
  /** After `min_rounds`, no round starts that would end past this (epoch ms). @default none */
  softDeadlineMs?: number | null;
  /** No round starts past this (epoch ms): the sweep's budget. @default none */
  hardDeadlineMs?: number | null;
  /** The settled check. @default never settled: rounds stop on `max_rounds` or the budget */
  settled?: SettledCheck;
  /** The machine's 1-minute load average. @default os.loadavg()[0] */
  load1?: () => number;
}

/** One live arm: its worker and its message stream. */
class LiveArm {
  readonly worker: WorkerRun;
  readonly cell: Cell;
  readonly #timeoutMs: number;
  #failure: string | null = null;

  constructor(worker: WorkerRun, cell: Cell, timeoutMs: number) {
    this.worker = worker;
    this.cell = cell;
    this.#timeoutMs = timeoutMs;
  }

  /** Why the arm failed, or null. */
  get failure(): string | null {
    return this.#failure;
  }

  /** The next message, the worker killed after `cell_timeout_s`; null when the worker is gone. */
  async #next(phase: string): Promise<WorkerMessage | null> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.worker.kill();
    }, this.#timeoutMs);
    try {
      const { value, done } = await this.worker.messages.next();
      if (!done) return value;
      this.#failure ??= timedOut
        ? `timeout: ${phase} took longer than cell_timeout_s=${this.#timeoutMs / 1000}`
        : exitReason(await this.worker.status, this.worker.lastStderr());
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the arm to be loaded and warm. @returns whether it is. */
  async started(): Promise<boolean> {
    const m = await this.#next("loading the model");
    if (m?.type === "start") return true;
    if (m?.type === "cell") this.#failure = m.rows[0]?.error ?? "failed";
    else if (m) this.#failure = `unexpected message '${m.type}' before start`;
    this.worker.kill();
    return false;
  }

  /** Runs one turn. @throws {Error} with the reason when the arm fails. */
  async turn(round: number, position: number): Promise<BenchRow[]> {
    await this.worker.command({ type: "turn", round, position }).catch(() => {});
    const m = await this.#next("a round of the arm");
    if (m?.type === "turn") return m.rows;
    if (m?.type === "cell") this.#failure = m.rows[0]?.error ?? "failed";
    else if (m) this.#failure = `unexpected message '${m.type}' in a round`;
    this.worker.kill();
    throw new Error(this.#failure ?? "the arm failed");
  }

  /** Ends the arm: its memory, quantisation and telemetry, or null when it failed. */
  async end(): Promise<{ fields: Partial<BenchRow>; telemetry: TelemetryRun | null } | null> {
    await this.worker.command({ type: "end" }).catch(() => {});
    const m = await this.#next("ending the arm");
    if (m?.type === "arm_end") return { fields: m.fields, telemetry: m.telemetry ?? null };
    if (m?.type === "cell") this.#failure = m.rows[0]?.error ?? "failed";
    this.worker.kill();
    return null;
  }
}

/**
 * Runs one block: starts every arm, runs the rounds, ends the arms.
 *
 * @param spec The sweep spec.
 * @param block The block.
 * @param provenance Row provenance.
 * @param options Deadlines, the settled check, worker environment.
 * @returns The rows by cell, or `"budget"` when the budget left no time for `min_rounds` (the
 * block's cells are then left for a resume, nothing recorded).
 */
export async function runBlock(
  spec: SweepSpec,
  block: Block,
  provenance: Provenance,
  options: RunBlockOptions = {},
): Promise<BlockResult | "budget"> {
  const started = epochMs();
  const hard = options.hardDeadlineMs ?? null;
  if (hard !== null && started > hard) return "budget";
  const load1 = options.load1 ?? (() => loadavg()[0] ?? 0);
  const before = load1();
  const timeoutMs = spec.cell_timeout_s * 1000;
  const arms = await Promise.all(block.arms.map(async (cell) => {
    const aa = cell.id === block.aa?.id;
    const worker = await spawnWorker({
      mode: "arm",
      spec,
      model: cell.model,
      dtype: cell.dtype,
      device: cell.device,
      cells: [cell],
      provenance,
      deadlineMs: hard,
      replica: aa ? 1 : 0,
      block: block.id,
    }, options);
    return new LiveArm(worker, cell, timeoutMs);
  }));
  try {
    const ready = await Promise.all(arms.map((a) => a.started()));
    const live = arms.filter((_, i) => ready[i]);
    const rounds = live.length === 0 ? null : await runRounds(
      live.map((arm) => ({ id: arm.cell.id, turn: (t) => arm.turn(t.round, t.position) })),
      {
        minRounds: spec.min_rounds,
        maxRounds: spec.max_rounds,
        seed: spec.seed,
        order: spec.round_order,
        deadlineMs: options.softDeadlineMs ?? null,
        hardDeadlineMs: hard,
        ...(options.settled
          ? { settled: (records) => options.settled!(records.map((r) => r.result)) }
          : {}),
      },
    );
    if (rounds !== null && rounds.rounds < spec.min_rounds && rounds.stop === "budget") {
      return "budget";
    }
    const after = load1();
    const rows = new Map<string, BenchRow[]>();
    const telemetry = new Map<string, TelemetryRun>();
    for (const arm of arms) {
      const end = arm.failure === null ? await arm.end() : null;
      if (arm.failure !== null || end === null) {
        rows.set(arm.cell.id, [errorRow(arm.cell, arm.failure ?? "the arm failed", provenance)]);
        continue;
      }
      const own = (rounds?.records ?? []).filter((r) => r.armId === arm.cell.id).map((r) => ({
        ...r.result,
        ...end.fields,
        load1_before: before,
        load1_after: after,
      }));
      rows.set(arm.cell.id, own);
      if (end.telemetry) telemetry.set(arm.cell.id, end.telemetry);
    }
    return {
      block,
      rows,
      telemetry,
      rounds: rounds?.rounds ?? 0,
      stop: rounds?.stop ?? "no_arms",
      seconds: (epochMs() - started) / 1000,
    };
  } finally {
    for (const arm of arms) {
      arm.worker.kill();
      await arm.worker.status.catch(() => {});
    }
  }
}
