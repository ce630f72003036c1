/**
 * Sweep specs: the declarative inputs in `sweeps/*.json`. {@linkcode parseSweepSpec} validates a
 * parsed JSON value and names the JSON path of the first problem. The spec's types live in
 * `spec_types.ts` and are re-exported here.
 *
 * @module
 */
import { DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";
import { parseConversationsSpec } from "../chat/sweep_spec.ts";
import { parseEmbedSweepBlock } from "../embed/sweep_spec.ts";
import { asObject, int, type Json, list, num, optional, str } from "./_spec_fields.ts";
import {
  FAMILIES,
  type Family,
  type PerplexitySpec,
  PPL_METHODS,
  type SweepSpec,
} from "./spec_types.ts";

export * from "./spec_types.ts";

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
