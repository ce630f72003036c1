/**
 * The REST routes of benchmark jobs (`/benchmarks…`, with Server-Sent Events of progress) and
 * of the history (`/history`, `/history/compare`).
 *
 * @module
 */
import {
  compareRuns,
  type HistoryDb,
  JOB_STATUSES,
  type JobStatus,
  RUN_SOURCES,
  type RunSource,
  TESTS,
} from "../history/mod.ts";
import { MIN_EFFECT } from "../analysis/compare.ts";
import { HttpError, json, readJsonObject } from "./http.ts";
import { jobEvents } from "./events.ts";
import { jobView } from "./job_view.ts";
import type { JobQueue } from "./jobs.ts";
import type { ModelInfo } from "./models.ts";
import type { RouteDoc } from "./openapi.ts";
import { describe, FILTERS, PAGING, query, type QuerySpec } from "./query.ts";
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
      success: [200, "The job, cancelled (202 with status 'cancelling' while its worker stops)"],
      handle: async (_request, params) => {
        const result = queue.cancel(params.id!);
        if (result === "not-found") find(params.id!);
        if (result === "finished") {
          throw new HttpError(
            409,
            `job '${params.id}' has already ended (${db.getJob(params.id!)!.status})`,
            "id",
          );
        }
        // Answer what was done: wait for the killed worker, so the job reads `cancelled`.
        const job = await queue.settled(params.id!);
        const view = jobView(db, queue, job, false);
        return job.status === "running"
          ? json({ ...view, status: "cancelling" }, { status: 202 })
          : json(view);
      },
    },
    {
      method: "GET",
      path: "/benchmarks/{id}/events",
      summary: "Progress as Server-Sent Events (state, run, end)",
      success: [200, "text/event-stream"],
      handle: (_request, params) => jobEvents(ctx, find(params.id!)),
    },
  ];
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
    min_effect: {
      kind: "string",
      description: `Smallest relative change that counts (${MIN_EFFECT}, as the report's verdicts)`,
    },
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
          minEffect: fraction("min_effect", MIN_EFFECT),
          alpha: fraction("alpha", 0.05),
        }));
      },
    },
  ];
}
