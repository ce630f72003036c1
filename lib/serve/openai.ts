/**
 * OpenAI-compatible routes: `GET /v1/models`, `POST /v1/completions` and
 * `POST /v1/chat/completions`, with `stream: true` as Server-Sent Events in OpenAI's wire format
 * (`data: {chunk}` lines, `stream_options.include_usage` adding a last chunk with empty
 * `choices` and the usage, then `data: [DONE]`). Decoding is greedy; `temperature` and `top_p`
 * are accepted and do not change it. The chat template is the model's own (tokenizer config).
 * A model id is a catalogue id (`preset:tiny`, fp32) or an id with a dtype (`preset:tiny:q4`).
 * `ignore_eos` (vLLM's extension) makes exactly `max_tokens` tokens, for load generators.
 *
 * @module
 */
import { type Dtype, isDtype } from "../dtypes.ts";
import { HttpError, json, readJsonObject } from "./http.ts";
import { type ModelPool, streamTokens } from "./model_pool.ts";
import { findModel, type ModelInfo } from "./models.ts";

/** What the OpenAI routes need from the server. */
export interface OpenAiContext {
  /** The model catalogue. */
  models: () => ModelInfo[];
  /** Loaded models. */
  pool: ModelPool;
}

type Kind = "completion" | "chat";

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
 * import { servedModel } from "./openai.ts";
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

/**
 * `GET /v1/models`: every model and dtype, in OpenAI's list format.
 *
 * @param models The catalogue.
 * @returns The response.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listOpenAiModels } from "./openai.ts";
 * import { listModels } from "./models.ts";
 * const list = await listOpenAiModels(listModels({ modelCache: Deno.makeTempDirSync() })).json();
 * assert.equal(list.object, "list");
 * assert(list.data.some((m: { id: string }) => m.id === "preset:tiny:q4"));
 * ```
 */
export function listOpenAiModels(models: readonly ModelInfo[]): Response {
  const created = Math.floor(Date.now() / 1000);
  const data = models.flatMap((m) => [
    { id: m.id, object: "model", created, owned_by: "turbo-inference" },
    ...m.dtypes.map((d) => ({
      id: `${m.id}:${d}`,
      object: "model",
      created,
      owned_by: "turbo-inference",
    })),
  ]);
  return json({ object: "list", data });
}

