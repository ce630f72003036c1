/**
 * The OpenAPI 3.1 description of the service (`GET /openapi.json`), built from the same route
 * table the router dispatches on, so every route is described.
 *
 * @module
 */
import { DEVICES, DTYPES } from "../dtypes.ts";
import { PROMPT_FAMILIES } from "../engine/prompts.ts";
import { JOB_STATUSES, RUN_SOURCES } from "../history/schema.ts";
import { BENCH_DEFAULTS } from "./validate.ts";

/** One route as the OpenAPI document describes it. */
export interface RouteDoc {
  /** HTTP method. */
  method: "GET" | "POST" | "DELETE";
  /** Path with `{id}` parameters. */
  path: string;
  /** One line. */
  summary: string;
  /** Query parameters (name → description). */
  query?: Record<string, string>;
  /** Request body schema reference (`#/components/schemas/…`). */
  body?: string;
  /** Success status and what it returns. */
  success: [number, string];
}

const ERROR = { $ref: "#/components/schemas/Error" };

/** Schema of the `POST /benchmarks` body: bench's keys, with bench's defaults. */
export const BENCHMARK_REQUEST_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["model"],
  properties: {
    model: { type: "string", description: "A model id of GET /models (preset:tiny, …)" },
    dtype: { type: "string", enum: [...DTYPES], default: BENCH_DEFAULTS.dtype },
    device: { type: "string", enum: [...DEVICES], default: BENCH_DEFAULTS.device },
    use_cache: { type: "boolean", default: BENCH_DEFAULTS.use_cache },
    prompt_tokens: {
      type: "integer",
      minimum: 1,
      default: BENCH_DEFAULTS.prompt_tokens,
      description: "Synthetic prompt length (exclusive with prompt)",
    },
    prompt: { type: "string", description: "A prompt text instead of a synthetic prompt" },
    chat: { type: "boolean", default: false, description: "Apply the chat template to prompt" },
    family: { type: "string", enum: [...PROMPT_FAMILIES], default: BENCH_DEFAULTS.family },
    max_new_tokens: { type: "integer", minimum: 1, default: BENCH_DEFAULTS.max_new_tokens },
    warmup: { type: "integer", minimum: 0, maximum: 100, default: BENCH_DEFAULTS.warmup },
    runs: { type: "integer", minimum: 1, maximum: 1000, default: BENCH_DEFAULTS.runs },
    batch: { type: "integer", minimum: 1, maximum: 256, default: BENCH_DEFAULTS.batch },
    threads: { type: "integer", minimum: 0, default: BENCH_DEFAULTS.threads },
  },
} as const;

/**
 * Builds the OpenAPI document.
 *
 * @param routes The router's routes.
 * @param serverUrl The server's URL.
 * @returns The document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openApiDocument } from "./openapi.ts";
 * const doc = openApiDocument([
 *   { method: "GET", path: "/health", summary: "Liveness", success: [200, "ok"] },
 * ], "http://127.0.0.1:8000");
 * assert.equal(doc.openapi, "3.1.0");
 * assert("get" in (doc.paths["/health"] as object));
 * ```
 */
export function openApiDocument(
  routes: readonly RouteDoc[],
  serverUrl: string,
): { openapi: string; paths: Record<string, unknown>; [key: string]: unknown } {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [
      ...[...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      ...Object.entries(r.query ?? {}).map(([name, description]) => ({
        name,
        in: "query",
        required: false,
        description,
        schema: { type: "string" },
      })),
    ];
    (paths[r.path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.body
        ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: r.body } } },
          },
        }
        : {}),
      responses: {
        [String(r.success[0])]: { description: r.success[1] },
        "400": { description: "Bad input", content: { "application/json": { schema: ERROR } } },
        "404": {
          description: "Unknown id or route",
          content: { "application/json": { schema: ERROR } },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Turbo Inference benchmark service",
      version: "1.0.0",
      description:
        "Benchmark jobs (bench's result shape), history in SQLite, an OpenAI-compatible endpoint.",
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        BenchmarkRequest: BENCHMARK_REQUEST_SCHEMA,
        JobStatus: { type: "string", enum: [...JOB_STATUSES] },
        RunSource: { type: "string", enum: [...RUN_SOURCES] },
        Error: {
          type: "object",
          properties: {
            error: {
              type: "object",
              properties: {
                message: { type: "string" },
                type: { type: "string" },
                param: { type: ["string", "null"], description: "The field at fault" },
                code: { type: ["string", "null"] },
              },
            },
          },
        },
        CompletionRequest: {
          type: "object",
          description: "OpenAI's completions request (greedy; n = 1)",
          required: ["model", "prompt"],
        },
        ChatCompletionRequest: {
          type: "object",
          description: "OpenAI's chat completions request (greedy; n = 1)",
          required: ["model", "messages"],
        },
      },
    },
  };
}
