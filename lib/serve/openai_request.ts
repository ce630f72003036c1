/**
 * Validation of OpenAI-compatible requests (`/v1/completions`, `/v1/chat/completions`): the
 * fields OpenAI's API accepts, the values this server honours (sampling, `n` answers, log-probs,
 * echo), and the model id (`REF` or `REF:DTYPE`). Anything else, and any parameter the server
 * would not honour, is a 400 naming the parameter; an unknown model is a 404 `model_not_found`.
 *
 * @module
 */
import { type Dtype, isDtype } from "../dtypes.ts";
import { HttpError } from "./http.ts";
import { findModel, type ModelInfo } from "./models.ts";
import {
  chatLogprobs,
  chatMessages,
  completionLogprobs,
  completionPrompts,
  fail,
  MAX_N,
} from "./openai_fields.ts";

export { fail, MAX_N, MAX_PROMPTS } from "./openai_fields.ts";

/** Which route. */
export type Kind = "completion" | "chat";

/** Fields each route accepts (others are a 400, as OpenAI's API answers). */
const COMMON = [
  "model",
  "max_tokens",
  "stream",
  "stream_options",
  "temperature",
  "top_p",
  "n",
  "stop",
  "seed",
  "user",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "ignore_eos",
  "top_k",
];
const ACCEPTED: Record<Kind, ReadonlySet<string>> = {
  completion: new Set([...COMMON, "prompt", "echo", "best_of", "suffix"]),
  chat: new Set([
    ...COMMON,
    "messages",
    "max_completion_tokens",
    "top_logprobs",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "store",
    "metadata",
  ]),
};

/**
 * The served model and dtype of an OpenAI `model` field.
 *
 * @param id `REF` (fp32, else the model's first dtype) or `REF:DTYPE`.
 * @param models The catalogue.
 * @returns The model and dtype.
 * @throws {HttpError} 404 `model_not_found` when unknown; 400 naming `model` when the dtype is not
 * available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { servedModel } from "./openai_request.ts";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * assert.deepEqual(servedModel("preset:tiny:q4", models).dtype, "q4");
 * assert.throws(() => servedModel("gpt-4", models), { status: 404, code: "model_not_found" });
 * ```
 */
export function servedModel(
  id: string,
  models: readonly ModelInfo[],
): { model: ModelInfo; dtype: Dtype } {
  const colon = id.lastIndexOf(":");
  const suffix = colon > 0 ? id.slice(colon + 1) : "";
  const [ref, dtype] = isDtype(suffix) && findModel(models, id.slice(0, colon))
    ? [id.slice(0, colon), suffix]
    : [id, null];
  const model = findModel(models, ref);
  if (!model) {
    throw new HttpError(
      404,
      `'model' is unknown: '${id}' (GET /v1/models lists the models)`,
      "model",
      "model_not_found",
    );
  }
  const chosen = dtype ?? (model.dtypes.includes("fp32") ? "fp32" : model.dtypes[0]);
  if (chosen === undefined || !model.dtypes.includes(chosen)) {
    throw new HttpError(
      400,
      `'model': ${ref} has no '${chosen}' weights (available: ${model.dtypes.join(", ")})`,
      "model",
    );
  }
  return { model, dtype: chosen };
}

/** A validated generation request. */
export interface Generation {
  kind: Kind;
  id: string;
  modelField: string;
  model: ModelInfo;
  dtype: Dtype;
  maxTokens: number;
  /** Whether `maxTokens` is the chat default (then cut to what the context leaves). */
  maxTokensDefault: boolean;
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  ignoreEos: boolean;
  /** Completions: the prompts (one per `prompt` entry), text or token ids. */
  prompts: (string | number[])[] | null;
  /** Chat: the conversation. */
  messages: { role: string; content: string }[] | null;
  /** Answers per prompt. */
  n: number;
  /** Completions: prepend the prompt (and score it with `logprobs`). */
  echo: boolean;
  /** `null`: no log-probabilities; else the top-k count each token lists (0 = the token's only). */
  logprobs: number | null;
  /** Sampling: temperature (0 greedy), top-p, top-k, seed. */
  sampling: { temperature: number; topP: number; topK: number; seed: number | null };
}

/**
 * Validates a request body.
 *
 * @param kind Which route.
 * @param body The JSON object.
 * @param models The catalogue.
 * @returns The generation to run.
 * @throws {HttpError} 400 naming the field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateGeneration } from "./openai_request.ts";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * const g = validateGeneration("completion", { model: "preset:tiny", prompt: "Hi" }, models);
 * assert.equal(g.maxTokens, 16); // OpenAI's default for completions
 * assert.throws(() => validateGeneration("completion", { model: "preset:tiny" }, models), /'prompt'/);
 * ```
 */
