/**
 * The benchmark history: one SQLite database (Deno's built-in `node:sqlite`, WAL mode) with a
 * table of runs (every job result, every `deno task bench --output`, every sweep cell) and a
 * table of service jobs. Several processes may write it at once (a sweep, a bench, the server):
 * WAL lets readers run beside one writer and `busy_timeout` makes writers wait their turn.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { dirname } from "node:path";

/** Where a run came from. */
export const RUN_SOURCES = ["job", "bench", "sweep"] as const;

/** One of {@linkcode RUN_SOURCES}. */
export type RunSource = typeof RUN_SOURCES[number];

/** Job states: `queued` → `running` → `done` | `failed` | `cancelled` | `interrupted`. */
export const JOB_STATUSES = [
  "queued",
  "running",
  "done",
  "failed",
  "cancelled",
  "interrupted",
] as const;

/** One of {@linkcode JOB_STATUSES}. */
export type JobStatus = typeof JOB_STATUSES[number];

/** Raw per-run samples of one benchmark (warmups excluded), the input of comparisons. */
export interface RunSamples {
  /** Decode tokens/s of each measured run (tokens 2..N). */
  decode_tokens_per_s: number[];
  /** Prefill milliseconds of each measured run. */
  prefill_ms: number[];
  /** Prefill + decode milliseconds of each measured run. */
  total_ms: number[];
}

/** A run as written (the database adds `id`). */
export interface NewRun {
  /** Unique key: the same key is never written twice (`job:ID`, `bench:…`, `sweep:…`). */
  key: string;
  /** Where it came from. */
  source: RunSource;
  /** The service job that made it, else `null`. */
  job_id: string | null;
  /** RFC 3339 time the run started. */
  created_at: string;
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device asked for. */
  device: string;
  /** Execution provider that ran (empty when none did). */
  execution_provider: string;
  /** KV cache on. */
  use_cache: boolean;
  /** Sequences per run. */
  batch: number;
  /** Prompt length, tokens. */
  prompt_tokens: number;
  /** New tokens per run. */
  max_new_tokens: number;
  /** Git commit of the project (`-dirty` suffix when the tree had changes), or `unknown`. */
  git_commit: string;
  /** CPU or GPU name. */
  hardware: string;
  /** `ok` or `error`. */
  status: "ok" | "error";
  /** Reason when `error`, else empty. */
  error: string;
  /** Raw samples. */
  samples: RunSamples;
  /** Peak RSS of the measuring process, bytes. */
  peak_rss_bytes: number | null;
  /** The full result (the `bench --output` JSON for jobs and bench), else `null`. */
  result: unknown;
}

/** A stored run with its id and the means of its samples. */
export interface RunRecord extends NewRun {
  /** Row id. */
  id: number;
  /** Mean decode tokens/s, or `null` without samples. */
  decode_tokens_per_s: number | null;
  /** Mean prefill ms. */
  prefill_ms: number | null;
  /** Mean total ms. */
  total_ms: number | null;
}

/** A service job. */
export interface JobRecord {
  /** Job id. */
  id: string;
  /** State. */
  status: JobStatus;
  /** The validated request (bench's names, defaults filled in). */
  request: Record<string, unknown>;
  /** Model reference (from the request). */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device. */
  device: string;
  /** RFC 3339 times. */
  created_at: string;
  /** When the worker started, else `null`. */
  started_at: string | null;
  /** When the job ended, else `null`. */
  finished_at: string | null;
  /** Fraction of warmup + measured runs done, 0..1. */
  progress: number;
  /** Last progress line of the worker. */
  phase: string;
  /** Why it failed, was cancelled or interrupted; else empty. */
  error: string;
  /** Process id of the worker while it runs. */
  worker_pid: number | null;
  /** The run written when the job finished, else `null`. */
  run_id: number | null;
}

/** Filters and paging of {@linkcode HistoryDb.listRuns} and {@linkcode HistoryDb.listJobs}. */
export interface ListFilter {
  /** Exact model reference. */
  model?: string;
  /** Exact dtype. */
  dtype?: string;
  /** Exact device. */
  device?: string;
  /** Only rows created at or after this RFC 3339 time. */
  since?: string;
  /** Runs only: source. */
  source?: RunSource;
  /** Runs only: git commit prefix. */
  commit?: string;
  /** Jobs only: state. */
  status?: JobStatus;
  /** Page size. @default 50 */
  limit?: number;
  /** Rows skipped. @default 0 */
  offset?: number;
}

