/**
 * A load run: warmup requests one by one (never measured), then the measured requests sent on a
 * seeded arrival schedule (Poisson / gamma at a request rate) or by a fixed number of workers
 * (constant concurrency). Bounded in requests and in time; only the given URL is contacted.
 *
 * @module
 */
import { arrivalTimes } from "./arrivals.ts";
import { type EndpointOptions, type RequestRecord, sendRequest } from "./client.ts";
import type { LoadPrompt } from "./prompts.ts";

/** How requests arrive. */
export type LoadMode =
  | { kind: "rate"; rate: number; burstiness?: number; seed?: number; maxConcurrency?: number }
  | { kind: "concurrency"; concurrency: number };

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
    let next = 0;
    const worker = async () => {
      while (next < prompts.length) {
        const i = next++;
        await send(i, (performance.now() - runStartMs) / 1000);
      }
    };
    await Promise.all(Array.from({ length: Math.min(mode.concurrency, prompts.length) }, worker));
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
