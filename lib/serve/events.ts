/**
 * `GET /benchmarks/{id}/events`: a job's progress as Server-Sent Events — `state` first, then
 * `state` on every change, `run` for each measured run, and `end` (with the result) when the job
 * ends; a finished job gets `state` and `end` at once. A comment line every 15 s keeps proxies
 * from closing an idle stream.
 *
 * @module
 */
import type { JobRecord } from "../history/mod.ts";
import { FINISHED, type JobEvent } from "./jobs.ts";
import { jobView } from "./job_view.ts";
import type { ApiContext } from "./routes.ts";

/**
 * The event stream of a job.
 *
 * @param ctx Database, queue and the set of open streams.
 * @param job The job (known to exist).
 * @returns A `text/event-stream` response.
 * @example
 * ```ts ignore
 * const response = jobEvents(ctx, db.getJob(id)!);
 * ```
 */
export function jobEvents(ctx: ApiContext, job: JobRecord): Response {
  const { db, queue } = ctx;
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const send = (type: string, data: unknown) => {
        if (open) {
          controller.enqueue(encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`));
        }
      };
      const close = () => {
        if (!open) return;
        open = false;
        cleanup();
        controller.close();
      };
      const current = db.getJob(job.id)!;
      send("state", jobView(db, queue, current, false));
      if (FINISHED.has(current.status)) {
        send("end", jobView(db, queue, current, true));
        close();
        return;
      }
      const unsubscribe = queue.subscribe(job.id, (e: JobEvent) => {
        if (e.type === "end") {
          send("end", jobView(db, queue, e.job, true));
          close();
        } else {send(e.type, {
            ...jobView(db, queue, e.job, false),
            ...(e.run ? { run: e.run } : {}),
          });}
      });
      const keepAlive = setInterval(
        () => open && controller.enqueue(encoder.encode(": ping\n\n")),
        15_000,
      );
      cleanup = () => {
        unsubscribe();
        clearInterval(keepAlive);
        ctx.streams?.delete(close);
      };
      ctx.streams?.add(close);
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}
