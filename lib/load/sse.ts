/**
 * Server-Sent Events as OpenAI-compatible servers stream them (`data: {json}` events, a final
 * `data: [DONE]`), parsed incrementally from a byte stream so each event keeps its arrival time.
 *
 * @module
 */

/** One event's data and when its last byte arrived (`performance.now()`). */
export interface SseEvent {
  /** The event's `data:` lines joined with `\n`. */
  data: string;
  /** Arrival time, ms (`performance.now()`). */
  atMs: number;
}

/**
 * Reads SSE events from a stream as they arrive; comments (`:`), `event:`, `id:` and `retry:`
 * lines are skipped, CRLF and LF line ends both work.
 *
 * @param body The response body.
 * @param now Clock. @default performance.now
 * @returns The events, each yielded when its blank line arrives.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sseEvents } from "./sse.ts";
 * const body = new Response("data: {\"a\":1}\r\n\r\n: ping\n\ndata: [DONE]\n\n").body!;
 * const data: string[] = [];
 * for await (const e of sseEvents(body)) data.push(e.data);
 * assert.deepEqual(data, ['{"a":1}', "[DONE]"]);
 * ```
 */
export async function* sseEvents(
  body: ReadableStream<Uint8Array>,
  now: () => number = () => performance.now(),
): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const nl = buffer.indexOf("\n");
      if (nl < 0) {
        if (final && buffer !== "") {
          const rest = buffer;
          buffer = "";
          yield rest;
        }
        return;
      }
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      yield line;
    }
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      if (done) buffer += decoder.decode();
      for (const line of lines(done)) {
        if (line === "") {
          if (data.length > 0) yield { data: data.join("\n"), atMs: now() };
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
      if (done) {
        if (data.length > 0) yield { data: data.join("\n"), atMs: now() };
        return;
      }
    }
  } finally {
    reader.releaseLock();
  }
}
