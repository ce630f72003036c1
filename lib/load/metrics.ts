/**
 * Serving metrics with vLLM's `benchmark_serving` definitions, from per-request records:
 *
 * - **TTFT**: send → first chunk with generated text, per request.
 * - **TPOT**: (E2E − TTFT) / (output tokens − 1), per request with more than one output token.
 * - **ITL**: every gap between successive text chunks, pooled over all requests.
 * - **E2E**: send → end of the stream, per request.
 * - Each as mean, median, p90, p95, p99 (linear interpolation, numpy's default).
 * - **Throughput**: completed requests, output tokens and input + output tokens per second of the
 *   run's duration (first send → last end of the measured requests).
 * - **Goodput**: completed requests per second that met every given SLO (TTFT, TPOT, E2E in ms).
 * - **Peak concurrency**: most requests in flight at once (from the send/end intervals).
 *
 * @module
 */
import { summarize } from "../measure/stats.ts";
import type { RequestRecord } from "./client.ts";

/** Mean and percentiles of one latency, ms. */
export interface LatencyStats {
  /** Samples. */
  count: number;
  /** Mean. */
  mean: number;
  /** Median. */
  median: number;
  /** 90th percentile. */
  p90: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
}

/** Service-level objectives for goodput, ms; an absent one is not checked. */
export interface Slo {
  /** Largest acceptable TTFT. */
  ttftMs?: number;
  /** Largest acceptable TPOT. */
  tpotMs?: number;
  /** Largest acceptable E2E latency. */
  e2eMs?: number;
}

/** What a load run measured. */
export interface LoadSummary {
  /** Requests that completed (warmups excluded). */
  completed: number;
  /** Requests that failed. */
  failed: number;
  /** Failures by reason. */
  failures: Record<string, number>;
  /** First send → last end of the measured requests, s. */
  durationS: number;
  /** Σ prompt tokens of completed requests (`null` when a request's count is unknown). */
  totalInputTokens: number | null;
  /** Σ output tokens of completed requests. */
  totalOutputTokens: number;
  /** Where output token counts came from: the server's usage, counted chunks, or both. */
  outputTokensSource: "usage" | "chunks" | "mixed" | "none";
  /** Completed requests per second. */
  requestThroughput: number;
  /** Output tokens per second. */
  outputThroughput: number;
  /** Input + output tokens per second (`null` when input counts are unknown). */
  totalTokenThroughput: number | null;
  /** Time to first token. */
  ttftMs: LatencyStats | null;
  /** Time per output token (after the first). */
  tpotMs: LatencyStats | null;
  /** Inter-token latency, pooled. */
  itlMs: LatencyStats | null;
  /** End-to-end latency. */
  e2eMs: LatencyStats | null;
  /** Goodput under the SLOs, `null` when none was given. */
  goodput: { slo: Slo; requests: number; requestsPerS: number } | null;
  /** Most requests in flight at once. */
  peakConcurrency: number;
}

/**
 * Mean and percentiles, or `null` without samples.
 *
 * @param samples Values, ms.
 * @returns The stats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { latencyStats } from "./metrics.ts";
 * const s = latencyStats([10, 20, 30, 40, 50])!;
 * assert(s.mean === 30 && s.median === 30 && s.p90 === 46);
 * ```
 */
export function latencyStats(samples: readonly number[]): LatencyStats | null {
  if (samples.length === 0) return null;
  const s = summarize(samples);
  return { count: s.count, mean: s.mean, median: s.p50, p90: s.p90, p95: s.p95, p99: s.p99 };
}

/**
 * TPOT of one request: (E2E − TTFT) / (output tokens − 1), or `null` with fewer than two tokens.
 *
 * @param r A completed request.
 * @returns ms per output token after the first.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestTpotMs } from "./metrics.ts";
 * assert(requestTpotMs({ e2eMs: 250, ttftMs: 50, outputTokens: 21 }) === 10);
 * assert(requestTpotMs({ e2eMs: 50, ttftMs: 50, outputTokens: 1 }) === null);
 * ```
 */
export function requestTpotMs(
  r: Pick<RequestRecord, "e2eMs" | "ttftMs" | "outputTokens">,
): number | null {
  if (r.e2eMs === null || r.ttftMs === null || r.outputTokens < 2) return null;
  return (r.e2eMs - r.ttftMs) / (r.outputTokens - 1);
}

