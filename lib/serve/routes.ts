/**
 * The REST routes of benchmark jobs (`/benchmarks…`, with Server-Sent Events of progress) and
 * of the history (`/history`, `/history/compare`).
 *
 * @module
 */
import { DEVICES, DTYPES } from "../dtypes.ts";
import {
  compareRuns,
  type HistoryDb,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  RUN_SOURCES,
  type RunSource,
  TESTS,
} from "../history/mod.ts";
import { HttpError, json, readJsonObject } from "./http.ts";
import { FINISHED, type JobEvent, type JobQueue } from "./jobs.ts";
import type { ModelInfo } from "./models.ts";
import type { RouteDoc } from "./openapi.ts";
import { validateBenchmarkRequest } from "./validate.ts";

/** A route: its documentation and its handler. */
export interface Route extends RouteDoc {
  /** Answers the request; `params` holds the path's `{…}` values. */
  handle(request: Request, params: Record<string, string>, url: URL): Promise<Response> | Response;
}

/** What the routes share. */
export interface ApiContext {
  /** History database. */
  db: HistoryDb;
  /** Job queue. */
  queue: JobQueue;
  /** Model catalogue. */
  models: () => ModelInfo[];
  /** Closers of open event streams (called on shutdown). */
  streams?: Set<() => void>;
}

type Kind = "string" | "enum" | "int" | "time";
interface QuerySpec {
  kind: Kind;
  values?: readonly string[];
  description: string;
}

const PAGING: Record<string, QuerySpec> = {
  limit: { kind: "int", description: "Page size, 1..500 (default 50)" },
  offset: { kind: "int", description: "Rows skipped (default 0)" },
};
const FILTERS: Record<string, QuerySpec> = {
  model: { kind: "string", description: "Exact model id" },
  dtype: { kind: "enum", values: DTYPES, description: "Dtype" },
  device: { kind: "enum", values: DEVICES, description: "Device" },
  since: { kind: "time", description: "RFC 3339 time: rows created at or after it" },
};

/**
 * Parses and checks query parameters against a spec: unknown or bad ones are a 400 naming them.
 *
 * @param url The request URL.
 * @param spec Accepted parameters.
 * @returns The values (ints as numbers, times as ISO strings).
 * @throws {HttpError} 400 naming the parameter.
 */
function query(url: URL, spec: Record<string, QuerySpec>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of url.searchParams) {
    const s = spec[key];
    if (!s) {
      throw new HttpError(
        400,
        `'${key}' is not a query parameter here (known: ${Object.keys(spec).join(", ")})`,
        key,
      );
    }
    if (s.kind === "int") {
      const n = Number(value);
      const max = key === "limit" ? 500 : Number.MAX_SAFE_INTEGER;
      const min = key === "limit" ? 1 : 0;
      if (!/^\d+$/.test(value) || n < min || n > max) {
        throw new HttpError(
          400,
          `'${key}' must be an integer in ${min}..${max}, got '${value}'`,
          key,
        );
      }
      out[key] = n;
    } else if (s.kind === "enum") {
      if (!s.values!.includes(value)) {
        throw new HttpError(
          400,
          `'${key}' is unknown: '${value}' (known: ${s.values!.join(", ")})`,
          key,
        );
      }
      out[key] = value;
    } else if (s.kind === "time") {
      const t = Date.parse(value);
      if (Number.isNaN(t)) {
        throw new HttpError(400, `'${key}' must be an RFC 3339 time, got '${value}'`, key);
      }
      out[key] = new Date(t).toISOString();
    } else out[key] = value;
  }
  return out;
}

function describe(spec: Record<string, QuerySpec>): Record<string, string> {
  return Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, s.description]));
}

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

/**
 * The job routes.
 *
 * @param ctx Database, queue, catalogue.
 * @returns The routes.
 * @example
 * ```ts ignore
 * const routes = [...benchmarkRoutes(ctx), ...historyRoutes(ctx)];
 * ```
 */
