/**
 * The benchmark service: one `Deno.serve` with the REST API (jobs, history, models, system),
 * the OpenAI-compatible routes, the dashboard, and `GET /openapi.json` built from the same route
 * table the router dispatches on.
 *
 * @module
 */
import { HistoryDb } from "../history/db.ts";
import { DEFAULT_HISTORY_PATH } from "../history/record.ts";
import { systemInfo } from "../runtime/system_info.ts";
import type { ServeConfig } from "./config.ts";
import { serveAsset } from "./assets.ts";
import { HttpError, json } from "./http.ts";
import { JobQueue } from "./jobs.ts";
import { ModelPool } from "./model_pool.ts";
import { listModels } from "./models.ts";
import { handleGeneration } from "./openai.ts";
import { getOpenAiModel, listOpenAiModels } from "./openai_models.ts";
import { openApiDocument } from "./openapi.ts";
import { type ApiContext, benchmarkRoutes, historyRoutes, type Route } from "./routes.ts";

/** A running service. */
export interface RunningServer {
  /** `http://host:port`. */
  url: string;
  /** The bound port. */
  port: number;
  /** Stops serving, kills running workers (their jobs become `interrupted`), closes the DB. */
  close(): Promise<void>;
}

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/**
 * Starts the service.
 *
 * @param config The settings (`loadConfig`).
 * @returns The running server.
 * @example
 * ```ts ignore
 * const server = await startServer({ ...config, port: 0 });
 * console.log(await (await fetch(`${server.url}/health`)).json());
 * await server.close();
 * ```
 */
