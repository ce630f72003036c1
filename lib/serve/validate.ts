/**
 * Validation of `POST /benchmarks` bodies: the keys are `deno task bench`'s (and the sweep
 * spec's) names in snake case; omitted keys take bench's defaults; an unknown key, a wrong type,
 * an out-of-range number, an unknown model or a dtype the model lacks is a 400 naming the field.
 *
 * @module
 */
import { type Device, DEVICES, type Dtype, DTYPES } from "../dtypes.ts";
import { PROMPT_FAMILIES, type PromptFamily } from "../engine/prompts.ts";
import { HttpError } from "./http.ts";
import { findModel, type ModelInfo } from "./models.ts";

/** A validated benchmark request, every key filled in. */
export interface BenchmarkRequest {
  /** Model reference (an id of `GET /models`). */
  model: string;
  /** Weight dtype. @default "fp32" */
  dtype: Dtype;
  /** Device. @default "cpu" */
  device: Device;
  /** KV cache on. @default true */
  use_cache: boolean;
  /** Synthetic prompt length, tokens (ignored with `prompt`). @default 512 */
  prompt_tokens: number;
  /** A prompt text instead of a synthetic prompt. @default null */
  prompt: string | null;
  /** Apply the chat template to `prompt`. @default false */
  chat: boolean;
  /** Synthetic prompt family. @default "conversational" */
  family: PromptFamily;
  /** Tokens per run. @default 100 */
  max_new_tokens: number;
  /** Discarded runs. @default 3 */
  warmup: number;
  /** Measured runs. @default 10 */
  runs: number;
  /** Sequences per run. @default 1 */
  batch: number;
  /** ONNX Runtime intra-op threads (0 = its default). @default 0 */
  threads: number;
}

/** Bench's defaults (`deno task bench` without the flag). */
export const BENCH_DEFAULTS: Readonly<Omit<BenchmarkRequest, "model">> = Object.freeze({
  dtype: "fp32",
  device: "cpu",
  use_cache: true,
  prompt_tokens: 512,
  prompt: null,
  chat: false,
  family: "conversational",
  max_new_tokens: 100,
  warmup: 3,
  runs: 10,
  batch: 1,
  threads: 0,
});

type Check = (value: unknown, field: string) => unknown;

const int = (min: number, max: number): Check => (value, field) => {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new HttpError(400, `'${field}' must be an integer, got ${JSON.stringify(value)}`, field);
  }
  if (value < min || value > max) {
    throw new HttpError(400, `'${field}' must be in ${min}..${max}, got ${value}`, field);
  }
  return value;
};

const oneOf = (values: readonly string[]): Check => (value, field) => {
  if (typeof value !== "string") {
    throw new HttpError(400, `'${field}' must be a string, got ${JSON.stringify(value)}`, field);
  }
  if (!values.includes(value)) {
    throw new HttpError(
      400,
      `'${field}' is unknown: '${value}' (known: ${values.join(", ")})`,
      field,
    );
  }
  return value;
};

const bool: Check = (value, field) => {
  if (typeof value !== "boolean") {
    throw new HttpError(
      400,
      `'${field}' must be true or false, got ${JSON.stringify(value)}`,
      field,
    );
  }
  return value;
};

const text = (maxLength: number): Check => (value, field) => {
  if (typeof value !== "string" || value.length === 0) {
    throw new HttpError(
      400,
      `'${field}' must be a non-empty string, got ${
        value === null ? "null" : JSON.stringify(value)
      }`,
      field,
    );
  }
  if (value.length > maxLength) {
    throw new HttpError(400, `'${field}' is longer than ${maxLength} characters`, field);
  }
  return value;
};

/** Every accepted key and its check (the table the validation and the OpenAPI schema share). */
export const FIELDS: Readonly<Record<keyof BenchmarkRequest, Check>> = Object.freeze({
  model: text(500),
  dtype: oneOf(DTYPES),
  device: oneOf(DEVICES),
  use_cache: bool,
  prompt_tokens: int(1, 1 << 20),
  prompt: text(32_000),
  chat: bool,
  family: oneOf(PROMPT_FAMILIES),
  max_new_tokens: int(1, 1 << 16),
  warmup: int(0, 100),
  runs: int(1, 1000),
  batch: int(1, 256),
  threads: int(0, 1024),
});

