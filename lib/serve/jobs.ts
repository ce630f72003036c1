/**
 * The job queue: accepted benchmark requests are written to the jobs table as `queued`, then
 * run one at a time per device, each in its own worker process. Progress goes to the table and to
 * subscribers (the SSE streams). A finished job's run is written in the same transaction that
 * marks it `done`; a crashed worker marks its job `failed` with the reason; cancelling kills the
 * worker. On start, jobs a dead server left `running` become `interrupted` (their orphaned
 * worker killed) and `queued` ones are queued again.
 *
 * @module
 */
import type { Device } from "../dtypes.ts";
import { type HistoryDb, type JobRecord, runFromBenchReport } from "../history/mod.ts";
import type { BenchmarkRequest } from "./validate.ts";
import {
  type BenchWorker,
  killOrphanWorker,
  type RunProgress,
  startBenchWorker,
  type WorkerLine,
} from "./worker.ts";

/** An event of one job. */
export interface JobEvent {
  /** `state`: status or progress changed; `run`: a measured run finished; `end`: terminal. */
  type: "state" | "run" | "end";
  /** The job after the change. */
  job: JobRecord;
  /** The measured run (`run` events). */
  run?: RunProgress;
}

/** Terminal states. */
export const FINISHED: ReadonlySet<string> = new Set([
  "done",
  "failed",
  "cancelled",
  "interrupted",
]);

/** Options of {@linkcode JobQueue}. */
export interface JobQueueOptions {
  /** Environment of the workers (e.g. the model cache). */
  workerEnv?: Record<string, string>;
  /** Log lines (stderr). */
  log?: (level: "debug" | "info" | "warn", line: string) => void;
  /** Starts a worker. @default startBenchWorker */
  startWorker?: typeof startBenchWorker;
}

/**
 * The queue of benchmark jobs.
 *
 * @example
 * ```ts ignore
 * const queue = new JobQueue(HistoryDb.open("h.sqlite"));
 * queue.recover();
 * const job = queue.submit({ ...BENCH_DEFAULTS, model: "preset:tiny", runs: 2 });
 * ```
 */
export class JobQueue {
  readonly #db: HistoryDb;
  readonly #options: JobQueueOptions;
  readonly #queued: string[] = [];
  readonly #running = new Map<string, { jobId: string; worker: BenchWorker; cancel: boolean }>();
  readonly #listeners = new Map<string, Set<(e: JobEvent) => void>>();
  #closed = false;

  /**
   * @param db The history database.
   * @param options Worker environment, logging.
   */
  constructor(db: HistoryDb, options: JobQueueOptions = {}) {
    this.#db = db;
    this.#options = options;
  }

