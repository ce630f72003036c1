/**
 * One streamed request to an OpenAI-compatible server, timed as vLLM's serving benchmark times
 * it: the send time, the arrival of every chunk that carries generated text, and the end.
 *
 * @module
 */
import { sseEvents } from "./sse.ts";

/** What to send. */
export interface LoadRequest {
  /** Position in the run (0-based). */
  index: number;
  /** The prompt text (for chat: the one user message). */
  prompt: string;
  /** Prompt tokens as built for the target's tokenizer, or `null` when no tokenizer was known. */
  plannedPromptTokens: number | null;
  /** `max_tokens`. */
  maxTokens: number;
}

/** How one request went. */
export interface RequestRecord {
  /** Position in the run. */
  index: number;
  /** Whether it was a warmup request (never in the metrics). */
  warmup: boolean;
  /** When it was planned to start, s since the run's start. */
  scheduledS: number;
  /** When it was sent, s since the run's start. */
  startS: number;
  /** Whether a complete stream arrived. */
  ok: boolean;
  /** Why not, else `null`. */
  error: string | null;
  /** HTTP status, `null` when no response arrived. */
  httpStatus: number | null;
  /**
   * Prompt tokens: the tokenizer's exact count of the prompt sent (completions), else the server's
   * `usage.prompt_tokens` when it reports a positive one (chat: the server's count, which includes
   * the chat template, wins over the message's), else `null`.
   */
  promptTokens: number | null;
  /** Where `promptTokens` came from (`null`: unknown). */
  promptTokensSource?: "tokenizer" | "usage" | null;
  /** Generated tokens: the server's `usage.completion_tokens`, else text chunks counted. */
  outputTokens: number;
  /** Where `outputTokens` came from. */
  outputTokensSource: "usage" | "chunks";
  /** Time to first token, ms (send → first chunk with text). */
  ttftMs: number | null;
  /** End-to-end latency, ms (send → end of stream). */
  e2eMs: number | null;
  /** Gaps between successive text chunks, ms. */
  itlMs: number[];
  /** Concurrency when it was sent (requests in flight, this one included). */
  inFlightAtStart: number;
}

/** Where and how to send. */
export interface EndpointOptions {
  /** Base URL ending in `/v1`. */
  baseUrl: string;
  /** Model name the server expects. */
  model: string;
  /** `completions` (prompt) or `chat` (one user message). @default "completions" */
  api?: "completions" | "chat";
  /** Bearer token, if the server needs one. */
  apiKey?: string;
  /** Give up on one request after this long, ms. @default 120000 */
  timeoutMs?: number;
  /**
   * Sampling sent with each request: `temperature` (0: greedy), `top_p`, `top_k` (vLLM's
   * extension), and a per-request `seed` (`seed + index`, so a run repeats). @default greedy
   */
  sampling?: LoadSampling;
}

/** Sampling a load run asks the server for. */
export interface LoadSampling {
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus mass, when given. */
  topP?: number;
  /** Most likely tokens kept, when given. */
  topK?: number;
  /** Base seed; request `i` sends `seed + i`. */
  seed?: number;
}

/**
 * Sends one streamed request and times it. Never throws: a failure is a record with `ok: false`
 * and the reason.
 *
 * @param request What to send.
 * @param endpoint Where.
 * @param clock The run's start (`performance.now()` ms) and the schedule.
 * @returns The record.
 */
