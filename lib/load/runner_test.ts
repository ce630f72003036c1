import { assert, assertEquals } from "../testing/assert.ts";
import { fakeServer } from "./_fake_server.ts";
import { runLoad, type StaggerUsed } from "./runner.ts";
import { summarizeLoad } from "./metrics.ts";
import { syntheticPrompts } from "./prompts.ts";

const prompts = (n: number) => syntheticPrompts(n, { inputTokens: 16, outputTokens: 5 });

Deno.test("runLoad() at concurrency 2 holds 2 requests at the server and times every token", async () => {
  const server = fakeServer({ ttftMs: 40, itlMs: 10, tokens: 5 });
  try {
    const records = await runLoad({
      endpoint: { baseUrl: server.baseUrl, model: "fake" },
      prompts: prompts(6),
      warmup: prompts(1),
      mode: { kind: "concurrency", concurrency: 2 },
    });
    assertEquals(records.length, 7);
    assertEquals(records.filter((r) => r.warmup).length, 1);
    assertEquals(server.peakInFlight(), 2);
    const s = summarizeLoad(records);
    assertEquals([s.completed, s.failed, s.totalOutputTokens, s.outputTokensSource], [
      6,
      0,
      30,
      "usage",
    ]);
    assertEquals(s.totalInputTokens, 6 * 7); // the server's usage.prompt_tokens wins
    assert(s.peakConcurrency <= 2 && s.peakConcurrency >= 1);
    for (const r of records.filter((x) => !x.warmup)) {
      assertEquals(r.itlMs.length, 4); // one gap between each of the 5 text chunks
      assert(r.ttftMs! >= 39, `TTFT ${r.ttftMs} below the server's scripted 40 ms`);
      assert(r.e2eMs! >= 79, `E2E ${r.e2eMs} below the scripted 40 + 4 × 10 ms`);
    }
    assertEquals(s.itlMs!.count, 24);
    // Every request asks for exact lengths and usage, streamed, greedy.
    const body = server.bodies[1]!;
    assertEquals([body.stream, body.max_tokens, body.temperature, body.ignore_eos], [
      true,
      5,
      0,
      true,
    ]);
    assertEquals(body.stream_options, { include_usage: true });
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() at a Poisson rate records failed requests with their reason and goes on", async () => {
  const server = fakeServer({ ttftMs: 5, itlMs: 2, tokens: 3, failEvery: 4 });
  try {
    const records = await runLoad({
      endpoint: { baseUrl: server.baseUrl, model: "fake", api: "chat" },
      prompts: prompts(8),
      mode: { kind: "rate", rate: 100, seed: 1 },
    });
    const s = summarizeLoad(records);
    assertEquals([s.completed, s.failed], [6, 2]);
    const [reason] = Object.keys(s.failures);
    assert(reason!.startsWith("HTTP 500") && reason!.includes("scripted failure"), reason);
    assert(records.every((r) => r.startS >= r.scheduledS - 0.001));
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() stops sending at --max-duration and records the rest as not sent", async () => {
  const server = fakeServer({ ttftMs: 1, itlMs: 1, tokens: 2 });
  try {
    const records = await runLoad({
      endpoint: { baseUrl: server.baseUrl, model: "fake" },
      prompts: prompts(5),
      mode: { kind: "rate", rate: 2, seed: 3 },
      maxDurationS: 0.3,
    });
    const notSent = records.filter((r) => r.error?.startsWith("not sent"));
    assert(notSent.length >= 3, `${notSent.length} not sent`);
    assert(server.bodies.length <= 2);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() against a closed port fails each request with the reason instead of throwing", async () => {
  const server = fakeServer({ ttftMs: 1, itlMs: 1, tokens: 1 });
  const url = server.baseUrl;
  await server.close();
  const records = await runLoad({
    endpoint: { baseUrl: url, model: "fake", timeoutMs: 2000 },
    prompts: prompts(2),
    mode: { kind: "concurrency", concurrency: 1 },
  });
  assert(records.every((r) => !r.ok && r.error !== null && r.httpStatus === null));
});

Deno.test("runLoad() at concurrency 2: workers start in lock-step only with stagger none; the starts are reported", async () => {
  // Requests of ~120 ms: longer than the stagger, so each worker's first request is the 1st/2nd.
  const server = fakeServer({ ttftMs: 100, itlMs: 10, tokens: 3 });
  try {
    const firstGap = async (stagger: Parameters<typeof runLoad>[0]["stagger"]) => {
      let used: StaggerUsed | null = null;
      const records = await runLoad({
        endpoint: { baseUrl: server.baseUrl, model: "fake" },
        prompts: prompts(4),
        warmup: prompts(1),
        mode: { kind: "concurrency", concurrency: 2 },
        ...(stagger ? { stagger } : {}),
        onStagger: (u) => used = u,
      });
      const starts = records.filter((r) => !r.warmup).map((r) => r.startS).sort((a, b) => a - b);
      return { gap: starts[1]! - starts[0]!, second: starts[1]!, used: used! as StaggerUsed };
    };
    const lockStep = await firstGap({ kind: "none" });
    // lower bounds only (a loaded machine delays sends, it never hastens them)
    assert(lockStep.gap < 0.075, `lock-step gap ${lockStep.gap}`);
    assertEquals(lockStep.used.offsetsS, [0, 0]);
    const fixed = await firstGap({ kind: "fixed", intervalS: 0.08 });
    assert(fixed.second >= 0.079, `second worker's start ${fixed.second}`);
    assertEquals(fixed.used.label, "fixed every 0.08 s");
    const jitter = await firstGap(undefined); // the default
    assertEquals(jitter.used.kind, "jitter");
    assert(jitter.used.windowS! >= 0.1, `window ${jitter.used.windowS}: the warmup's latency`);
    assert(jitter.second >= jitter.used.offsetsS[1]! - 0.001, `${jitter.second}`);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad(): input tokens are the tokenizer's exact count; a server's 0 is not taken; sampling is sent", async () => {
  const server = fakeServer({ ttftMs: 1, itlMs: 1, tokens: 2, promptTokens: 0 });
  try {
    const exact = prompts(2).map((p) => ({ ...p, tokens: 16 }));
    const records = await runLoad({
      endpoint: {
        baseUrl: server.baseUrl,
        model: "fake",
        sampling: { temperature: 0.7, topP: 0.9, seed: 5 },
      },
      prompts: [...exact, ...prompts(1)],
      mode: { kind: "concurrency", concurrency: 1 },
    });
    assertEquals(records.map((r) => [r.promptTokens, r.promptTokensSource]), [
      [16, "tokenizer"],
      [16, "tokenizer"],
      [null, null], // no tokenizer and a server reporting 0: unknown, not 0
    ]);
    assertEquals(server.bodies.map((b) => [b.temperature, b.top_p, b.seed]), [
      [0.7, 0.9, 5],
      [0.7, 0.9, 6],
      [0.7, 0.9, 7],
    ]);
  } finally {
    await server.close();
  }
});
