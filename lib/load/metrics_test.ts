import { assertEquals } from "../testing/assert.ts";
import { summarizeLoad } from "./metrics.ts";
import type { RequestRecord } from "./client.ts";

function rec(over: Partial<RequestRecord>): RequestRecord {
  return {
    index: 0,
    warmup: false,
    scheduledS: 0,
    startS: 0,
    ok: true,
    error: null,
    httpStatus: 200,
    promptTokens: 100,
    outputTokens: 1,
    outputTokensSource: "usage",
    ttftMs: 0,
    e2eMs: 0,
    itlMs: [],
    inFlightAtStart: 1,
    ...over,
  };
}

Deno.test("summarizeLoad() follows vLLM's definitions on scripted timings", () => {
  // A: sent at 0 s, first token at 100 ms, 5 tokens arriving every 50 ms → E2E 300 ms.
  // B: sent at 0.1 s, first token at 200 ms, 3 tokens, gaps 100 and 300 ms → E2E 600 ms.
  // C: sent at 0.2 s, one token only (no TPOT), E2E 150 ms.
  // D: failed. W: a warmup, never counted.
  const records = [
    rec({ index: 0, startS: 0, ttftMs: 100, e2eMs: 300, outputTokens: 5, itlMs: [50, 50, 50, 50] }),
    rec({
      index: 1,
      startS: 0.1,
      ttftMs: 200,
      e2eMs: 600,
      outputTokens: 3,
      itlMs: [100, 300],
      promptTokens: 50,
    }),
    rec({ index: 2, startS: 0.2, ttftMs: 150, e2eMs: 150, outputTokens: 1 }),
    rec({
      index: 3,
      startS: 0.3,
      ok: false,
      error: "HTTP 503",
      e2eMs: null,
      ttftMs: null,
      outputTokens: 0,
    }),
    rec({ index: -1, warmup: true, startS: -5, ttftMs: 9999, e2eMs: 9999, outputTokens: 99 }),
  ];
  const s = summarizeLoad(records, { ttftMs: 160, tpotMs: 60 });
  assertEquals([s.completed, s.failed, s.failures], [3, 1, { "HTTP 503": 1 }]);
  // Duration: first send (0 s) → last end (B: 0.1 + 0.6 = 0.7 s; D counts from its send at 0.3 s).
  assertEquals(s.durationS, 0.7);
  assertEquals(s.totalOutputTokens, 9);
  assertEquals(s.totalInputTokens, 250);
  assertEquals(s.outputThroughput, 9 / 0.7);
  assertEquals(s.requestThroughput, 3 / 0.7);
  // TTFT over A, B, C; TPOT = (E2E − TTFT)/(out − 1): A 50, B 200; C has none.
  assertEquals([s.ttftMs!.mean, s.ttftMs!.median], [150, 150]);
  assertEquals([s.tpotMs!.count, s.tpotMs!.mean], [2, 125]);
  // ITL pools every gap: 50 ×4, 100, 300.
  assertEquals([s.itlMs!.count, s.itlMs!.median], [6, 50]);
  assertEquals(s.itlMs!.p99, 300 - 0.05 * 200); // linear interpolation between 100 and 300
  assertEquals(s.e2eMs!.mean, 350);
  // Goodput: A (TTFT 100 ≤ 160, TPOT 50 ≤ 60) and C (TTFT 150, no TPOT) meet both; B does not.
  assertEquals(s.goodput!.requests, 2);
  // A [0, 0.3], B [0.1, 0.7], C [0.2, 0.35], D [0.3, 0.3] → 3 at once around 0.25 s.
  assertEquals(s.peakConcurrency, 3);
});

Deno.test("summarizeLoad() of a run where everything failed has no latencies, never zeros", () => {
  const s = summarizeLoad([rec({ ok: false, error: "x", e2eMs: null, ttftMs: null })]);
  assertEquals([s.ttftMs, s.tpotMs, s.itlMs, s.e2eMs, s.goodput], [null, null, null, null, null]);
  assertEquals(s.outputTokensSource, "none");
});
