/**
 * The load generator's command-line settings, validated: every bad value is one error naming the
 * flag, raised before any request is sent or any file written.
 *
 * @module
 */
import type { Slo } from "./metrics.ts";
import type { LoadSampling } from "./client.ts";
import type { LoadMode, Stagger } from "./runner.ts";

/** Raw flag values (strings as parsed). */
export interface LoadFlags {
  url?: string | undefined;
  model?: string | undefined;
  api?: string | undefined;
  "input-tokens"?: string | undefined;
  "output-tokens"?: string | undefined;
  "num-requests"?: string | undefined;
  "request-rate"?: string | undefined;
  burstiness?: string | undefined;
  concurrency?: string | undefined;
  warmup?: string | undefined;
  goodput?: string | undefined;
  prompts?: string | undefined;
  tokenizer?: string | undefined;
  seed?: string | undefined;
  "max-duration"?: string | undefined;
  timeout?: string | undefined;
  output?: string | undefined;
  stagger?: string | undefined;
  temperature?: string | undefined;
  "top-p"?: string | undefined;
  "top-k"?: string | undefined;
}

/** Validated settings. */
export interface LoadSettings {
  /** Base URL ending in `/v1`. */
  url: string;
  /** Model name to send. */
  model: string;
  /** `completions` or `chat`. */
  api: "completions" | "chat";
  /** Synthetic prompt length in tokens. */
  inputTokens: number;
  /** `max_tokens`. */
  outputTokens: number;
  /** Measured requests per setting. */
  numRequests: number;
  /** Each setting to run (several rates or concurrencies sweep). */
  modes: LoadMode[];
  /** Warmup requests per setting. */
  warmup: number;
  /** Goodput objectives, or `undefined`. */
  slo: Slo | undefined;
  /** JSONL prompts file, or `undefined` for synthetic prompts. */
  promptsFile: string | undefined;
  /** Tokenizer reference for exact token counts, or `undefined`. */
  tokenizer: string | undefined;
  /** Arrival seed. */
  seed: number;
  /** Longest a setting may send for, s. */
  maxDurationS: number;
  /** Per-request timeout, s. */
  timeoutS: number;
  /** Output directory. */
  output: string;
  /** Constant concurrency: how workers start. */
  stagger: Stagger;
  /** Sampling sent with each request (seeded from `seed`). */
  sampling: LoadSampling;
}

/** Most requests one setting may send. */
export const MAX_REQUESTS = 10_000;

