/**
 * Sweep specs: the declarative inputs in `sweeps/*.json`. {@linkcode parseSweepSpec} validates a
 * parsed JSON value and names the JSON path of the first problem.
 *
 * @module
 */
import { type Device, DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";
import { type ConversationsSpec, parseConversationsSpec } from "../chat/sweep_spec.ts";
import { type EmbedSweepSpec, parseEmbedSweepBlock } from "../embed/sweep_spec.ts";

/** Prompt families of the brief's workload. */
export const FAMILIES = ["conversational", "code", "summary"] as const;

/** One of {@linkcode FAMILIES}. */
export type Family = typeof FAMILIES[number];

/** Perplexity methods. */
export const PPL_METHODS = ["hf", "llama-cpp"] as const;

/** Perplexity settings of a sweep. */
export interface PerplexitySpec {
  /** Dtypes to evaluate (the first present of fp32, fp16 is the baseline). */
  dtypes: Dtype[];
  /** Window length in tokens. */
  window: number;
  /** Stride in tokens. */
  stride: number;
  /** Token cap on the text, or null for the whole split. */
  max_tokens: number | null;
  /** Scoring method. */
  method: typeof PPL_METHODS[number];
  /** WikiText-2 split. */
  split: "test" | "validation";
  /** Windows per forward. */
  batch: number;
  /** Hold only the baseline and one other dtype in memory at a time (large models). */
  pairwise: boolean;
}

/** A validated sweep spec. Axes are lists; the grid is their product. */
export interface SweepSpec {
  /** Name, used in progress output and the report. */
  name: string;
  /** Model references: Hub ids, local dirs or `preset:NAME`. */
  models: string[];
  /** Weight dtypes. */
  dtypes: Dtype[];
  /** Devices. */
  devices: Device[];
  /** KV cache modes. */
  use_cache: boolean[];
  /** Prompt lengths in tokens. */
  context_lengths: number[];
  /** Prompts per length (spread over the families round-robin). */
  prompts_per_length: number;
  /** Prompt families. */
  families: Family[];
  /** Tokens generated per run (EOS ignored). */
  max_new_tokens: number;
  /**
   * Tokens generated per run of a cache-off cell, or null for `max_new_tokens`: without the cache
   * every step recomputes the whole context, so shorter cache-off cells save the most time for
   * the least information.
   */
  max_new_tokens_no_cache: number | null;
  /** Discarded runs per cell before measuring. */
  warmup: number;
  /** Measured runs per prompt. */
  runs: number;
  /** Seed of the prompt generator and model presets. */
  seed: number;
  /** Batch sizes. */
  batch_sizes: number[];
  /** ORT intra-op threads (0 = ORT default). */
  threads: number;
  /** Wall-clock budget in seconds; cells not started when it runs out are left for a resume. */
  time_budget_s: number | null;
  /** A cell taking longer is killed and recorded as an error. */
  cell_timeout_s: number;
  /** Perplexity settings, or null to skip perplexity. */
  perplexity: PerplexitySpec | null;
  /** Optional conversation pass (`lib/chat`), or null to skip it. */
  conversations: ConversationsSpec | null;
  /** Embedding benchmark (lib/embed/sweep_spec.ts), or null (the default) to skip it. */
  embeddings: EmbedSweepSpec | null;
  /**
   * Milliseconds between telemetry samples of each cell's measured window (10–1000), or 0 for
   * no sampler at all (its thread costs decode speed on a 2-core machine: docs/telemetry.md).
   */
  telemetry_interval_ms: number;
  /**
   * The block's baseline arm: this dtype with the cache on. Every ratio of the block is taken to
   * it, and the A/A control is a second live worker of it. Defaults to fp16 when the grid has it,
   * else the first dtype.
   */
  baseline_dtype: Dtype;
  /**
   * Time floor of one repetition, seconds: it decodes until tokens 2..N have taken this long
   * (`max_new_tokens` / `max_new_tokens_no_cache` being the cap, at least one decode step), so a
   * repetition is long against the scheduler's time slices. 0: exactly the token count.
   */
  min_rep_seconds: number;
  /** Rounds every block runs before it may stop (settled or out of budget); default 1. */
  min_rounds: number;
  /** Rounds a block runs at most; default `min_rounds`. */
  max_rounds: number;
  /** Whether each block carries the A/A control (a second worker of the baseline arm); default false. */
  aa_control: boolean;
  /** Order of the arms in each round: `shuffle` (seeded, redrawn every round) or `rotate`. */
  round_order: "shuffle" | "rotate";
}

type Json = unknown;

const SPEC_KEYS = [
  "name",
  "description",
  "models",
  "dtypes",
  "devices",
  "use_cache",
  "context_lengths",
  "prompts_per_length",
  "families",
  "max_new_tokens",
  "max_new_tokens_no_cache",
  "warmup",
  "runs",
  "seed",
  "batch_sizes",
  "threads",
  "time_budget_s",
  "cell_timeout_s",
  "perplexity",
  "conversations",
  "embeddings",
  "telemetry_interval_ms",
  // The designed experiment (rounds over live arms).
  "baseline_dtype",
  "min_rep_seconds",
  "min_rounds",
  "max_rounds",
  "aa_control",
  "round_order",
] as const;

/** Longest `cell_timeout_s` accepted, seconds (a week). */
const MAX_CELL_TIMEOUT_S = 7 * 24 * 3600;

const PPL_KEYS = [
  "dtypes",
  "window",
  "stride",
  "max_tokens",
  "method",
  "split",
  "batch",
  "pairwise",
] as const;

/**
 * Validates a parsed sweep spec, filling defaults for optional fields.
 *
 * @param value The parsed JSON.
 * @param source File name used in error messages. @default "sweep spec"
 * @returns The typed spec.
 * @throws {TypeError} naming the JSON path (`$.dtypes[2]`) and the problem.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["preset:tiny"], dtypes: ["q4"], context_lengths: [128] });
 * assert(spec.runs === 10 && spec.warmup === 5 && spec.seed === 42);
 * ```
 */
export function parseSweepSpec(value: Json, source = "sweep spec"): SweepSpec {
  const fail = (path: string, problem: string): never => {
    throw new TypeError(`Invalid ${source}: ${path} ${problem}`);
  };
  const obj = asObject(value, "$", fail);
  for (const key of Object.keys(obj)) {
    if (!(SPEC_KEYS as readonly string[]).includes(key)) {
      fail(`$.${key}`, `is not a known field (known: ${SPEC_KEYS.join(", ")})`);
    }
  }
  const ints = (key: string, min: number, fallback?: number[]) =>
    list(obj, key, fail, fallback, (v, p) => int(v, p, min, fail));
  const spec: SweepSpec = {
    name: optional(obj.name, "$.name", "default", (v, p) => str(v, p, fail)),
    models: list(obj, "models", fail, undefined, (v, p) => str(v, p, fail)),
    dtypes: list(obj, "dtypes", fail, undefined, (v, p) => {
      const s = str(v, p, fail);
      return isDtype(s) ? s : fail(p, `must be one of ${DTYPES.join(", ")}, got '${s}'`);
    }),
    devices: list(obj, "devices", fail, ["cpu"], (v, p) => {
      const s = str(v, p, fail);
      return isDevice(s) ? s : fail(p, `must be one of ${DEVICES.join(", ")}, got '${s}'`);
    }),
    use_cache: list(
      obj,
      "use_cache",
      fail,
      [true, false],
      (v, p) =>
        typeof v === "boolean" ? v : fail(p, `must be true or false, got ${JSON.stringify(v)}`),
    ),
    context_lengths: ints("context_lengths", 1),
    prompts_per_length: optional(
      obj.prompts_per_length,
      "$.prompts_per_length",
      50,
      (v, p) => int(v, p, 1, fail),
    ),
    families: list(obj, "families", fail, [...FAMILIES], (v, p) => {
      const s = str(v, p, fail);
      return (FAMILIES as readonly string[]).includes(s)
        ? s as Family
        : fail(p, `must be one of ${FAMILIES.join(", ")}, got '${s}'`);
    }),
    max_new_tokens: optional(
      obj.max_new_tokens,
      "$.max_new_tokens",
      64,
      (v, p) => int(v, p, 1, fail),
    ),
    max_new_tokens_no_cache: optional(
      obj.max_new_tokens_no_cache,
      "$.max_new_tokens_no_cache",
      null,
      (v, p) => v === null ? null : int(v, p, 1, fail),
    ),
    warmup: optional(obj.warmup, "$.warmup", 5, (v, p) => int(v, p, 0, fail)),
    runs: optional(obj.runs, "$.runs", 10, (v, p) => int(v, p, 1, fail)),
    seed: optional(obj.seed, "$.seed", 42, (v, p) => int(v, p, 0, fail)),
    batch_sizes: ints("batch_sizes", 1, [1]),
    threads: optional(obj.threads, "$.threads", 0, (v, p) => int(v, p, 0, fail)),
    time_budget_s: optional(
      obj.time_budget_s,
      "$.time_budget_s",
      null,
      (v, p) => v === null ? null : num(v, p, fail),
    ),
    cell_timeout_s: optional(obj.cell_timeout_s, "$.cell_timeout_s", 1800, (v, p) => {
      const s = num(v, p, fail);
      // setTimeout cannot wait longer than 2^31 − 1 ms (~24.8 days); a week is plenty for a cell.
      return s <= MAX_CELL_TIMEOUT_S
        ? s
        : fail(p, `must be <= ${MAX_CELL_TIMEOUT_S} (a week), got ${s}`);
    }),
    perplexity: obj.perplexity === undefined || obj.perplexity === null
      ? null
      : parsePerplexity(obj.perplexity, fail),
    conversations: obj.conversations === undefined || obj.conversations === null
      ? null
      : parseConversationsSpec(obj.conversations, fail),
    embeddings: parseEmbedSweepBlock(obj.embeddings, fail),
    telemetry_interval_ms: optional(
      obj.telemetry_interval_ms,
      "$.telemetry_interval_ms",
      0,
      (v, p) => {
        const ms = v === 0 ? 0 : num(v, p, fail);
        return ms === 0 || (ms >= 10 && ms <= 1000)
          ? ms
          : fail(p, `must be 0 (off) or between 10 and 1000 (ms), got ${ms}`);
      },
    ),
    ...parseExperiment(obj, fail),
  };
  for (const [key, values] of Object.entries(spec)) {
    if (Array.isArray(values) && new Set(values).size !== values.length) {
      fail(`$.${key}`, "has duplicate entries");
    }
  }
  const pplDtypes = spec.perplexity?.dtypes ?? [];
  if (new Set(pplDtypes).size !== pplDtypes.length) {
    fail("$.perplexity.dtypes", "has duplicate entries");
  }
  return spec;
}

/** The designed experiment's keys: baseline arm, time floor, rounds, A/A control, order. */
function parseExperiment(
  obj: Record<string, Json>,
  fail: (p: string, m: string) => never,
): Pick<
  SweepSpec,
  "baseline_dtype" | "min_rep_seconds" | "min_rounds" | "max_rounds" | "aa_control" | "round_order"
> {
  const dtypes = Array.isArray(obj.dtypes) ? obj.dtypes as string[] : [];
  const fallback = (dtypes.includes("fp16") ? "fp16" : dtypes[0]) as Dtype;
  const baseline = optional(obj.baseline_dtype, "$.baseline_dtype", fallback, (v, p) => {
    const s = str(v, p, fail);
    return dtypes.includes(s) ? s as Dtype : fail(p, `must be one of $.dtypes, got '${s}'`);
  });
  // A spec opts into the rounds and the A/A control (the committed specs do); without the keys a
  // block runs one round, like a plain list of cells.
  const minRounds = optional(obj.min_rounds, "$.min_rounds", 1, (v, p) => int(v, p, 1, fail));
  const maxRounds = optional(obj.max_rounds, "$.max_rounds", minRounds, (v, p) => {
    const n = int(v, p, 1, fail);
    return n >= minRounds ? n : fail(p, `must be >= $.min_rounds (${minRounds}), got ${n}`);
  });
  return {
    baseline_dtype: baseline,
    min_rep_seconds: optional(obj.min_rep_seconds, "$.min_rep_seconds", 0.3, (v, p) => {
      if (v === 0) return 0;
      const s = num(v, p, fail);
      return s <= 60 ? s : fail(p, `must be between 0 and 60 (seconds), got ${s}`);
    }),
    min_rounds: minRounds,
    max_rounds: maxRounds,
    aa_control: optional(
      obj.aa_control,
      "$.aa_control",
      false,
      (v, p) =>
        typeof v === "boolean" ? v : fail(p, `must be true or false, got ${JSON.stringify(v)}`),
    ),
    round_order: optional(obj.round_order, "$.round_order", "shuffle" as const, (v, p) => {
      const s = str(v, p, fail);
      return s === "shuffle" || s === "rotate"
        ? s
        : fail(p, `must be shuffle or rotate, got '${s}'`);
    }),
  };
}

function parsePerplexity(value: Json, fail: (p: string, m: string) => never): PerplexitySpec {
  const obj = asObject(value, "$.perplexity", fail);
  for (const key of Object.keys(obj)) {
    if (!(PPL_KEYS as readonly string[]).includes(key)) {
      fail(`$.perplexity.${key}`, `is not a known field (known: ${PPL_KEYS.join(", ")})`);
    }
  }
  const window = optional(obj.window, "$.perplexity.window", 512, (v, p) => int(v, p, 2, fail));
  const method = optional(obj.method, "$.perplexity.method", "hf" as const, (v, p) => {
    const s = str(v, p, fail);
    return (PPL_METHODS as readonly string[]).includes(s)
      ? s as typeof PPL_METHODS[number]
      : fail(p, `must be one of ${PPL_METHODS.join(", ")}, got '${s}'`);
  });
  // llama-perplexity's windows do not overlap: its stride is the window.
  const defaultStride = method === "llama-cpp" ? window : Math.floor(window / 2);
  const stride = optional(
    obj.stride,
    "$.perplexity.stride",
    defaultStride,
    (v, p) => int(v, p, 1, fail),
  );
  if (stride > window) {
    fail("$.perplexity.stride", `must be <= window (${window}), got ${stride}`);
  }
  if (method === "llama-cpp" && stride !== window) {
    fail(
      "$.perplexity.stride",
      `must equal window (${window}) with method llama-cpp, got ${stride}`,
    );
  }
  return {
    dtypes: list(obj, "dtypes", fail, undefined, (v, p) => {
      const s = str(v, p, fail);
      return isDtype(s) ? s : fail(p, `must be one of ${DTYPES.join(", ")}, got '${s}'`);
    }, "$.perplexity"),
    window,
    stride,
    max_tokens: optional(
      obj.max_tokens,
      "$.perplexity.max_tokens",
      null,
      (v, p) => v === null ? null : int(v, p, 2, fail),
    ),
    method,
    split: optional(obj.split, "$.perplexity.split", "test" as const, (v, p) => {
      const s = str(v, p, fail);
      return s === "test" || s === "validation"
        ? s
        : fail(p, `must be test or validation, got '${s}'`);
    }),
    batch: optional(obj.batch, "$.perplexity.batch", 1, (v, p) => int(v, p, 1, fail)),
    pairwise: optional(
      obj.pairwise,
      "$.perplexity.pairwise",
      false,
      (v, p) =>
        typeof v === "boolean" ? v : fail(p, `must be true or false, got ${JSON.stringify(v)}`),
    ),
  };
}

function asObject(
  value: Json,
  path: string,
  fail: (p: string, m: string) => never,
): Record<string, Json> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(path, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, Json>;
}

function list<T>(
  obj: Record<string, Json>,
  key: string,
  fail: (p: string, m: string) => never,
  fallback: T[] | undefined,
  item: (v: Json, path: string) => T,
  prefix = "$",
): T[] {
  const path = `${prefix}.${key}`;
  const value = obj[key];
  if (value === undefined) {
    return fallback !== undefined ? fallback : fail(path, "is required");
  }
  if (!Array.isArray(value)) return fail(path, `must be a list, got ${describe(value)}`);
  if (value.length === 0) return fail(path, "must not be empty");
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

function optional<T>(value: Json, path: string, fallback: T, parse: (v: Json, p: string) => T): T {
  return value === undefined ? fallback : parse(value, path);
}

function str(value: Json, path: string, fail: (p: string, m: string) => never): string {
  return typeof value === "string" && value.length > 0
    ? value
    : fail(path, `must be a non-empty string, got ${describe(value)}`);
}

function int(value: Json, path: string, min: number, fail: (p: string, m: string) => never) {
  return typeof value === "number" && Number.isInteger(value) && value >= min
    ? value
    : fail(path, `must be an integer >= ${min}, got ${describe(value)}`);
}

function num(value: Json, path: string, fail: (p: string, m: string) => never): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? value
    : fail(path, `must be a positive number, got ${describe(value)}`);
}

function describe(value: Json): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/**
 * Reads and validates a sweep spec file.
 *
 * @param path A `sweeps/*.json` file.
 * @returns The typed spec.
 * @throws {TypeError} naming the file and the JSON path; `SyntaxError` for invalid JSON.
 */
export async function loadSweepSpec(path: string): Promise<SweepSpec> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.IsADirectory ||
          (error as Error).message.includes("os error 21")
      ? "it is a directory, not a JSON file"
      : (error as Error).message.split("\n")[0];
    throw new TypeError(`Cannot read sweep spec '${path}': ${why}`);
  }
  // A byte-order mark (some Windows editors write one) is not JSON: drop it.
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Invalid sweep spec ${path}: ${(error as Error).message}`);
  }
  return parseSweepSpec(value, path);
}