  /**
   * Recovers from a previous server: `running` jobs become `interrupted`, `queued` ones are
   * queued again. Call once before serving.
   *
   * @returns The ids interrupted and requeued.
   */
  recover(): { interrupted: string[]; requeued: string[] } {
    const interrupted: string[] = [];
    for (const job of this.#db.jobsWithStatus("running")) {
      if (job.worker_pid !== null && killOrphanWorker(job.worker_pid, job.id)) {
        this.#log("warn", `job ${job.id}: killed the orphaned worker ${job.worker_pid}`);
      }
      this.#db.updateJob(job.id, {
        status: "interrupted",
        error: "the server stopped while the job ran",
        finished_at: new Date().toISOString(),
        worker_pid: null,
      });
      interrupted.push(job.id);
    }
    const requeued = this.#db.jobsWithStatus("queued").map((j) => j.id);
    this.#queued.push(...requeued);
    for (const id of interrupted) this.#log("warn", `job ${id}: interrupted by a server restart`);
    this.#pumpAll();
    return { interrupted, requeued };
  }

  /**
   * Accepts a validated request: writes it as `queued` and starts it when its device is free.
   *
   * @param request The request.
   * @returns The job as written.
   */
  submit(request: BenchmarkRequest): JobRecord {
    const job: JobRecord = {
      id: crypto.randomUUID(),
      status: "queued",
      request: request as unknown as Record<string, unknown>,
      model: request.model,
      dtype: request.dtype,
      device: request.device,
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      progress: 0,
      phase: "queued",
      error: "",
      worker_pid: null,
      run_id: null,
    };
    this.#db.insertJob(job);
    this.#queued.push(job.id);
    this.#log("info", `job ${job.id}: queued (${job.model} ${job.dtype} on ${job.device})`);
    this.#pump(request.device);
    return this.#db.getJob(job.id)!;
  }

  /**
   * Cancels a queued or running job.
   *
   * @param id Job id.
   * @returns The job, `"not-found"`, or `"finished"` when it had already ended.
   */
  cancel(id: string): JobRecord | "not-found" | "finished" {
    const job = this.#db.getJob(id);
    if (!job) return "not-found";
    if (FINISHED.has(job.status)) return "finished";
    const at = this.#queued.indexOf(id);
    if (at >= 0) {
      this.#queued.splice(at, 1);
      return this.#end(id, { status: "cancelled", error: "cancelled while queued" });
    }
    const active = [...this.#running.values()].find((r) => r.jobId === id);
    if (active) {
      active.cancel = true;
      active.worker.kill();
      this.#log("info", `job ${id}: cancelling (killing worker ${active.worker.pid})`);
    }
    return this.#db.getJob(id)!;
  }

  /**
   * Waits until job `id` has ended (a cancelled worker takes a moment to exit), at most
   * `timeoutMs`.
   *
   * @param id Job id.
   * @param timeoutMs How long to wait. @default 5000
   * @returns The job as it is then (still `running` when the worker outlived the wait).
   */
  async settled(id: string, timeoutMs = 5000): Promise<JobRecord> {
    const until = Date.now() + timeoutMs;
    let job = this.#db.getJob(id)!;
    while (!FINISHED.has(job.status) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      job = this.#db.getJob(id)!;
    }
    return job;
  }

  /**
   * Subscribes to a job's events.
   *
   * @param id Job id.
   * @param listener Called on every event.
   * @returns Unsubscribe.
   */
  subscribe(id: string, listener: (e: JobEvent) => void): () => void {
    const set = this.#listeners.get(id) ?? new Set();
    set.add(listener);
    this.#listeners.set(id, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(id);
    };
  }

  /** Jobs waiting, in order. */
  get queued(): readonly string[] {
    return this.#queued;
  }

  /**
   * Stops: kills running workers and marks their jobs `interrupted` (queued jobs stay queued for
   * the next start).
   */
  async close(): Promise<void> {
    this.#closed = true;
    const active = [...this.#running.values()];
    for (const a of active) {
      a.cancel = false;
      a.worker.kill();
    }
    await Promise.all(active.map((a) => a.worker.done));
  }

  #pumpAll(): void {
    const devices = new Set(this.#queued.map((id) => this.#db.getJob(id)?.device as Device));
    for (const device of devices) this.#pump(device);
  }

  #pump(device: string): void {
    if (this.#closed || this.#running.has(device)) return;
    const next = this.#queued.findIndex((id) => this.#db.getJob(id)?.device === device);
    if (next < 0) return;
    const [id] = this.#queued.splice(next, 1) as [string];
    const job = this.#db.getJob(id)!;
    const request = job.request as unknown as BenchmarkRequest;
    const total = request.warmup + request.runs;
    const onLine = (line: WorkerLine, raw: string) => {
      this.#log("debug", `job ${id}: ${raw}`);
      if (line.kind === "warmup" || line.kind === "run") {
        const done = line.kind === "warmup" ? line.done : request.warmup + line.done;
        const updated = this.#db.updateJob(id, { progress: done / total, phase: raw })!;
        this.#emit({ type: "state", job: updated });
        if (line.kind === "run") this.#emit({ type: "run", job: updated, run: line.run });
      } else if (line.kind === "info") {
        this.#emit({ type: "state", job: this.#db.updateJob(id, { phase: raw })! });
      }
    };
    const worker = (this.#options.startWorker ?? startBenchWorker)(id, request, {
      onLine,
      ...(this.#options.workerEnv ? { env: this.#options.workerEnv } : {}),
    });
    const slot = { jobId: id, worker, cancel: false };
    this.#running.set(device, slot);
    const started = this.#db.updateJob(id, {
      status: "running",
      started_at: new Date().toISOString(),
      worker_pid: worker.pid,
      phase: "starting the worker",
    })!;
    this.#log("info", `job ${id}: running (worker ${worker.pid})`);
    this.#emit({ type: "state", job: started });
    worker.done.then((outcome) => {
      this.#running.delete(device);
      if (outcome.ok) {
        try {
          const run = runFromBenchReport(outcome.report, {
            source: "job",
            key: `job:${id}`,
            jobId: id,
          });
          this.#db.updateJob(id, { phase: "done" });
          const done = this.#db.finishJob(id, run)!;
          this.#log("info", `job ${id}: done`);
          this.#emit({ type: "end", job: done });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.#end(id, { status: "failed", error: message });
        }
      } else if (slot.cancel) {
        this.#end(id, { status: "cancelled", error: "cancelled while running" });
      } else if (this.#closed) {
        this.#end(id, { status: "interrupted", error: "the server stopped while the job ran" });
      } else {
        this.#end(id, { status: "failed", error: outcome.reason });
      }
      this.#pump(device);
    });
  }

  #end(id: string, patch: { status: JobRecord["status"]; error: string }): JobRecord {
    const job = this.#db.updateJob(id, {
      ...patch,
      finished_at: new Date().toISOString(),
      worker_pid: null,
    })!;
    this.#log(
      patch.status === "failed" ? "warn" : "info",
      `job ${id}: ${patch.status} (${patch.error})`,
    );
    this.#emit({ type: "end", job });
    return job;
  }

  #emit(event: JobEvent): void {
    for (const listener of this.#listeners.get(event.job.id) ?? []) listener(event);
  }

  #log(level: "debug" | "info" | "warn", line: string): void {
    this.#options.log?.(level, line);
  }
}