export function benchmarkRoutes(ctx: ApiContext): Route[] {
  const { db, queue } = ctx;
  const find = (id: string) => {
    const job = db.getJob(id);
    if (!job) throw new HttpError(404, `no benchmark job '${id}'`, "id", "job_not_found");
    return job;
  };
  const listSpec = {
    ...FILTERS,
    status: { kind: "enum" as const, values: JOB_STATUSES, description: "Job state" },
    ...PAGING,
  };
  return [
    {
      method: "POST",
      path: "/benchmarks",
      summary: "Queue a benchmark (bench's keys; omitted keys take bench's defaults)",
      body: "#/components/schemas/BenchmarkRequest",
      success: [202, "The queued job, with its id"],
      handle: async (request) => {
        const body = await readJsonObject(request);
        const job = queue.submit(validateBenchmarkRequest(body, ctx.models()));
        return json(jobView(db, queue, db.getJob(job.id)!, false), {
          status: 202,
          headers: { location: `/benchmarks/${job.id}` },
        });
      },
    },
    {
      method: "GET",
      path: "/benchmarks",
      summary: "List jobs, newest first, with filters and paging",
      query: describe(listSpec),
      success: [200, "{items, total, limit, offset}"],
      handle: (_request, _params, url) => {
        const q = query(url, listSpec);
        const page = db.listJobs(
          {
            ...q,
            ...(q.status ? { status: q.status as JobStatus } : {}),
          } as Parameters<HistoryDb["listJobs"]>[0],
        );
        return json({ ...page, items: page.items.map((j) => jobView(db, queue, j, false)) });
      },
    },
    {
      method: "GET",
      path: "/benchmarks/{id}",
      summary: "A job: status, progress, and when done bench's --output result",
      success: [200, "The job"],
      handle: (_request, params) => json(jobView(db, queue, find(params.id!), true)),
    },
    {
      method: "DELETE",
      path: "/benchmarks/{id}",
      summary: "Cancel a queued or running job",
      success: [200, "The job (cancelled, or being cancelled)"],
      handle: (_request, params) => {
        const result = queue.cancel(params.id!);
        if (result === "not-found") find(params.id!);
        if (result === "finished") {
          throw new HttpError(
            409,
            `job '${params.id}' has already ended (${db.getJob(params.id!)!.status})`,
            "id",
          );
        }
        return json(jobView(db, queue, db.getJob(params.id!)!, false));
      },
    },
    {
      method: "GET",
      path: "/benchmarks/{id}/events",
      summary: "Progress as Server-Sent Events (state, run, end)",
      success: [200, "text/event-stream"],
      handle: (_request, params) => events(ctx, find(params.id!)),
    },
  ];
}

function events(ctx: ApiContext, job: JobRecord): Response {
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

/**
 * The history routes: runs of every source and two-run comparisons.
 *
 * @param ctx Database, queue, catalogue.
 * @returns The routes.
 * @example
 * ```ts ignore
 * const routes = [...benchmarkRoutes(ctx), ...historyRoutes(ctx)];
 * ```
 */
export function historyRoutes(ctx: ApiContext): Route[] {
  const { db } = ctx;
  const listSpec = {
    ...FILTERS,
    source: { kind: "enum" as const, values: RUN_SOURCES, description: "job, bench or sweep" },
    commit: { kind: "string" as const, description: "Git commit prefix" },
    ...PAGING,
  };
  const compareSpec: Record<string, QuerySpec> = {
    a: { kind: "string", description: "Baseline: a job id or a git commit prefix" },
    b: { kind: "string", description: "New: a job id or a git commit prefix" },
    test: { kind: "enum", values: TESTS, description: "mwu (default) or welch" },
    min_effect: { kind: "string", description: "Smallest relative change that counts (0.1)" },
    alpha: { kind: "string", description: "Significance level (0.05)" },
  };
  return [
    {
      method: "GET",
      path: "/history",
      summary: "Runs of every source (jobs, bench --output, sweep cells), newest first",
      query: describe(listSpec),
      success: [200, "{items, total, limit, offset}"],
      handle: (_request, _params, url) => {
        const q = query(url, listSpec);
        const page = db.listRuns(
          {
            ...q,
            ...(q.source ? { source: q.source as RunSource } : {}),
          } as Parameters<HistoryDb["listRuns"]>[0],
        );
        return json(page);
      },
    },
    {
      method: "GET",
      path: "/history/compare",
      summary: "Compare B against A per metric (significance and a minimum effect)",
      query: describe(compareSpec),
      success: [200, "{metrics, unmatched, regression}"],
      handle: (_request, _params, url) => {
        const q = query(url, compareSpec);
        const side = (key: "a" | "b") => {
          const ref = q[key];
          if (typeof ref !== "string" || ref === "") {
            throw new HttpError(400, `'${key}' is required (a job id or a commit)`, key);
          }
          const runs = db.runsFor(ref);
          if (runs.length === 0) {
            throw new HttpError(404, `'${key}' ('${ref}') matches no finished job or commit`, key);
          }
          return runs;
        };
        const fraction = (key: string, fallback: number) => {
          if (q[key] === undefined) return fallback;
          const n = Number(q[key]);
          if (!(n >= 0 && n < 1)) throw new HttpError(400, `'${key}' must be in [0, 1)`, key);
          return n;
        };
        return json(compareRuns(side("a"), side("b"), {
          test: (q.test ?? "mwu") as typeof TESTS[number],
          minEffect: fraction("min_effect", 0.1),
          alpha: fraction("alpha", 0.05),
        }));
      },
    },
  ];
}
