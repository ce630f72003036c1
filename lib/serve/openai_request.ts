/**
 * Validation of OpenAI-compatible requests (`/v1/completions`, `/v1/chat/completions`): the
 * fields OpenAI's API accepts, the values this server supports (greedy, one answer), and the
 * model id (`REF` or `REF:DTYPE`). Anything else is a 400 naming the parameter.
 *
 * @module
 */
import { type Dtype, isDtype } from "../dtypes.ts";
import { HttpError } from "./http.ts";
import { findModel, type ModelInfo } from "./models.ts";

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
 * @throws {HttpError} 400 naming `model` when unknown or the dtype is not available.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { servedModel } from "./openai_request.ts";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * assert.deepEqual(servedModel("preset:tiny:q4", models).dtype, "q4");
 * assert.throws(() => servedModel("gpt-4", models), /'model' is unknown/);
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
      400,
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
  stream: boolean;
  includeUsage: boolean;
  stop: string[];
  ignoreEos: boolean;
  prompt: string | number[] | null;
  messages: { role: string; content: string }[] | null;
}

/**
 * Throws a 400 naming the parameter.
 *
 * @param message One line.
 * @param param The field at fault.
 */
export function fail(message: string, param: string): never {
  throw new HttpError(400, message, param);
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
  for (const key of ["presence_penalty", "frequency_penalty"]) {
    optionalNumber(key, -2, 2);
    if (body[key]) fail(`'${key}' is not supported (greedy decoding); use 0`, key);
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    fail(`'n' must be 1 (greedy decoding gives one answer), got ${JSON.stringify(body.n)}`, "n");
  }
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) {
    fail("'best_of' must be 1", "best_of");
  }
  for (const key of ["echo", "logprobs", "top_logprobs", "suffix", "tools", "tool_choice"]) {
    const v = body[key];
    const off = v === undefined || v === null || v === false ||
      (key === "tool_choice" && v === "none") || (Array.isArray(v) && v.length === 0);
    if (!off) fail(`'${key}' is not supported by this server`, key);
  }
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
  } else if (typeof rawMax !== "number" || !Number.isInteger(rawMax) || rawMax < 1) {
    fail(`'${maxKey}' must be a positive integer, got ${JSON.stringify(rawMax)}`, maxKey);
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
    stream,
    includeUsage,
    stop,
    ignoreEos: body.ignore_eos === true,
  };
  if (kind === "completion") {
    return {
      ...base,
      id: `cmpl-${crypto.randomUUID().replaceAll("-", "")}`,
      prompt: completionPrompt(body.prompt),
      messages: null,
    };
  }
  return {
    ...base,
    id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
    prompt: null,
    messages: chatMessages(body.messages),
  };
}

function completionPrompt(prompt: unknown): string | number[] {
  // `[[ids]]` or `["text"]` is a batch of one prompt; `[id]` is a one-token prompt.
  const one = Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] !== "number"
    ? prompt[0]
    : prompt;
  if (typeof one === "string" && one.length > 0) return one;
  if (Array.isArray(one) && one.length > 0 && one.every((t) => Number.isInteger(t) && t >= 0)) {
    return one as number[];
  }
  return fail(
    "'prompt' must be a non-empty string or token-id array (one prompt per request)",
    "prompt",
  );
}

function chatMessages(messages: unknown): { role: string; content: string }[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    fail("'messages' must be a non-empty array", "messages");
  }
  return messages.map((m, i) => {
    const field = `messages[${i}]`;
    if (typeof m !== "object" || m === null) fail(`'${field}' must be an object`, field);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (!["system", "developer", "user", "assistant"].includes(role as string)) {
      fail(`'${field}.role' must be system, developer, user or assistant`, `${field}.role`);
    }
    let text: string;
    if (typeof content === "string") text = content;
    else if (Array.isArray(content)) {
      text = content.map((part, j) => {
        if (part?.type !== "text" || typeof part.text !== "string") {
          fail(`'${field}.content[${j}]' must be a text part`, `${field}.content[${j}]`);
        }
        return part.text as string;
      }).join("");
    } else fail(`'${field}.content' must be a string or text parts`, `${field}.content`);
    return { role: role === "developer" ? "system" : role as string, content: text };
  });
}
