/**
 * A job as the API shows it.
 *
 * @module
 */
import type { HistoryDb, JobRecord } from "../history/mod.ts";
import type { JobQueue } from "./jobs.ts";

/**
 * A job as the API shows it: the record, its queue position, and when done its result (the
 * `deno task bench --output` JSON) and summary.
 *
 * @param db The history database.
 * @param queue The queue.
 * @param job The job.
 * @param withResult Include the full result.
 * @returns The JSON view.
 * @example
 * ```ts ignore
 * const view = jobView(db, queue, db.getJob(id)!, true); // view.result: bench's --output JSON
 * ```
 */
export function jobView(
  db: HistoryDb,
  queue: JobQueue,
  job: JobRecord,
  withResult: boolean,
): Record<string, unknown> {
  const run = job.run_id === null ? undefined : db.getRun(job.run_id);
  const position = queue.queued.indexOf(job.id);
  return {
    ...job,
    queue_position: position < 0 ? null : position,
    links: { self: `/benchmarks/${job.id}`, events: `/benchmarks/${job.id}/events` },
    summary: run
      ? {
        decode_tokens_per_s: run.decode_tokens_per_s,
        prefill_ms: run.prefill_ms,
        total_ms: run.total_ms,
        runs: run.samples.prefill_ms.length,
        execution_provider: run.execution_provider,
        git_commit: run.git_commit,
      }
      : null,
    ...(withResult ? { result: run?.result ?? null } : {}),
  };
}
