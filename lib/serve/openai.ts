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
import { json, readJsonObject } from "./http.ts";
import { type ModelPool, streamTokens } from "./model_pool.ts";
import type { ModelInfo } from "./models.ts";
import { fail, type Kind, validateGeneration } from "./openai_request.ts";

/** What the OpenAI routes need from the server. */
export interface OpenAiContext {
  /** The model catalogue. */
  models: () => ModelInfo[];
  /** Loaded models. */
  pool: ModelPool;
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
  const g = validateGeneration(kind, await readJsonObject(request), context.models());
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
      fail(
        `'prompt' has token id ${id}, out of the vocabulary (ids 0..${pooled.model.vocabSize - 1})`,
        "prompt",
      );
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