/** A validated generation request. */
interface Generation {
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

function fail(message: string, param: string): never {
  throw new HttpError(400, message, param);
}

function validate(kind: Kind, body: Record<string, unknown>, models: ModelInfo[]): Generation {
  for (const key of Object.keys(body)) {
    if (!ACCEPTED[kind].has(key)) fail(`Unrecognized request argument supplied: ${key}`, key);
  }
  if (typeof body.model !== "string") fail("'model' must be a string", "model");
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
  const one = Array.isArray(prompt) && prompt.length === 1 ? prompt[0] : prompt;
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

/**
 * `POST /v1/completions` and `POST /v1/chat/completions`.
 *
 * @param kind Which route.
 * @param request The request.
 * @param context Catalogue and model pool.
 * @returns A JSON response, or an SSE stream with `stream: true`.
 * @throws {HttpError} 400 naming the field of a bad request.
 * @example
 * ```ts ignore
 * const response = await handleGeneration("chat", request, { models: () => listModels(), pool });
 * ```
 */
export async function handleGeneration(
  kind: Kind,
  request: Request,
  context: OpenAiContext,
): Promise<Response> {
  const g = validate(kind, await readJsonObject(request), context.models());
  const pooled = await context.pool.get(g.model.id, g.dtype);
  const tokenizer = pooled.model.resolved.tokenizer;
  const promptIds = kind === "chat"
    ? Array.from(
      tokenizer.apply_chat_template(g.messages!, {
        add_generation_prompt: true,
        tokenize: true,
        return_tensor: false,
        return_dict: false,
      }) as unknown as ArrayLike<number>,
      Number,
    )
    : typeof g.prompt === "string"
    ? Array.from(tokenizer.encode(g.prompt), Number)
    : g.prompt!;
  const positions = pooled.model.config.maxPositions;
  if (promptIds.length + g.maxTokens > positions) {
    fail(
      `This model's maximum context length is ${positions} tokens; the prompt has ${promptIds.length} and '${
        kind === "chat" ? "max_tokens" : "max_tokens"
      }' asks for ${g.maxTokens} more`,
      "max_tokens",
    );
  }
  for (const id of promptIds) {
    if (id >= pooled.model.vocabSize) {
      fail(`'prompt' has token id ${id} >= vocabulary size`, "prompt");
    }
  }
  const created = Math.floor(Date.now() / 1000);
  const abort = new AbortController();
  const tokens = streamTokens(pooled, promptIds, {
    maxTokens: g.maxTokens,
    stopAtEos: !g.ignoreEos,
    signal: abort.signal,
  });
  const decode = (ids: number[]) => tokenizer.decode(ids, { skip_special_tokens: true });
  const holdBack = Math.max(0, ...g.stop.map((s) => s.length - 1));
  const usage = (completion: number) => ({
    prompt_tokens: promptIds.length,
    completion_tokens: completion,
    total_tokens: promptIds.length + completion,
  });

  /** Runs generation, calling `emit` with each new piece of text; returns the finish reason. */
  const run = async (emit: (text: string) => void) => {
    const ids: number[] = [];
    let sent = 0;
    let finish: "stop" | "length" = "length";
    while (true) {
      const step = await tokens.next();
      if (step.done) {
        finish = step.value === "stop" ? "stop" : "length";
        break;
      }
      ids.push(step.value);
      const text = decode(ids);
      const hit = firstStop(text, g.stop);
      if (hit >= 0) {
        if (hit > sent) emit(text.slice(sent, hit));
        await tokens.return("stop");
        return { finish: "stop" as const, completion: ids.length };
      }
      const safe = text.endsWith("\uFFFD") ? text.length - 1 : text.length - holdBack;
      if (safe > sent) {
        emit(text.slice(sent, safe));
        sent = safe;
      }
    }
    const text = decode(ids);
    if (text.length > sent) emit(text.slice(sent));
    return { finish, completion: ids.length };
  };

  if (!g.stream) {
    let text = "";
    const { finish, completion } = await run((piece) => text += piece);
    const choice = kind === "chat"
      ? {
        index: 0,
        message: { role: "assistant", content: text, refusal: null },
        logprobs: null,
        finish_reason: finish,
      }
      : { text, index: 0, logprobs: null, finish_reason: finish };
    return json({
      id: g.id,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      created,
      model: g.modelField,
      system_fingerprint: null,
      choices: [choice],
      usage: usage(completion),
    });
  }

  const encoder = new TextEncoder();
  const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id: g.id,
    object,
    created,
    model: g.modelField,
    system_fingerprint: null,
    choices,
    ...(g.includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const choice = (content: string | null, finish: string | null) =>
    kind === "chat"
      ? {
        index: 0,
        delta: content === null ? {} : { content },
        logprobs: null,
        finish_reason: finish,
      }
      : { text: content ?? "", index: 0, logprobs: null, finish_reason: finish };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (data: unknown) =>
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
      (async () => {
        try {
          if (kind === "chat") {
            send(chunk([{
              index: 0,
              delta: { role: "assistant", content: "", refusal: null },
              logprobs: null,
              finish_reason: null,
            }]));
          }
          const { finish, completion } = await run((piece) => send(chunk([choice(piece, null)])));
          if (abort.signal.aborted) return;
          send(chunk([choice(kind === "chat" ? null : "", finish)]));
          if (g.includeUsage) send(chunk([], { usage: usage(completion) }));
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        } catch (error) {
          if (abort.signal.aborted) return;
          const message = error instanceof Error ? error.message : String(error);
          send({ error: { message, type: "server_error", param: null, code: null } });
          controller.close();
        }
      })();
    },
    cancel() {
      abort.abort();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
    },
  });
}

function firstStop(text: string, stops: readonly string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}
