/**
 * Turning results into history runs, and the two hooks that write them: one call in
 * `deno task bench --output` ({@linkcode recordBenchOutput}) and one per finished sweep cell
 * ({@linkcode recordSweepCell}). The database is `$TURBO_HISTORY_DB`, else
 * `<repo>/benchmarks/history.sqlite`; `TURBO_HISTORY_DB=off` turns the hooks off (the test task
 * does, so tests never write a user's history; the service's workers do, since the service
 * records their results itself). A hook never fails the benchmark: it warns on stderr.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDotenv } from "../_dotenv.ts";
import type { BenchRow } from "../results/schema.ts";
import { HistoryDb } from "./db.ts";
import type { NewRun, RunSource } from "./schema.ts";

/** The environment variable naming the history database (`off` disables the hooks). */
export const HISTORY_ENV = "TURBO_HISTORY_DB";

/** The repository root, found from this file's location. */
export const REPO_ROOT: string = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Default database: `<repo>/benchmarks/history.sqlite` (git-ignored). */
export const DEFAULT_HISTORY_PATH: string = join(REPO_ROOT, "benchmarks", "history.sqlite");

/**
 * The history database path the hooks write, or `null` when turned off: `$TURBO_HISTORY_DB`,
 * else `TURBO_HISTORY_DB` in `<repo>/.env`, else {@linkcode DEFAULT_HISTORY_PATH}.
 *
 * @param env Environment lookup. @default Deno.env.get, then `<repo>/.env`
 * @returns A path or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { historyPath } from "./record.ts";
 * assert.equal(historyPath(() => "off"), null);
 * assert.equal(historyPath(() => "/tmp/h.sqlite"), "/tmp/h.sqlite");
 * ```
 */
export function historyPath(
  env: (name: string) => string | undefined = (n) =>
    Deno.env.get(n) ?? readDotenv(join(REPO_ROOT, ".env"))[n],
): string | null {
  const value = env(HISTORY_ENV);
  if (value === "off" || value === "") return null;
  return value ?? DEFAULT_HISTORY_PATH;
}

/** The parts of `bench --output` JSON a run reads. */
interface BenchReportShape {
  timestamp: string;
  model: string;
  device: string;
  execution_provider: string;
  quantization: string;
  use_cache: boolean;
  batch: number;
  prompt_tokens: number;
  max_new_tokens: number;
  results: {
    individual_runs: {
      prefill_ms: number;
      decode_tokens_per_s: number | null;
      total_time_s: number;
    }[];
    memory?: { peak_rss_bytes?: number | null };
  };
  system_info?: { gitCommit?: string; cpuModel?: string; gpu?: { name: string } | null };
}

/**
 * A history run from a `deno task bench --output` report.
 *
 * @param report The parsed report.
 * @param options `source`, the unique `key`, and the `jobId` that made it.
 * @returns The run.
 * @throws {TypeError} when the report lacks its runs.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFromBenchReport } from "./record.ts";
 * const run = runFromBenchReport({
 *   timestamp: "2026-01-01T00:00:00Z", model: "preset:tiny", device: "cpu",
 *   execution_provider: "CPUExecutionProvider", quantization: "q4", use_cache: true, batch: 1,
 *   prompt_tokens: 16, max_new_tokens: 4,
 *   results: { individual_runs: [{ prefill_ms: 2, decode_tokens_per_s: 100, total_time_s: 0.05 }] },
 * }, { source: "bench", key: "bench:x", jobId: null });
 * assert.deepEqual(run.samples.total_ms, [50]);
 * assert.equal(run.dtype, "q4");
 * ```
 */
export function runFromBenchReport(
  report: unknown,
  options: { source: RunSource; key: string; jobId: string | null },
): NewRun {
  const r = report as BenchReportShape;
  const runs = r?.results?.individual_runs;
  if (!Array.isArray(runs)) {
    throw new TypeError("Cannot record the run: the report has no 'results.individual_runs'");
  }
  const device = String(r.device);
  return {
    key: options.key,
    source: options.source,
    job_id: options.jobId,
    created_at: String(r.timestamp),
    model: String(r.model),
    dtype: String(r.quantization),
    device,
    execution_provider: String(r.execution_provider ?? ""),
    use_cache: Boolean(r.use_cache),
    batch: Number(r.batch),
    prompt_tokens: Number(r.prompt_tokens),
    max_new_tokens: Number(r.max_new_tokens),
    git_commit: r.system_info?.gitCommit ?? "unknown",
    hardware: device === "cpu"
      ? r.system_info?.cpuModel ?? ""
      : r.system_info?.gpu?.name ?? r.system_info?.cpuModel ?? "",
    status: "ok",
    error: "",
    samples: {
      decode_tokens_per_s: runs.flatMap((x) =>
        x.decode_tokens_per_s === null ? [] : [x.decode_tokens_per_s]
      ),
      prefill_ms: runs.map((x) => x.prefill_ms),
      total_ms: runs.map((x) => x.total_time_s * 1000),
    },
    peak_rss_bytes: r.results.memory?.peak_rss_bytes ?? null,
    result: report,
  };
}

