/**
 * A load run: warmup requests one by one (never measured), then the measured requests sent on a
 * seeded arrival schedule (Poisson / gamma at a request rate) or by a fixed number of workers
 * (constant concurrency). Bounded in requests and in time; only the given URL is contacted.
 *
 * Workers of a constant-concurrency run would all send their first request at the same instant
 * and, when every request takes about as long, stay in lock-step (simultaneous arrivals). Their
 * starts are staggered instead (`stagger`): `jitter` (the default) delays each worker but the
 * first by a seeded uniform time within one mean request latency (measured on the warmup
 * requests; 1 s without them), `fixed` starts worker `w` at `w × interval`, `none` starts all at
 * once. The starts used are reported (`onStagger`) and written with the results.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";
import { arrivalTimes } from "./arrivals.ts";
import { type EndpointOptions, type RequestRecord, sendRequest } from "./client.ts";
import type { LoadPrompt } from "./prompts.ts";

/** How requests arrive. */
export type LoadMode =
  | { kind: "rate"; rate: number; burstiness?: number; seed?: number; maxConcurrency?: number }
  | { kind: "concurrency"; concurrency: number };

/** How the workers of a constant-concurrency run start. */
export type Stagger =
  | { kind: "none" }
  | { kind: "jitter"; seed?: number }
  | { kind: "fixed"; intervalS: number };

/** The starts a run used. */
export interface StaggerUsed {
  /** `none`, `jitter` or `fixed`. */
  kind: Stagger["kind"];
  /** Each worker's delay before its first request, s. */
  offsetsS: number[];
  /** Jitter: the window the delays were drawn in, s; else `null`. */
  windowS: number | null;
  /** One line for reports: `jitter within 0.42 s`, `fixed every 0.5 s`, `none (lock-step)`. */
  label: string;
}

/**
 * Each worker's start delay.
 *
 * @param stagger The choice.
 * @param workers How many workers.
 * @param meanLatencyS Mean latency of the warmup requests, s, or `null`.
 * @returns The delays and a label.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { staggerOffsets } from "./runner.ts";
 * assert.deepEqual(staggerOffsets({ kind: "fixed", intervalS: 0.5 }, 3, null).offsetsS, [0, 0.5, 1]);
 * const j = staggerOffsets({ kind: "jitter", seed: 1 }, 4, 0.2);
 * assert(j.offsetsS[0] === 0 && j.offsetsS.every((o) => o >= 0 && o < 0.2));
 * assert.equal(staggerOffsets({ kind: "none" }, 2, 1).label, "none (lock-step starts)");
 * ```
 */
export function staggerOffsets(
  stagger: Stagger,
  workers: number,
  meanLatencyS: number | null,
): StaggerUsed {
  if (stagger.kind === "none") {
    return {
      kind: "none",
      offsetsS: new Array(workers).fill(0),
      windowS: null,
      label: "none (lock-step starts)",
    };
  }
  if (stagger.kind === "fixed") {
    return {
      kind: "fixed",
      offsetsS: Array.from({ length: workers }, (_, w) => w * stagger.intervalS),
      windowS: null,
      label: `fixed every ${stagger.intervalS} s`,
    };
  }
  const windowS = meanLatencyS !== null && meanLatencyS > 0 ? meanLatencyS : 1;
  const random = mulberry32(stagger.seed ?? 42);
  return {
    kind: "jitter",
    offsetsS: Array.from({ length: workers }, (_, w) => (w === 0 ? 0 : random() * windowS)),
    windowS,
    label: `jitter within ${windowS.toFixed(3)} s${
      meanLatencyS !== null && meanLatencyS > 0 ? " (the warmups' mean latency)" : " (no warmup)"
    }`,
  };
}

/** Options of {@linkcode runLoad}. */
export interface LoadRunOptions {
  /** Server, model, API. */
  endpoint: EndpointOptions;
  /** Measured prompts, in order. */
  prompts: readonly LoadPrompt[];
  /** Warmup prompts, sent one at a time before the run and never measured. @default [] */
  warmup?: readonly LoadPrompt[];
  /** Arrivals. */
  mode: LoadMode;
  /** Stop sending after this many seconds; unsent requests are failures saying so. @default 600 */
  maxDurationS?: number;
  /** Called after each measured request. */
  onProgress?: (done: number, total: number, last: RequestRecord) => void;
  /** Constant concurrency: how workers start. @default { kind: "jitter" } */
  stagger?: Stagger;
  /** Constant concurrency: called with the starts used, before the first measured request. */
  onStagger?: (used: StaggerUsed) => void;
}

