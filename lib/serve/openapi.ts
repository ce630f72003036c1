/**
 * The OpenAPI 3.1 description of the service (`GET /openapi.json`), built from the same route
 * table the router dispatches on, so every route is described.
 *
 * @module
 */
import { DEVICES, DTYPES } from "../dtypes.ts";
import { PROMPT_FAMILIES } from "../engine/prompts.ts";
import { JOB_STATUSES, RUN_SOURCES } from "../history/schema.ts";
import { MAX_BODY_BYTES } from "./http.ts";
import { MAX_N, MAX_PROMPTS } from "./openai_request.ts";
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

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ERROR } } };
}

const NULLABLE_NUMBER = (min: number, max: number, def: number, description: string) => ({
  type: ["number", "null"],
  minimum: min,
  maximum: max,
  default: def,
  description,
});

/** Fields both OpenAI generation requests take, as this server honours them. */
const GENERATION_PROPERTIES = {
  model: { type: "string", description: "A model of GET /v1/models: REF or REF:DTYPE" },
  stream: { type: ["boolean", "null"], default: false, description: "Server-Sent Events" },
  stream_options: {
    type: ["object", "null"],
    properties: { include_usage: { type: "boolean" } },
    additionalProperties: false,
  },
  temperature: NULLABLE_NUMBER(0, 2, 1, "0 = greedy"),
  top_p: NULLABLE_NUMBER(0, 1, 1, "Nucleus mass kept (> 0)"),
  top_k: {
    type: ["integer", "null"],
    minimum: -1,
    default: -1,
    description: "Most likely tokens kept; -1 or 0 = all (vLLM's extension)",
  },
  seed: { type: ["integer", "null"], description: "The same seed gives the same text" },
  n: { type: ["integer", "null"], minimum: 1, maximum: MAX_N, default: 1 },
  stop: {
    oneOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 4 }, {
      type: "null",
    }],
  },
  ignore_eos: {
    type: ["boolean", "null"],
    default: false,
    description: "Make exactly max_tokens tokens (vLLM's extension)",
  },
  presence_penalty: { type: ["number", "null"], enum: [0, null], description: "Only 0" },
  frequency_penalty: { type: ["number", "null"], enum: [0, null], description: "Only 0" },
  logit_bias: { type: ["object", "null"], maxProperties: 0, description: "Only empty" },
  user: { type: "string" },
} as const;

/** Schema of the `POST /v1/completions` body. */
export const COMPLETION_REQUEST_SCHEMA = {
  type: "object",
  description: "OpenAI's completions request; other fields are a 400",
  required: ["model", "prompt"],
  additionalProperties: false,
  properties: {
    ...GENERATION_PROPERTIES,
    prompt: {
      description: `A string, token ids, or a list of up to ${MAX_PROMPTS} of either`,
      oneOf: [
        { type: "string", minLength: 1 },
        { type: "array", items: { type: "integer", minimum: 0 }, minItems: 1 },
        {
          type: "array",
          maxItems: MAX_PROMPTS,
          items: {
            oneOf: [{ type: "string", minLength: 1 }, {
              type: "array",
              items: { type: "integer", minimum: 0 },
              minItems: 1,
            }],
          },
        },
      ],
    },
    max_tokens: {
      type: ["integer", "null"],
      minimum: 0,
      default: 16,
      description: "0 only with echo",
    },
    logprobs: {
      type: ["integer", "null"],
      minimum: 0,
      maximum: 5,
      description: "Log-probabilities of the tokens and of this many most likely ones",
    },
    echo: {
      type: ["boolean", "null"],
      default: false,
      description: "Prepend the prompt; with logprobs, its tokens are scored (the first one null)",
    },
    best_of: { type: ["integer", "null"], description: "Only equal to n" },
    suffix: { type: "null" },
  },
} as const;

/** Schema of the `POST /v1/chat/completions` body. */
export const CHAT_COMPLETION_REQUEST_SCHEMA = {
  type: "object",
  description: "OpenAI's chat completions request; other fields are a 400",
  required: ["model", "messages"],
  additionalProperties: false,
  properties: {
    ...GENERATION_PROPERTIES,
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        description:
          "other keys (name, tool_calls, tool_call_id, …) are a 400 naming them unless null or empty",
        required: ["role", "content"],
        additionalProperties: false,
        properties: {
          role: { type: "string", enum: ["system", "developer", "user", "assistant"] },
          content: {
            oneOf: [{ type: "string" }, {
              type: "array",
              items: {
                type: "object",
                required: ["type", "text"],
                additionalProperties: false,
                properties: { type: { const: "text" }, text: { type: "string" } },
              },
            }],
          },
        },
      },
    },
    max_tokens: { type: ["integer", "null"], minimum: 1 },
    max_completion_tokens: { type: ["integer", "null"], minimum: 1 },
    logprobs: { type: ["boolean", "null"], default: false },
    top_logprobs: { type: ["integer", "null"], minimum: 0, maximum: 20 },
    response_format: {
      type: ["object", "null"],
      properties: { type: { const: "text" } },
    },
    tools: { type: ["array", "null"], maxItems: 0 },
    tool_choice: { enum: ["none", null] },
    parallel_tool_calls: { type: ["boolean", "null"] },
    store: { type: ["boolean", "null"], enum: [false, null], description: "Nothing is stored" },
    metadata: { type: ["object", "null"] },
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
        "400": errorResponse("Bad input (the field at fault in error.param)"),
        "404": errorResponse("Unknown id, model (code model_not_found) or route"),
        "405": errorResponse(
          "Method not allowed on this path (the Allow header lists those that are)",
        ),
        ...(r.body ? { "413": errorResponse(`Request body over ${MAX_BODY_BYTES} bytes`) } : {}),
        "500": errorResponse("Server error"),
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
        CompletionRequest: COMPLETION_REQUEST_SCHEMA,
        ChatCompletionRequest: CHAT_COMPLETION_REQUEST_SCHEMA,
      },
    },
  };
}
