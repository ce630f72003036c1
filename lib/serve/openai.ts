/**
 * OpenAI-compatible generation: `POST /v1/completions` and `POST /v1/chat/completions` (the model
 * list is openai_models.ts), with `stream: true` as Server-Sent Events in OpenAI's wire
 * format (`data: {chunk}` lines, `stream_options.include_usage` adding a last chunk with empty
 * `choices` and the usage, then `data: [DONE]`).
 *
 * - Decoding: sampling with `temperature` (OpenAI's default 1; 0 is greedy), `top_p`, `top_k`
 *   (vLLM's extension) and `seed` (the same seed gives the same text); `n` answers per prompt.
 * - Log-probabilities: completions `logprobs` (0..5) with `echo` (the prompt scored, `max_tokens`
 *   0 allowed), chat `logprobs` / `top_logprobs` (openai_logprobs.ts).
 * - Chat templates: chat_template.ts (a model without one answers 400, saying so).
 * - A model id is a catalogue id (`preset:tiny`, fp32) or an id with a dtype (`preset:tiny:q4`);
 *   internal cache directories are not served. `ignore_eos` (vLLM's extension) makes exactly
 *   `max_tokens` tokens, for load generators.
 *
 * @module
 */
import { createSampler } from "../engine/sampling.ts";
import { chatPromptIds, type ChatTemplates, NO_CHAT_TEMPLATES } from "./chat_template.ts";
import { HttpError, json, readJsonObject } from "./http.ts";
import { type ModelPool, type StreamedToken, streamTokens } from "./model_pool.ts";
import type { ModelInfo } from "./models.ts";
import { chatLogprobs, legacyLogprobs } from "./openai_logprobs.ts";
import { servedModels } from "./openai_models.ts";
import { fail, type Kind, validateGeneration } from "./openai_request.ts";

