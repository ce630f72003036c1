/**
 * The benchmark history: one SQLite database (Deno's built-in `node:sqlite`, WAL mode) with a
 * table of runs (every job result, every `deno task bench --output`, every sweep cell) and a
 * table of service jobs. Several processes may write it at once (a sweep, a bench, the server):
 * WAL lets readers run beside one writer and `busy_timeout` makes writers wait their turn.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { openHistoryDatabase, type OpenHistoryOptions } from "./_open.ts";

export type { OpenHistoryOptions };
import type { JobRecord, JobStatus, ListFilter, NewRun, Page, RunRecord } from "./schema.ts";
import { JOB_COLUMN, mean, type Row, RUN_LIST_COLUMNS, toJob, toRun, whereClause } from "./_sql.ts";

/**
 * The history database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HistoryDb } from "./db.ts";
 * const db = HistoryDb.open(Deno.makeTempDirSync() + "/history.sqlite");
 * // another program's SQLite file is refused, never changed
 * assert.throws(() => HistoryDb.open(new URL(import.meta.url).pathname), /not a SQLite database/);
 * const run = {
 *   key: "bench:example", source: "bench" as const, job_id: null,
 *   created_at: "2026-01-01T00:00:00Z", model: "preset:tiny", dtype: "fp32", device: "cpu",
 *   execution_provider: "CPUExecutionProvider", use_cache: true, batch: 1, prompt_tokens: 16,
 *   max_new_tokens: 4, git_commit: "abc123", hardware: "cpu", status: "ok" as const, error: "",
 *   samples: { decode_tokens_per_s: [100, 110], prefill_ms: [2, 3], total_ms: [30, 32] },
 *   peak_rss_bytes: null, result: null,
 * };
 * const id = db.insertRun(run);
 * assert(id !== null && db.insertRun(run) === null); // a key is written once
 * assert.equal(db.getRun(id)?.decode_tokens_per_s, 105);
 * db.close();
 * ```
 */
export class HistoryDb {
  readonly #db: DatabaseSync;
  /** Path of the database file. */
  readonly path: string;