export function validateGeneration(
  kind: Kind,
  body: Record<string, unknown>,
  models: ModelInfo[],
): Generation {
  for (const key of Object.keys(body)) {
    if (!ACCEPTED[kind].has(key)) fail(`Unrecognized request argument supplied: ${key}`, key);
  }
  if (typeof body.model !== "string") {
    fail(`'model' must be a string, got ${JSON.stringify(body.model) ?? "nothing"}`, "model");
  }
  const { model, dtype } = servedModel(body.model, models);
  const optionalNumber = (key: string, min: number, max: number) => {
    const v = body[key];
    if (v === undefined || v === null) return;
    if (typeof v !== "number" || !(v >= min && v <= max)) {
      fail(`'${key}' must be a number in ${min}..${max}, got ${JSON.stringify(v)}`, key);
    }
  };
  optionalNumber("temperature", 0, 2);
  optionalNumber("top_p", 0, 1);
  if (body.top_p === 0) fail("'top_p' must be greater than 0", "top_p");
  if (
    body.top_k !== undefined && body.top_k !== null &&
    !(Number.isInteger(body.top_k) && (body.top_k as number) >= -1)
  ) {
    fail(
      `'top_k' must be an integer >= -1 (-1 or 0: all tokens), got ${JSON.stringify(body.top_k)}`,
      "top_k",
    );
  }
  for (const key of ["presence_penalty", "frequency_penalty"]) {
    optionalNumber(key, -2, 2);
    if (body[key]) fail(`'${key}' is not supported by this server; use 0`, key);
  }
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > MAX_N) {
    fail(`'n' must be an integer in 1..${MAX_N}, got ${JSON.stringify(body.n)}`, "n");
  }
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== n) {
    fail("'best_of' is not supported by this server (leave it out, or equal to 'n')", "best_of");
  }
  for (const key of ["suffix", "tools", "tool_choice"]) {
    const v = body[key];
    const off = v === undefined || v === null || v === false ||
      (key === "tool_choice" && v === "none") || (Array.isArray(v) && v.length === 0);
    if (!off) fail(`'${key}' is not supported by this server`, key);
  }
  const logprobs = kind === "completion" ? completionLogprobs(body) : chatLogprobs(body);
  if (kind === "chat" && body.echo !== undefined) {
    fail("Unrecognized request argument supplied: echo", "echo");
  }
  if (body.echo !== undefined && body.echo !== null && typeof body.echo !== "boolean") {
    fail(`'echo' must be true or false, got ${JSON.stringify(body.echo)}`, "echo");
  }
  const echo = body.echo === true;
  if (body.logit_bias && Object.keys(body.logit_bias as object).length > 0) {
    fail("'logit_bias' is not supported by this server", "logit_bias");
  }
  if (
    body.response_format !== undefined && body.response_format !== null &&
    (body.response_format as { type?: string }).type !== "text"
  ) {
    fail('\'response_format\' must be {"type": "text"}', "response_format");
  }
  if (body.seed !== undefined && body.seed !== null && !Number.isInteger(body.seed)) {
    fail("'seed' must be an integer", "seed");
  }
  for (const key of ["stream", "ignore_eos", "parallel_tool_calls", "store"]) {
    if (body[key] !== undefined && body[key] !== null && typeof body[key] !== "boolean") {
      fail(`'${key}' must be true or false, got ${JSON.stringify(body[key])}`, key);
    }
  }
  if (body.store === true) {
    fail("'store' is not supported by this server (nothing is stored)", "store");
  }
  const stream = body.stream === true;
  let includeUsage = false;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    const o = body.stream_options as Record<string, unknown>;
    if (!stream) fail("'stream_options' is only allowed with 'stream': true", "stream_options");
    if (typeof o !== "object" || Array.isArray(o)) {
      fail("'stream_options' must be an object", "stream_options");
    }
    for (const k of Object.keys(o)) {
      if (k !== "include_usage") {
        fail(`'stream_options.${k}' is not supported`, `stream_options.${k}`);
      }
    }
    if (o.include_usage !== undefined && typeof o.include_usage !== "boolean") {
      fail("'stream_options.include_usage' must be true or false", "stream_options.include_usage");
    }
    includeUsage = o.include_usage === true;
  }
  const maxKey = kind === "chat" && body.max_completion_tokens !== undefined
    ? "max_completion_tokens"
    : "max_tokens";
  const rawMax = body[maxKey] ?? (kind === "completion" ? 16 : null);
  let maxTokens: number;
  if (rawMax === null) {
    maxTokens = Math.min(256, model.max_positions ?? 256);
  } else if (typeof rawMax !== "number" || !Number.isInteger(rawMax) || rawMax < (echo ? 0 : 1)) {
    fail(
      `'${maxKey}' must be a positive integer${echo ? " (or 0 with echo)" : ""}, got ${
        JSON.stringify(rawMax)
      }`,
      maxKey,
    );
  } else {
    maxTokens = rawMax;
  }
  let stop: string[] = [];
  if (typeof body.stop === "string") stop = [body.stop];
  else if (Array.isArray(body.stop)) {
    if (body.stop.length > 4 || !body.stop.every((s) => typeof s === "string" && s !== "")) {
      fail("'stop' must be a string or up to 4 non-empty strings", "stop");
    }
    stop = body.stop as string[];
  } else if (body.stop !== undefined && body.stop !== null) fail("'stop' must be a string", "stop");
  const base = {
    kind,
    modelField: body.model,
    model,
    dtype,
    maxTokens,
    maxTokensDefault: rawMax === null,
    stream,
    includeUsage,
    stop,
    ignoreEos: body.ignore_eos === true,
    n: n as number,
    echo,
    logprobs,
    sampling: {
      temperature: (body.temperature as number | null | undefined) ?? 1,
      topP: (body.top_p as number | null | undefined) ?? 1,
      topK: Math.max(0, (body.top_k as number | null | undefined) ?? 0),
      seed: (body.seed as number | null | undefined) ?? null,
    },
  };
  if (kind === "completion") {
    return {
      ...base,
      id: `cmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      prompts: completionPrompts(body.prompt),
      messages: null,
    };
  }
  return {
    ...base,
    id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
    prompts: null,
    messages: chatMessages(body.messages),
  };
}