export async function startServer(config: ServeConfig): Promise<RunningServer> {
  const log = (level: keyof typeof LEVELS, line: string) => {
    if (LEVELS[level] >= LEVELS[config.logLevel]) console.error(`[${level}] ${line}`);
  };
  // The model cache is read by ensureModel in this process and in every worker.
  Deno.env.set("TURBO_MODEL_CACHE", config.modelCache);
  const db = HistoryDb.open(config.db, { createDir: config.db === DEFAULT_HISTORY_PATH });
  const queue = new JobQueue(db, {
    log,
    workerEnv: { TURBO_MODEL_CACHE: config.modelCache },
  });
  const recovered = queue.recover();
  if (recovered.interrupted.length) {
    log("warn", `${recovered.interrupted.length} job(s) marked interrupted after a restart`);
  }
  const pool = new ModelPool();
  const models = () => listModels({ modelCache: config.modelCache });
  const started = Date.now();
  let system: { at: number; info: unknown } | null = null;
  const streams = new Set<() => void>();
  const context: ApiContext = { db, queue, models, streams };
  const openai = {
    models,
    pool,
    ...(config.chatTemplates ? { chatTemplates: config.chatTemplates } : {}),
  };

  const routes: Route[] = [
    ...benchmarkRoutes(context),
    ...historyRoutes(context),
    {
      method: "GET",
      path: "/models",
      summary: "Local presets, cached and vendored models, with their dtypes",
      success: [200, "{models: [...]}"],
      handle: () => json({ models: models() }),
    },
    {
      method: "GET",
      path: "/v1/models",
      summary: "OpenAI-compatible model list (each model, and each model:dtype)",
      success: [200, "OpenAI list"],
      handle: () => listOpenAiModels(models()),
    },
    {
      method: "GET",
      path: "/v1/models/{model}",
      summary: "One model (or model:dtype) in OpenAI's format; a '/' in the id may be sent as is",
      success: [200, "OpenAI model"],
      handle: (_request, params) => getOpenAiModel(params.model!, models()),
    },
    {
      method: "POST",
      path: "/v1/completions",
      summary:
        "OpenAI-compatible completions (sampling, n, logprobs, echo; stream: true for SSE chunks)",
      body: "#/components/schemas/CompletionRequest",
      success: [200, "text_completion, or an SSE stream ending in data: [DONE]"],
      handle: (request) => handleGeneration("completion", request, openai),
    },
    {
      method: "POST",
      path: "/v1/chat/completions",
      summary:
        "OpenAI-compatible chat completions (the model's chat template, sampling, n, logprobs, streaming)",
      body: "#/components/schemas/ChatCompletionRequest",
      success: [200, "chat.completion, or an SSE stream ending in data: [DONE]"],
      handle: (request) => handleGeneration("chat", request, openai),
    },
    {
      method: "GET",
      path: "/system",
      summary: "System information (sysinfo): versions, CPU, GPU, git commit",
      success: [200, "SystemInfo"],
      handle: async () => {
        if (system === null || Date.now() - system.at > 60_000) {
          system = { at: Date.now(), info: await systemInfo() };
        }
        return json(system.info);
      },
    },
    {
      method: "GET",
      path: "/health",
      summary: "Liveness: status, uptime, queued and running jobs",
      success: [200, "{status: ok}"],
      handle: () =>
        json({
          status: "ok",
          uptime_s: (Date.now() - started) / 1000,
          queued: queue.queued.length,
          running: db.jobsWithStatus("running").length,
        }),
    },
    {
      method: "GET",
      path: "/openapi.json",
      summary: "This description",
      success: [200, "OpenAPI 3.1 document"],
      handle: (_request, _params, url) => json(openApiDocument(routes, url.origin)),
    },
    {
      method: "GET",
      path: "/",
      summary: "The dashboard (HTML)",
      success: [200, "text/html"],
      handle: () => serveAsset("index.html"),
    },
    {
      method: "GET",
      path: "/assets/{file}",
      summary: "Dashboard files and the vega, vega-lite and vega-embed bundles (from npm)",
      success: [200, "a file"],
      handle: (_request, params) => serveAsset(params.file!),
    },
    {
      method: "GET",
      path: "/reference",
      summary: "The committed reference run: metrics/final_report.json and its figure names",
      success: [200, "{final_report, figures}"],
      handle: () => serveAsset("reference"),
    },
    {
      method: "GET",
      path: "/reference/figures/{file}",
      summary: "A figure (SVG) of the committed reference run",
      success: [200, "image/svg+xml"],
      handle: (_request, params) => serveAsset(`figures/${params.file}`),
    },
  ];
  const matchers = routes.map((route) => ({
    route,
    // a model id may hold '/' (models/wikitext-llama): {model} takes the rest of the path
    pattern: new RegExp(
      `^${
        route.path.replace(/\{(\w+)\}/g, (_, name) =>
          `(?<${name}>${name === "model" ? ".+" : "[^/]+"})`)
      }$`,
    ),
  }));
  const publicPaths = /^\/($|assets\/|reference)/;

  const handler = async (request: Request): Promise<Response> => {
    const t0 = performance.now();
    const url = new URL(request.url);
    let response: Response;
    try {
      if (config.token !== null && !publicPaths.test(url.pathname)) {
        const auth = request.headers.get("authorization") ?? "";
        if (auth !== `Bearer ${config.token}`) {
          throw new HttpError(
            401,
            "missing or wrong bearer token (Authorization header)",
            "authorization",
          );
        }
      }
      const matches = matchers.flatMap(({ route, pattern }) => {
        const m = pattern.exec(url.pathname);
        return m ? [{ route, params: { ...m.groups } as Record<string, string> }] : [];
      });
      if (matches.length === 0) throw new HttpError(404, `no route ${url.pathname}`, "path");
      const hit = matches.find((m) => m.route.method === request.method) ??
        (request.method === "HEAD" ? matches.find((m) => m.route.method === "GET") : undefined);
      if (!hit) {
        response = new HttpError(
          405,
          `${request.method} is not allowed on ${url.pathname}`,
          "method",
        )
          .response();
        response.headers.set("allow", [...new Set(matches.map((m) => m.route.method))].join(", "));
      } else {
        const decoded = Object.fromEntries(
          Object.entries(hit.params).map(([k, v]) => [k, decodeURIComponent(v)]),
        );
        response = await hit.route.handle(request, decoded, url);
      }
    } catch (error) {
      if (error instanceof HttpError) response = error.response();
      else {
        const message = error instanceof Error ? error.message : String(error);
        log("error", `${request.method} ${url.pathname}: ${message}`);
        response = new HttpError(500, message.split("\n")[0]!).response();
      }
    }
    log(
      "info",
      `${request.method} ${url.pathname} ${response.status} ${
        (performance.now() - t0).toFixed(0)
      }ms`,
    );
    return response;
  };

  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: (addr) => resolve(addr as Deno.NetAddr),
    }, handler);
  } catch (error) {
    await queue.close();
    db.close();
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `port ${config.port} on ${config.host} is already in use (another server?): ` +
          `pick another with --port or TURBO_PORT`,
      );
    }
    throw error;
  }
  const addr = await listening;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    async close() {
      await queue.close();
      for (const close of [...streams]) close();
      await server.shutdown();
      await pool.close();
      db.close();
    },
  };
}