/**
 * A history run from one sweep cell's rows (one row per measured run, or one error row).
 *
 * @param rows The cell's rows (at least one).
 * @returns The run, keyed by cell id and its first row's start time.
 * @throws {RangeError} when `rows` is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runFromSweepCell } from "./record.ts";
 * assert.throws(() => runFromSweepCell([]), /without rows/);
 * ```
 */
export function runFromSweepCell(rows: readonly BenchRow[]): NewRun {
  const first = rows[0];
  if (first === undefined) throw new RangeError("Cannot record a sweep cell without rows");
  const ok = rows.filter((r) => r.status === "ok");
  const started = rows.map((r) => r.timestamp).sort()[0]!;
  const values = (pick: (r: BenchRow) => number | null) =>
    ok.flatMap((r) => pick(r) === null ? [] : [pick(r)!]);
  const rss = values((r) => r.peak_rss_bytes);
  return {
    key: `sweep:${first.cell_id}:${started}`,
    source: "sweep",
    job_id: null,
    created_at: started,
    model: first.model,
    dtype: first.dtype,
    device: first.device,
    execution_provider: first.execution_provider,
    use_cache: first.use_cache,
    batch: first.batch,
    prompt_tokens: first.context_tokens,
    max_new_tokens: Math.max(...rows.map((r) => r.new_tokens)),
    git_commit: first.git_commit,
    hardware: first.device_name,
    status: ok.length === rows.length ? "ok" : "error",
    error: rows.find((r) => r.status !== "ok")?.error ?? "",
    samples: {
      decode_tokens_per_s: values((r) => r.decode_tokens_per_s),
      prefill_ms: values((r) => r.prefill_ms),
      total_ms: values((r) => r.total_ms),
    },
    peak_rss_bytes: rss.length ? Math.max(...rss) : null,
    result: null,
  };
}

/**
 * Hook of `deno task bench --output`: writes the report to the history database. Never throws;
 * a failure is a warning on stderr.
 *
 * @param report The report just written.
 * @param outputPath The `--output` file (part of the run's key).
 * @returns The run id, or `null` when off, already there, or failed.
 * @example
 * ```ts ignore
 * import { recordBenchOutput } from "./record.ts";
 * const report = JSON.parse(Deno.readTextFileSync("out.json"));
 * recordBenchOutput(report, "out.json"); // a run with source "bench"
 * ```
 */
export function recordBenchOutput(report: unknown, outputPath: string): number | null {
  return safely((db) => {
    const r = report as BenchReportShape;
    const key = `bench:${r.timestamp}:${outputPath}`;
    return db.insertRun(runFromBenchReport(report, { source: "bench", key, jobId: null }));
  });
}

/**
 * Hook of the sweep: writes one finished cell to the history database. Never throws; a failure
 * is a warning on stderr.
 *
 * @param rows The cell's rows.
 * @returns The run id, or `null` when off, already there, or failed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordSweepCell } from "./record.ts";
 * assert.equal(recordSweepCell([]), null); // a cell without rows writes nothing
 * ```
 */
export function recordSweepCell(rows: readonly BenchRow[]): number | null {
  return safely((db) => rows.length ? db.insertRun(runFromSweepCell(rows)) : null);
}

function safely(write: (db: HistoryDb) => number | null): number | null {
  let path: string | null = DEFAULT_HISTORY_PATH;
  try {
    path = historyPath();
    if (path === null) return null;
    const db = HistoryDb.open(path, { createDir: path === DEFAULT_HISTORY_PATH });
    try {
      return write(db);
    } finally {
      db.close();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`warning: history not written to ${path}: ${message.split("\n")[0]}`);
    return null;
  }
}