function int(
  v: string | undefined,
  flag: string,
  fallback: number,
  min: number,
  max = Infinity,
): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(
      `'--${flag}' must be an integer ${
        max === Infinity ? `>= ${min}` : `from ${min} to ${max}`
      }, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

function positive(v: string, flag: string, allowInf = false): number {
  if (allowInf && v === "inf") return Infinity;
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) {
    throw new RangeError(
      `'--${flag}' must be a positive number${allowInf ? " or inf" : ""}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/**
 * Parses `ttft:MS,tpot:MS,e2e:MS` (any subset).
 *
 * @param text The flag's value.
 * @returns The objectives.
 * @throws {RangeError} naming `--goodput` for an unknown metric or a bad number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGoodput } from "./settings.ts";
 * assert.deepEqual(parseGoodput("ttft:200,tpot:50"), { ttftMs: 200, tpotMs: 50 });
 * ```
 */
export function parseGoodput(text: string): Slo {
  const out: Slo = {};
  for (const part of text.split(",")) {
    const [name, ms] = part.split(":");
    const key = ({ ttft: "ttftMs", tpot: "tpotMs", e2e: "e2eMs" } as const)[name?.trim() as "ttft"];
    if (key === undefined || ms === undefined) {
      throw new RangeError(`'--goodput' takes ttft:MS,tpot:MS,e2e:MS, got ${JSON.stringify(part)}`);
    }
    out[key] = positive(ms.trim(), "goodput");
  }
  return out;
}

/**
 * Validates the flags.
 *
 * @param f Raw flags.
 * @returns Settings.
 * @throws {RangeError | TypeError} one line naming the flag.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSettings } from "./settings.ts";
 * const s = loadSettings({ model: "m", concurrency: "1,2,4", output: "out" });
 * assert(s.url === "http://127.0.0.1:8000/v1" && s.modes.length === 3);
 * assert.equal(s.stagger.kind, "jitter"); // workers start at seeded offsets, not in lock-step
 * assert.equal(s.sampling.temperature, 0); // greedy unless --temperature asks otherwise
 * ```
 */
export function loadSettings(f: LoadFlags): LoadSettings {
  const url = f.url ?? "http://127.0.0.1:8000/v1";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`'--url' must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`'--url' must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (!f.model) throw new TypeError("missing required flag '--model' (the name the server serves)");
  if (!f.output) throw new TypeError("missing required flag '--output' (a directory)");
  const api = f.api ?? "completions";
  if (api !== "completions" && api !== "chat") {
    throw new RangeError(`'--api' must be completions or chat, got ${JSON.stringify(api)}`);
  }
  if (f["request-rate"] !== undefined && f.concurrency !== undefined) {
    throw new TypeError("give either '--request-rate' or '--concurrency', not both");
  }
  if (f.burstiness !== undefined && f["request-rate"] === undefined) {
    throw new TypeError("'--burstiness' needs '--request-rate'");
  }
  const seed = int(f.seed, "seed", 42, 0);
  if (f.stagger !== undefined && f["request-rate"] !== undefined) {
    throw new TypeError("'--stagger' applies to '--concurrency' runs, not '--request-rate'");
  }
  let stagger: Stagger = { kind: "jitter", seed };
  if (f.stagger === "none") stagger = { kind: "none" };
  else if (f.stagger !== undefined && f.stagger !== "jitter") {
    const interval = Number(f.stagger);
    if (!(Number.isFinite(interval) && interval > 0)) {
      throw new RangeError(
        `'--stagger' must be jitter, none or a positive number of seconds, got ${
          JSON.stringify(f.stagger)
        }`,
      );
    }
    stagger = { kind: "fixed", intervalS: interval };
  }
  const temperature = f.temperature === undefined ? 0 : Number(f.temperature);
  if (!(temperature >= 0 && temperature <= 2) || f.temperature === "") {
    throw new RangeError(
      `'--temperature' must be a number in 0..2, got ${JSON.stringify(f.temperature)}`,
    );
  }
  if (temperature === 0 && (f["top-p"] !== undefined || f["top-k"] !== undefined)) {
    throw new TypeError("'--top-p' and '--top-k' need '--temperature' above 0 (0 is greedy)");
  }
  const topP = f["top-p"] === undefined ? undefined : Number(f["top-p"]);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) {
    throw new RangeError(`'--top-p' must be a number in (0, 1], got ${JSON.stringify(f["top-p"])}`);
  }
  const topK = f["top-k"] === undefined ? undefined : int(f["top-k"], "top-k", 0, 1);
  const sampling: LoadSampling = {
    temperature,
    ...(temperature > 0 ? { seed } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(topK !== undefined ? { topK } : {}),
  };
  const burstiness = f.burstiness === undefined ? 1 : positive(f.burstiness, "burstiness");
  const modes: LoadMode[] = f["request-rate"] !== undefined
    ? f["request-rate"].split(",").map((r) => ({
      kind: "rate" as const,
      rate: positive(r.trim(), "request-rate", true),
      burstiness,
      seed,
    }))
    : (f.concurrency ?? "1").split(",").map((c) => ({
      kind: "concurrency" as const,
      concurrency: int(c.trim(), "concurrency", 1, 1, 1024),
    }));
  return {
    url: url.replace(/\/$/, ""),
    model: f.model,
    api,
    inputTokens: int(f["input-tokens"], "input-tokens", 512, 4),
    outputTokens: int(f["output-tokens"], "output-tokens", 128, 1),
    numRequests: int(f["num-requests"], "num-requests", 200, 1, MAX_REQUESTS),
    modes,
    warmup: int(f.warmup, "warmup", 2, 0, 100),
    slo: f.goodput === undefined ? undefined : parseGoodput(f.goodput),
    promptsFile: f.prompts,
    tokenizer: f.tokenizer,
    seed,
    maxDurationS: f["max-duration"] === undefined
      ? 600
      : positive(f["max-duration"], "max-duration"),
    timeoutS: f.timeout === undefined ? 120 : positive(f.timeout, "timeout"),
    output: f.output,
    stagger,
    sampling,
  };
}