/** What the OpenAI routes need from the server. */
export interface OpenAiContext {
  /** The model catalogue. */
  models: () => ModelInfo[];
  /** Loaded models. */
  pool: ModelPool;
  /** Chat templates given to the server. @default none */
  chatTemplates?: ChatTemplates;
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
  const g = validateGeneration(kind, await readJsonObject(request), servedModels(context.models()));
  // A Hub-cache model loads from its directory: resolving its Hub id would ask the Hub.
  const ref = g.model.source === "hub-cache" && g.model.dir ? g.model.dir : g.model.id;
  const pooled = await context.pool.get(ref, g.dtype);
  const tokenizer = pooled.model.resolved.tokenizer;
  const prompts = kind === "chat"
    ? [{
      ids: chatPromptIds(
        g.model.id,
        tokenizer,
        g.messages!,
        context.chatTemplates ?? NO_CHAT_TEMPLATES,
      ),
      text: "",
    }]
    : g.prompts!.map((p) =>
      typeof p === "string"
        ? { ids: Array.from(tokenizer.encode(p), Number), text: p }
        : { ids: p, text: tokenizer.decode(p, { skip_special_tokens: false }) }
    );
  const limit = Math.min(
    g.model.context_length ?? Infinity,
    pooled.model.config.maxPositions,
  );
  if (g.maxTokensDefault) {
    // no max_tokens given: at most the default, and what the context leaves (as vLLM does)
    const longest = Math.max(...prompts.map((p) => p.ids.length));
    g.maxTokens = Math.max(1, Math.min(g.maxTokens, limit - longest));
  }
  for (const { ids } of prompts) {
    if (ids.length + g.maxTokens > limit) {
      throw new HttpError(
        400,
        `This model's maximum context length is ${limit} tokens. However, you requested ${
          ids.length + g.maxTokens
        } tokens (${ids.length} in the ${
          kind === "chat" ? "messages" : "prompt"
        }, ${g.maxTokens} in the completion). Please reduce the length of the ${
          kind === "chat" ? "messages" : "prompt"
        } or 'max_tokens'.`,
        "max_tokens",
        "context_length_exceeded",
      );
    }
  }
  for (const { ids: promptIds } of prompts) {
    for (const id of promptIds) {
      if (id >= pooled.model.vocabSize) {
        fail(
          `'prompt' has token id ${id}, out of the vocabulary (ids 0..${
            pooled.model.vocabSize - 1
          })`,
          "prompt",
        );
      }
    }
  }
  const created = Math.floor(Date.now() / 1000);
  const abort = new AbortController();
  const decode = (ids: number[]) =>
    ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true });
  const pieces = new Map<number, string>();
  const tokenText = (id: number) => {
    let text = pieces.get(id);
    if (text === undefined) {
      text = tokenizer.decode([id], { skip_special_tokens: false });
      pieces.set(id, text);
    }
    return text;
  };
  const holdBack = Math.max(0, ...g.stop.map((s) => s.length - 1));
  const promptTokens = prompts.reduce((sum, p) => sum + p.ids.length, 0);
  const usage = (completion: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: completion,
    total_tokens: promptTokens + completion,
  });
  const echo = kind === "completion" && g.echo;

  /** A piece of an answer: its text and the tokens it carries (for `logprobs`). */
  type Piece = { text: string; tokens: StreamedToken[] };
  /** Runs one answer, calling `emit` with each new piece; returns the finish reason. */
  const run = async (index: number, emit: (piece: Piece) => void) => {
    const prompt = prompts[Math.floor(index / g.n)]!;
    const tokens = streamTokens(pooled, prompt.ids, {
      maxTokens: g.maxTokens,
      stopAtEos: !g.ignoreEos,
      signal: abort.signal,
      pick: createSampler({
        ...g.sampling,
        seed: g.sampling.seed === null ? null : (g.sampling.seed + index) >>> 0,
      }),
      logprobs: g.logprobs,
      echo,
    });
    const ids: number[] = [];
    let pending: StreamedToken[] = [];
    let sent = 0;
    let finish: "stop" | "length" = "length";
    const send = (text: string) => {
      emit({ text, tokens: pending });
      pending = [];
    };
    try {
      while (true) {
        const step = await tokens.next();
        if (step.done) {
          finish = step.value === "stop" ? "stop" : "length";
          break;
        }
        if (step.value.prompt) {
          pending.push(step.value);
          if (pending.length === prompt.ids.length) send(prompt.text);
          continue;
        }
        pending.push(step.value);
        ids.push(step.value.id);
        const text = decode(ids);
        const hit = firstStop(text, g.stop);
        if (hit >= 0) {
          send(hit > sent ? text.slice(sent, hit) : "");
          return { finish: "stop" as const, completion: ids.length };
        }
        const safe = text.endsWith("\uFFFD") ? text.length - 1 : text.length - holdBack;
        if (safe > sent) {
          send(text.slice(sent, safe));
          sent = safe;
        }
      }
      const text = decode(ids);
      if (text.length > sent || pending.length > 0) send(text.slice(sent));
      return { finish, completion: ids.length };
    } finally {
      await tokens.return("stop");
    }
  };
  const choices = Array.from({ length: prompts.length * g.n }, (_, i) => i);
  const logprobsOf = (tokens: StreamedToken[], offset: { at: number }) =>
    g.logprobs === null
      ? null
      : kind === "chat"
      ? chatLogprobs(tokens, tokenText)
      : legacyLogprobs(tokens, tokenText, offset);
  const startOffset = (index: number) => ({
    at: echo ? 0 : prompts[Math.floor(index / g.n)]!.text.length,
  });

  if (!g.stream) {
    const answers = await Promise.all(choices.map(async (index) => {
      let text = "";
      const tokens: StreamedToken[] = [];
      const { finish, completion } = await run(index, (piece) => {
        text += piece.text;
        tokens.push(...piece.tokens);
      });
      const logprobs = logprobsOf(tokens, startOffset(index));
      const choice = kind === "chat"
        ? {
          index,
          message: { role: "assistant", content: text, refusal: null },
          logprobs,
          finish_reason: finish,
        }
        : { text, index, logprobs, finish_reason: finish };
      return { choice, completion };
    }));
    return json({
      id: g.id,
      object: kind === "chat" ? "chat.completion" : "text_completion",
      created,
      model: g.modelField,
      system_fingerprint: null,
      choices: answers.map((a) => a.choice),
      usage: usage(answers.reduce((sum, a) => sum + a.completion, 0)),
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
  const choice = (
    index: number,
    content: string | null,
    finish: string | null,
    logprobs: unknown,
  ) =>
    kind === "chat"
      ? {
        index,
        delta: content === null ? {} : { content },
        logprobs,
        finish_reason: finish,
      }
      : { text: content ?? "", index, logprobs, finish_reason: finish };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (data: unknown) =>
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
      (async () => {
        try {
          const made = await Promise.all(choices.map(async (index) => {
            if (kind === "chat") {
              send(chunk([{
                index,
                delta: { role: "assistant", content: "", refusal: null },
                logprobs: null,
                finish_reason: null,
              }]));
            }
            const offset = startOffset(index);
            const { finish, completion } = await run(index, (piece) => {
              if (abort.signal.aborted) return;
              send(chunk([choice(index, piece.text, null, logprobsOf(piece.tokens, offset))]));
            });
            if (!abort.signal.aborted) {
              send(chunk([choice(index, kind === "chat" ? null : "", finish, null)]));
            }
            return completion;
          }));
          if (abort.signal.aborted) return;
          if (g.includeUsage) {
            send(chunk([], { usage: usage(made.reduce((sum, c) => sum + c, 0)) }));
          }
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