export async function sendRequest(
  request: LoadRequest,
  endpoint: EndpointOptions,
  clock: { runStartMs: number; scheduledS: number; warmup: boolean; inFlight: number },
): Promise<RequestRecord> {
  const api = endpoint.api ?? "completions";
  const url = `${endpoint.baseUrl.replace(/\/$/, "")}/${
    api === "chat" ? "chat/completions" : "completions"
  }`;
  const body = {
    model: endpoint.model,
    ...(api === "chat"
      ? { messages: [{ role: "user", content: request.prompt }] }
      : { prompt: request.prompt }),
    max_tokens: request.maxTokens,
    ...samplingFields(endpoint.sampling, request.index),
    stream: true,
    stream_options: { include_usage: true },
    // vLLM's and llama.cpp's extension: generate exactly max_tokens (servers without it ignore it).
    ignore_eos: true,
  };
  const start = performance.now();
  const record: RequestRecord = {
    index: request.index,
    warmup: clock.warmup,
    scheduledS: clock.scheduledS,
    startS: (start - clock.runStartMs) / 1000,
    ok: false,
    error: null,
    httpStatus: null,
    promptTokens: request.plannedPromptTokens,
    promptTokensSource: request.plannedPromptTokens === null ? null : "tokenizer",
    outputTokens: 0,
    outputTokensSource: "chunks",
    ttftMs: null,
    e2eMs: null,
    itlMs: [],
    inFlightAtStart: clock.inFlight,
  };
  const signal = AbortSignal.timeout(endpoint.timeoutMs ?? 120_000);
  let sent = false;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal,
    });
    sent = true;
    record.httpStatus = res.status;
    if (!res.ok || res.body === null) {
      const text = (await res.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
      record.error = `HTTP ${res.status}${text ? `: ${text}` : ""}`;
      return record;
    }
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("text/event-stream")) {
      // An HTML page or a plain JSON answer: no stream to time, whatever its body says.
      await res.body.cancel().catch(() => {});
      record.error = `${url} answered HTTP ${res.status} with ${
        type.split(";")[0] || "no content type"
      }: not an OpenAI-compatible stream (text/event-stream)`;
      return record;
    }
    let last: number | null = null;
    let chunks = 0;
    let done = false;
    for await (const event of sseEvents(res.body)) {
      if (event.data === "[DONE]") {
        done = true;
        break;
      }
      const json = JSON.parse(event.data) as {
        choices?: { text?: string; delta?: { content?: string | null } }[];
        usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
        error?: { message?: string };
      };
      if (json.error) throw new Error(`server error in stream: ${json.error.message ?? "?"}`);
      const text = json.choices?.[0]?.text ?? json.choices?.[0]?.delta?.content ?? "";
      if (text !== "") {
        if (last === null) record.ttftMs = event.atMs - start;
        else record.itlMs.push(event.atMs - last);
        last = event.atMs;
        chunks++;
      }
      if (json.usage) {
        const reported = json.usage.prompt_tokens;
        if (
          typeof reported === "number" && reported > 0 &&
          (record.promptTokensSource !== "tokenizer" || api === "chat")
        ) {
          record.promptTokens = reported;
          record.promptTokensSource = "usage";
        }
        if (typeof json.usage.completion_tokens === "number") {
          record.outputTokens = json.usage.completion_tokens;
          record.outputTokensSource = "usage";
        }
      }
    }
    if (!done) throw new Error("stream ended without data: [DONE]");
    if (record.outputTokensSource === "chunks") record.outputTokens = chunks;
    record.e2eMs = performance.now() - start;
    if (record.ttftMs === null) throw new Error("no generated text in the stream");
    record.ok = true;
  } catch (error) {
    const msg = error instanceof Error ? error.message : String(error);
    record.error = signal.aborted
      ? `timed out after ${endpoint.timeoutMs ?? 120_000} ms`
      : sent
      ? msg.split("\n")[0]!
      : `cannot reach ${url}: ${msg.split("\n")[0]!}`;
    record.ok = false;
  }
  return record;
}

/**
 * The request fields of a sampling setting (greedy: `temperature: 0` only).
 *
 * @param sampling The setting, or `undefined` for greedy.
 * @param index The request's position (its seed is `seed + index`).
 * @returns Fields to merge into the body.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { samplingFields } from "./client.ts";
 * assert.deepEqual(samplingFields(undefined, 3), { temperature: 0 });
 * assert.deepEqual(samplingFields({ temperature: 0.8, topP: 0.9, seed: 42 }, 3), {
 *   temperature: 0.8, top_p: 0.9, seed: 45,
 * });
 * ```
 */
export function samplingFields(
  sampling: LoadSampling | undefined,
  index: number,
): Record<string, number> {
  if (!sampling || sampling.temperature === 0) return { temperature: 0 };
  return {
    temperature: sampling.temperature,
    ...(sampling.topP !== undefined ? { top_p: sampling.topP } : {}),
    ...(sampling.topK !== undefined ? { top_k: sampling.topK } : {}),
    ...(sampling.seed !== undefined ? { seed: sampling.seed + Math.max(0, index) } : {}),
  };
}