/**
 * Most intervals overlapping at one instant.
 *
 * @param intervals `[start, end]` pairs.
 * @returns The peak overlap.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakOverlap } from "./metrics.ts";
 * assert(peakOverlap([[0, 2], [1, 3], [2.5, 4], [5, 6]]) === 2);
 * ```
 */
export function peakOverlap(intervals: readonly (readonly [number, number])[]): number {
  const events = intervals.flatMap(([a, b]) => [[a, 1], [b, -1]] as [number, number][]);
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // an end before a start at the same instant
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, now += d);
  return peak;
}

/**
 * Summarises the measured (non-warmup) requests of a run.
 *
 * @param records Every request of the run.
 * @param slo Goodput objectives (none: no goodput).
 * @returns The summary.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeLoad } from "./metrics.ts";
 * const r = (i: number, startS: number) => ({
 *   index: i, warmup: false, scheduledS: startS, startS, ok: true, error: null, httpStatus: 200,
 *   promptTokens: 100, outputTokens: 11, outputTokensSource: "usage" as const,
 *   ttftMs: 100, e2eMs: 300, itlMs: Array(10).fill(20), inFlightAtStart: 1,
 * });
 * const s = summarizeLoad([r(0, 0), r(1, 0.2)], { ttftMs: 150 });
 * assert(s.tpotMs!.mean === 20 && s.durationS === 0.5 && s.outputThroughput === 44);
 * assert(s.goodput!.requests === 2 && s.peakConcurrency === 2);
 * ```
 */
export function summarizeLoad(records: readonly RequestRecord[], slo?: Slo): LoadSummary {
  const measured = records.filter((r) => !r.warmup);
  const ok = measured.filter((r) => r.ok && r.e2eMs !== null);
  const failures: Record<string, number> = {};
  for (const r of measured) {
    if (!r.ok) failures[r.error ?? "unknown"] = (failures[r.error ?? "unknown"] ?? 0) + 1;
  }
  const spans = measured.map((r) =>
    [r.startS, r.startS + (r.e2eMs ?? 0) / 1000] as [number, number]
  );
  const first = Math.min(...spans.map((s) => s[0]));
  const last = Math.max(...spans.map((s) => s[1]));
  const durationS = measured.length === 0 ? 0 : last - first;
  const outputs = ok.reduce((a, r) => a + r.outputTokens, 0);
  const inputs = ok.every((r) => r.promptTokens !== null)
    ? ok.reduce((a, r) => a + r.promptTokens!, 0)
    : null;
  const sources = new Set(ok.map((r) => r.outputTokensSource));
  const tpots = ok.map(requestTpotMs).filter((t): t is number => t !== null);
  const per = (x: number) => (durationS > 0 ? x / durationS : 0);
  let goodput: LoadSummary["goodput"] = null;
  if (slo && Object.keys(slo).length > 0) {
    const good = ok.filter((r) =>
      (slo.ttftMs === undefined || r.ttftMs! <= slo.ttftMs) &&
      (slo.e2eMs === undefined || r.e2eMs! <= slo.e2eMs) &&
      (slo.tpotMs === undefined || (requestTpotMs(r) ?? 0) <= slo.tpotMs)
    ).length;
    goodput = { slo, requests: good, requestsPerS: per(good) };
  }
  return {
    completed: ok.length,
    failed: measured.length - ok.length,
    failures,
    durationS,
    totalInputTokens: inputs,
    totalOutputTokens: outputs,
    outputTokensSource: sources.size === 0 ? "none" : sources.size > 1 ? "mixed" : [...sources][0]!,
    requestThroughput: per(ok.length),
    outputThroughput: per(outputs),
    totalTokenThroughput: inputs === null ? null : per(inputs + outputs),
    ttftMs: latencyStats(ok.map((r) => r.ttftMs!)),
    tpotMs: latencyStats(tpots),
    itlMs: latencyStats(ok.flatMap((r) => r.itlMs)),
    e2eMs: latencyStats(ok.map((r) => r.e2eMs!)),
    goodput,
    peakConcurrency: peakOverlap(spans),
  };
}
