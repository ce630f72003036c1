/**
 * The history's SQL: table definitions and the mapping between rows and records. Private to
 * lib/history.
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import type {
  JobRecord,
  JobStatus,
  ListFilter,
  RunRecord,
  RunSamples,
  RunSource,
} from "./schema.ts";

export const SCHEMA = `
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

export type Row = Record<string, SQLInputValue>;

export const JOB_COLUMN = {
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

export const RUN_LIST_COLUMNS = [
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

export function whereClause(
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

export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export function toRun(row: Row): RunRecord {
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

export function toJob(row: Row): JobRecord {
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
