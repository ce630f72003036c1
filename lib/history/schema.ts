/**
 * The history's records: runs (one benchmark each, with its raw samples) and service jobs, their
 * states and the filters of the list queries.
 *
 * @module
 */

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