  private constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.path = path;
  }

  /**
   * Opens (creating when needed) the database and its tables, in WAL mode. A file that is not
   * this project's history, is corrupt, or is locked by another process is refused naming the
   * path, and nothing is written to it; `readOnly` never creates or changes anything.
   *
   * @param path Database file.
   * @param options `readOnly`; `createDir`: create the file's missing directory (the default
   * location only: a mistyped path must not grow directories).
   * @returns The open database.
   */
  static open(path: string, options: OpenHistoryOptions = {}): HistoryDb {
    return new HistoryDb(openHistoryDatabase(path, options), path);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  /**
   * Writes a run unless its key is already there.
   *
   * @param run The run.
   * @returns Its id, or `null` when the key existed (nothing written).
   */
  insertRun(run: NewRun): number | null {
    const info = this.#db.prepare(
      `INSERT INTO runs (key, source, job_id, created_at, model, dtype, device, execution_provider,
        use_cache, batch, prompt_tokens, max_new_tokens, git_commit, hardware, status, error,
        samples, decode_tokens_per_s, prefill_ms, total_ms, peak_rss_bytes, result)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (key) DO NOTHING`,
    ).run(
      run.key,
      run.source,
      run.job_id,
      run.created_at,
      run.model,
      run.dtype,
      run.device,
      run.execution_provider,
      run.use_cache ? 1 : 0,
      run.batch,
      run.prompt_tokens,
      run.max_new_tokens,
      run.git_commit,
      run.hardware,
      run.status,
      run.error,
      JSON.stringify(run.samples),
      mean(run.samples.decode_tokens_per_s),
      mean(run.samples.prefill_ms),
      mean(run.samples.total_ms),
      run.peak_rss_bytes,
      run.result === null || run.result === undefined ? null : JSON.stringify(run.result),
    );
    return info.changes === 0 ? null : Number(info.lastInsertRowid);
  }

  /**
   * One run by id.
   *
   * @param id Row id.
   * @returns The run or `undefined`.
   */
  getRun(id: number): RunRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as Row | undefined;
    return row && toRun(row);
  }

  /**
   * Runs matching a filter, newest first.
   *
   * @param filter Model, dtype, device, since, source, commit prefix, paging.
   * @returns A page (each run without its full `result`).
   */
  listRuns(filter: ListFilter = {}): Page<RunRecord> {
    const { where, args } = whereClause(filter, "runs");
    return this.#page(
      `FROM runs ${where}`,
      args,
      filter,
      `SELECT ${RUN_LIST_COLUMNS}, NULL AS result`,
      toRun,
    );
  }

  /**
   * Every ok run of a commit (prefix match) or, when `ref` is a job id, that job's run.
   *
   * @param ref A git commit (prefix, at least 4 characters) or a job id.
   * @returns The runs, oldest first.
   */
  runsFor(ref: string): RunRecord[] {
    const job = this.getJob(ref);
    if (job) {
      const run = job.run_id === null ? undefined : this.getRun(job.run_id);
      return run ? [run] : [];
    }
    if (ref.length < 4) return [];
    const rows = this.#db.prepare(
      `SELECT * FROM runs WHERE status = 'ok' AND substr(git_commit, 1, ?) = ? ORDER BY id`,
    ).all(ref.length, ref) as Row[];
    return rows.map(toRun);
  }

  /**
   * Writes a new job.
   *
   * @param job The job (usually `queued`).
   */
  insertJob(job: JobRecord): void {
    this.#db.prepare(
      `INSERT INTO jobs (id, status, request, model, dtype, device, created_at, started_at,
        finished_at, progress, phase, error, worker_pid, run_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      job.id,
      job.status,
      JSON.stringify(job.request),
      job.model,
      job.dtype,
      job.device,
      job.created_at,
      job.started_at,
      job.finished_at,
      job.progress,
      job.phase,
      job.error,
      job.worker_pid,
      job.run_id,
    );
  }

  /**
   * One job by id.
   *
   * @param id Job id.
   * @returns The job or `undefined`.
   */
  getJob(id: string): JobRecord | undefined {
    const row = this.#db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as Row | undefined;
    return row && toJob(row);
  }

  /**
   * Jobs matching a filter, newest first.
   *
   * @param filter Model, dtype, device, since, status, paging.
   * @returns A page.
   */
  listJobs(filter: ListFilter = {}): Page<JobRecord> {
    const { where, args } = whereClause(filter, "jobs");
    return this.#page(`FROM jobs ${where}`, args, filter, "SELECT *", toJob);
  }

  /**
   * Jobs in a state, oldest first.
   *
   * @param status The state.
   * @returns The jobs.
   */
  jobsWithStatus(status: JobStatus): JobRecord[] {
    return (this.#db.prepare("SELECT * FROM jobs WHERE status = ? ORDER BY created_at, rowid")
      .all(status) as Row[]).map(toJob);
  }

  /**
   * Updates some fields of a job.
   *
   * @param id Job id.
   * @param patch Fields to set.
   * @returns The job after the update, or `undefined` when there is none.
   */
  updateJob(
    id: string,
    patch: Partial<Omit<JobRecord, "id" | "request" | "created_at">>,
  ): JobRecord | undefined {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined);
    if (entries.length > 0) {
      const sets = entries.map(([k]) => `${JOB_COLUMN[k as keyof typeof JOB_COLUMN]} = ?`);
      this.#db.prepare(`UPDATE jobs SET ${sets.join(", ")} WHERE id = ?`)
        .run(...entries.map(([, v]) => v as SQLInputValue), id);
    }
    return this.getJob(id);
  }

  /**
   * Ends a job as `done` and writes its run, in one transaction: both or neither.
   *
   * @param id Job id.
   * @param run The job's run (its key is `job:ID`, so a second call writes nothing).
   * @returns The job after the update.
   */
  finishJob(id: string, run: NewRun): JobRecord | undefined {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const runId = this.insertRun(run) ??
        Number((this.#db.prepare("SELECT id FROM runs WHERE key = ?").get(run.key) as Row).id);
      this.#db.prepare(
        `UPDATE jobs SET status = 'done', progress = 1, finished_at = ?, worker_pid = NULL,
         run_id = ? WHERE id = ?`,
      ).run(new Date().toISOString(), runId, id);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return this.getJob(id);
  }

  #page<T>(
    from: string,
    args: SQLInputValue[],
    filter: ListFilter,
    select: string,
    map: (row: Row) => T,
  ): Page<T> {
    const limit = filter.limit ?? 50;
    const offset = filter.offset ?? 0;
    const total = Number((this.#db.prepare(`SELECT count(*) AS n ${from}`).get(...args) as Row).n);
    const rows = this.#db.prepare(
      `${select} ${from} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?`,
    ).all(...args, limit, offset) as Row[];
    return { items: rows.map(map), total, limit, offset };
  }
}