/** A page of rows. */
export interface Page<T> {
  /** Rows of this page, newest first. */
  items: T[];
  /** Rows matching the filter. */
  total: number;
  /** Page size. */
  limit: number;
  /** Rows skipped. */
  offset: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  job_id TEXT,
  created_at TEXT NOT NULL,
  model TEXT NOT NULL,
  dtype TEXT NOT NULL,
  device TEXT NOT NULL,
  execution_provider TEXT NOT NULL,
  use_cache INTEGER NOT NULL,
  batch INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  max_new_tokens INTEGER NOT NULL,
  git_commit TEXT NOT NULL,
  hardware TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT NOT NULL,
  samples TEXT NOT NULL,
  decode_tokens_per_s REAL,
  prefill_ms REAL,
  total_ms REAL,
  peak_rss_bytes INTEGER,
  result TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
CREATE INDEX IF NOT EXISTS runs_commit ON runs (git_commit);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  request TEXT NOT NULL,
  model TEXT NOT NULL,
  dtype TEXT NOT NULL,
  device TEXT NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  progress REAL NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  worker_pid INTEGER,
  run_id INTEGER REFERENCES runs (id)
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
`;

type Row = Record<string, SQLInputValue>;

/**
 * The history database.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HistoryDb } from "./db.ts";
 * const db = HistoryDb.open(Deno.makeTempDirSync() + "/history.sqlite");
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
   * Opens (creating when needed) the database and its tables, in WAL mode.
   *
   * @param path Database file; its folder is created.
   * @returns The open database.
   */
  static open(path: string): HistoryDb {
    Deno.mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec(SCHEMA);
    return new HistoryDb(db, path);
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

const JOB_COLUMN = {
  status: "status",
  model: "model",
  dtype: "dtype",
  device: "device",
  started_at: "started_at",
  finished_at: "finished_at",
  progress: "progress",
  phase: "phase",
  error: "error",
  worker_pid: "worker_pid",
  run_id: "run_id",
} as const;

const RUN_LIST_COLUMNS = [
  "id",
  "key",
  "source",
  "job_id",
  "created_at",
  "model",
  "dtype",
  "device",
  "execution_provider",
  "use_cache",
  "batch",
  "prompt_tokens",
  "max_new_tokens",
  "git_commit",
  "hardware",
  "status",
  "error",
  "samples",
  "decode_tokens_per_s",
  "prefill_ms",
  "total_ms",
  "peak_rss_bytes",
].join(", ");

function whereClause(
  filter: ListFilter,
  table: "runs" | "jobs",
): { where: string; args: SQLInputValue[] } {
  const conditions: string[] = [];
  const args: SQLInputValue[] = [];
  for (const key of ["model", "dtype", "device"] as const) {
    if (filter[key] !== undefined) {
      conditions.push(`${key} = ?`);
      args.push(filter[key]!);
    }
  }
  if (filter.since !== undefined) {
    conditions.push("created_at >= ?");
    args.push(filter.since);
  }
  if (table === "runs" && filter.source !== undefined) {
    conditions.push("source = ?");
    args.push(filter.source);
  }
  if (table === "runs" && filter.commit !== undefined) {
    conditions.push("substr(git_commit, 1, ?) = ?");
    args.push(filter.commit.length, filter.commit);
  }
  if (table === "jobs" && filter.status !== undefined) {
    conditions.push("status = ?");
    args.push(filter.status);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(" AND ")}` : "", args };
}

function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toRun(row: Row): RunRecord {
  return {
    id: Number(row.id),
    key: String(row.key),
    source: String(row.source) as RunSource,
    job_id: row.job_id === null ? null : String(row.job_id),
    created_at: String(row.created_at),
    model: String(row.model),
    dtype: String(row.dtype),
    device: String(row.device),
    execution_provider: String(row.execution_provider),
    use_cache: Number(row.use_cache) === 1,
    batch: Number(row.batch),
    prompt_tokens: Number(row.prompt_tokens),
    max_new_tokens: Number(row.max_new_tokens),
    git_commit: String(row.git_commit),
    hardware: String(row.hardware),
    status: String(row.status) as "ok" | "error",
    error: String(row.error),
    samples: JSON.parse(String(row.samples)) as RunSamples,
    decode_tokens_per_s: num(row.decode_tokens_per_s),
    prefill_ms: num(row.prefill_ms),
    total_ms: num(row.total_ms),
    peak_rss_bytes: num(row.peak_rss_bytes),
    result: row.result === null || row.result === undefined ? null : JSON.parse(String(row.result)),
  };
}

function toJob(row: Row): JobRecord {
  return {
    id: String(row.id),
    status: String(row.status) as JobStatus,
    request: JSON.parse(String(row.request)) as Record<string, unknown>,
    model: String(row.model),
    dtype: String(row.dtype),
    device: String(row.device),
    created_at: String(row.created_at),
    started_at: row.started_at === null ? null : String(row.started_at),
    finished_at: row.finished_at === null ? null : String(row.finished_at),
    progress: Number(row.progress),
    phase: String(row.phase),
    error: String(row.error),
    worker_pid: num(row.worker_pid),
    run_id: num(row.run_id),
  };
}