/** A human name of a mode, for rows and figures: `rate 4/s`, `rate inf`, `concurrency 2`. */
export function modeLabel(mode: LoadMode): string {
  if (mode.kind === "concurrency") return `concurrency ${mode.concurrency}`;
  const r = mode.rate === Infinity ? "inf" : `${mode.rate}/s`;
  return `rate ${r}${(mode.burstiness ?? 1) !== 1 ? ` burstiness ${mode.burstiness}` : ""}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Runs the load and returns one record per request (warmups first, marked).
 *
 * @param options What to send and how.
 * @returns The records.
 * @throws {RangeError} naming the flag for a bad concurrency, rate or duration.
 */
export async function runLoad(options: LoadRunOptions): Promise<RequestRecord[]> {
  const { endpoint, prompts, mode } = options;
  const maxDurationS = options.maxDurationS ?? 600;
  if (!(maxDurationS > 0)) {
    throw new RangeError(`'max-duration' must be positive, got ${maxDurationS}`);
  }
  if (
    mode.kind === "concurrency" && !(Number.isInteger(mode.concurrency) && mode.concurrency > 0)
  ) {
    throw new RangeError(`'concurrency' must be a positive integer, got ${mode.concurrency}`);
  }
  const records: RequestRecord[] = [];
  const warmStart = performance.now();
  for (const [i, p] of (options.warmup ?? []).entries()) {
    records.push(
      await sendRequest(
        { index: -1 - i, prompt: p.text, plannedPromptTokens: p.tokens, maxTokens: p.outputTokens },
        endpoint,
        { runStartMs: warmStart, scheduledS: 0, warmup: true, inFlight: 1 },
      ),
    );
  }
  const runStartMs = performance.now();
  const deadline = runStartMs + maxDurationS * 1000;
  let inFlight = 0;
  let done = 0;
  const measured: RequestRecord[] = new Array(prompts.length);
  const send = async (i: number, scheduledS: number) => {
    const p = prompts[i]!;
    if (performance.now() > deadline) {
      measured[i] = notSent(i, scheduledS, p, `not sent: --max-duration ${maxDurationS} s reached`);
    } else {
      inFlight++;
      const r = await sendRequest(
        { index: i, prompt: p.text, plannedPromptTokens: p.tokens, maxTokens: p.outputTokens },
        {
          ...endpoint,
          timeoutMs: Math.min(endpoint.timeoutMs ?? 120_000, deadline - performance.now() + 1000),
        },
        { runStartMs, scheduledS, warmup: false, inFlight },
      );
      inFlight--;
      measured[i] = r;
    }
    options.onProgress?.(++done, prompts.length, measured[i]!);
  };
  if (mode.kind === "concurrency") {
    const workers = Math.min(mode.concurrency, prompts.length);
    const warm = records.filter((r) => r.ok && r.e2eMs !== null);
    const used = staggerOffsets(
      options.stagger ?? { kind: "jitter" },
      workers,
      warm.length ? warm.reduce((a, r) => a + r.e2eMs!, 0) / warm.length / 1000 : null,
    );
    options.onStagger?.(used);
    let next = 0;
    const worker = async (w: number) => {
      await sleep(runStartMs + used.offsetsS[w]! * 1000 - performance.now());
      while (next < prompts.length) {
        const i = next++;
        await send(i, (performance.now() - runStartMs) / 1000);
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  } else {
    const times = arrivalTimes(prompts.length, {
      rate: mode.rate,
      ...(mode.burstiness !== undefined ? { burstiness: mode.burstiness } : {}),
      ...(mode.seed !== undefined ? { seed: mode.seed } : {}),
    });
    const cap = mode.maxConcurrency ?? Infinity;
    const pending: Promise<void>[] = [];
    const running = new Set<Promise<void>>();
    for (const [i, t] of times.entries()) {
      await sleep(runStartMs + t * 1000 - performance.now());
      while (running.size >= cap) await Promise.race(running);
      const p: Promise<void> = send(i, t).finally(() => running.delete(p));
      running.add(p);
      pending.push(p);
    }
    await Promise.all(pending);
  }
  return [...records, ...measured];
}

function notSent(index: number, scheduledS: number, p: LoadPrompt, error: string): RequestRecord {
  return {
    index,
    warmup: false,
    scheduledS,
    startS: scheduledS,
    ok: false,
    error,
    httpStatus: null,
    promptTokens: p.tokens,
    outputTokens: 0,
    outputTokensSource: "chunks",
    ttftMs: null,
    e2eMs: null,
    itlMs: [],
    inFlightAtStart: 0,
  };
}