/**
 * Validates a `POST /benchmarks` body against the model catalogue.
 *
 * @param body The parsed JSON object.
 * @param models The catalogue (`listModels()`).
 * @returns The request with bench's defaults filled in.
 * @throws {HttpError} 400 naming the field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateBenchmarkRequest } from "./validate.ts";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * const r = validateBenchmarkRequest({ model: "preset:tiny", prompt_tokens: 16, runs: 2 }, models);
 * assert.equal(r.runs, 2);
 * assert.equal(r.warmup, 3); // bench's default
 * assert.throws(() => validateBenchmarkRequest({ model: "preset:tiny", rnus: 2 }, models), /'rnus'/);
 * ```
 */
export function validateBenchmarkRequest(
  body: Record<string, unknown>,
  models: readonly ModelInfo[],
): BenchmarkRequest {
  for (const key of Object.keys(body)) {
    if (!(key in FIELDS)) {
      throw new HttpError(
        400,
        `'${key}' is not a benchmark field (known: ${Object.keys(FIELDS).join(", ")})`,
        key,
      );
    }
  }
  if (body.model === undefined) throw new HttpError(400, "'model' is required", "model");
  // null is no model: named with its type, never looked up as the string 'undefined'.
  if (body.model === null) FIELDS.model(null, "model");
  const out: Record<string, unknown> = { ...BENCH_DEFAULTS };
  for (const [key, check] of Object.entries(FIELDS)) {
    if (body[key] !== undefined && body[key] !== null) out[key] = check(body[key], key);
  }
  const request = out as unknown as BenchmarkRequest;
  const model = findModel(models, request.model);
  if (!model) {
    throw new HttpError(
      400,
      `'model' is unknown: '${request.model}' (GET /models lists the models)`,
      "model",
      "model_not_found",
    );
  }
  if (!model.dtypes.includes(request.dtype)) {
    throw new HttpError(
      400,
      `'dtype' '${request.dtype}' is not available for ${model.id} (available: ${
        model.dtypes.join(", ")
      })`,
      "dtype",
    );
  }
  if (request.prompt !== null && body.prompt_tokens !== undefined) {
    throw new HttpError(400, "'prompt' and 'prompt_tokens' are both given; keep one", "prompt");
  }
  if (request.chat && request.prompt === null) {
    throw new HttpError(
      400,
      "'chat' applies the chat template to 'prompt', which is missing",
      "chat",
    );
  }
  if (
    request.prompt === null && model.max_positions !== null &&
    request.prompt_tokens + request.max_new_tokens > model.max_positions
  ) {
    throw new HttpError(
      400,
      `'prompt_tokens' (${request.prompt_tokens}) + 'max_new_tokens' (${request.max_new_tokens}) exceeds the ${model.max_positions} positions of ${model.id}`,
      "max_new_tokens",
    );
  }
  return request;
}

/**
 * The `deno task bench` flags of a request.
 *
 * @param r A validated request.
 * @returns Flags for `lib/cli/bench.ts`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { benchFlags, BENCH_DEFAULTS } from "./validate.ts";
 * const flags = benchFlags({ ...BENCH_DEFAULTS, model: "preset:tiny", runs: 2 });
 * assert.deepEqual(flags.slice(0, 2), ["--model", "preset:tiny"]);
 * assert(flags.includes("--runs") && flags[flags.indexOf("--runs") + 1] === "2");
 * ```
 */
export function benchFlags(r: BenchmarkRequest): string[] {
  const flags = [
    ["--model", r.model],
    ["--dtype", r.dtype],
    ["--device", r.device],
    ["--use-cache", String(r.use_cache)],
    ["--max-new-tokens", String(r.max_new_tokens)],
    ["--warmup", String(r.warmup)],
    ["--runs", String(r.runs)],
    ["--batch", String(r.batch)],
    ["--threads", String(r.threads)],
    ["--family", r.family],
    ...(r.prompt === null
      ? [["--prompt-tokens", String(r.prompt_tokens)]]
      : [["--prompt", r.prompt], ["--chat", String(r.chat)]]),
  ];
  return flags.flat();
}
