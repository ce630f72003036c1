/**
 * A scripted OpenAI-compatible streaming server on loopback for the load generator's tests:
 * known delays (time to first chunk, gap between chunks), a known number of chunks, optional
 * failures; it counts the requests it holds at once.
 *
 * @module
 */

/** Script of the fake server. */
export interface FakeServerScript {
  /** Delay before the first text chunk, ms. */
  ttftMs: number;
  /** Delay between text chunks, ms. */
  itlMs: number;
  /** Text chunks per response (one token each). */
  tokens: number;
  /** Send a usage chunk (as `stream_options.include_usage` asks). @default true */
  usage?: boolean;
  /** `usage.prompt_tokens` reported. @default 7 */
  promptTokens?: number;
  /** Answer HTTP 500 to requests whose 0-based arrival number `% failEvery === failEvery - 1`. */
  failEvery?: number;
}

/** A running fake server. */
export interface FakeServer {
  /** `http://127.0.0.1:PORT/v1`. */
  baseUrl: string;
  /** Most requests held at once. */
  peakInFlight(): number;
  /** Request bodies received, in arrival order. */
  bodies: Record<string, unknown>[];
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts the server on a free loopback port.
 *
 * @param script What it does.
 * @returns The server.
 */
export function fakeServer(script: FakeServerScript): FakeServer {
  let inFlight = 0;
  let peak = 0;
  const bodies: Record<string, unknown>[] = [];
  const enc = new TextEncoder();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json() as Record<string, unknown>;
    const n = bodies.push(body) - 1;
    if (script.failEvery && n % script.failEvery === script.failEvery - 1) {
      return Response.json({ error: { message: "scripted failure" } }, { status: 500 });
    }
    inFlight++;
    peak = Math.max(peak, inFlight);
    const chat = new URL(req.url).pathname.endsWith("/chat/completions");
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (json: unknown) =>
          controller.enqueue(enc.encode(`data: ${JSON.stringify(json)}\n\n`));
        try {
          await new Promise((r) => setTimeout(r, script.ttftMs));
          for (let i = 0; i < script.tokens; i++) {
            if (i > 0) await new Promise((r) => setTimeout(r, script.itlMs));
            send({
              object: chat ? "chat.completion.chunk" : "text_completion",
              choices: [
                chat ? { index: 0, delta: { content: ` t${i}` } } : { index: 0, text: ` t${i}` },
              ],
            });
          }
          if (script.usage ?? true) {
            send({
              choices: [],
              usage: {
                prompt_tokens: script.promptTokens ?? 7,
                completion_tokens: script.tokens,
                total_tokens: 7 + script.tokens,
              },
            });
          }
          controller.enqueue(enc.encode("data: [DONE]\n\n"));
          controller.close();
        } finally {
          inFlight--;
        }
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  const { port } = server.addr as Deno.NetAddr;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    peakInFlight: () => peak,
    bodies,
    close: () => server.shutdown(),
  };
}
