/**
 * The optional `conversations` block of a sweep spec (absent or null = no conversation pass, as in
 * `sweeps/default.json`): which dtypes to play on each model × device, which conversations
 * (workload file, tags, count, context size), which passes and template. Validation only, so
 * parsing a spec loads nothing heavy; the pass itself is `sweep_pass.ts`.
 *
 * ```json
 * "conversations": { "dtypes": ["q4"], "include_tags": ["rag"], "context_size": 2048 }
 * ```
 *
 * @module
 */
import { type Dtype, DTYPES, isDtype } from "../dtypes.ts";
import { CHAT_TEMPLATE_NAMES, type ChatTemplateName } from "./templates.ts";
import { DEFAULT_WORKLOAD } from "./workload.ts";

/** The `conversations` block of a sweep spec, defaults filled. */
export interface ConversationsSpec {
  /** Conversation set file. @default data/conversations/default.json */
  workload: string;
  /** Dtypes to play (each model × device). */
  dtypes: Dtype[];
  /** Keep conversations with any of these tags. @default [] (all) */
  include_tags: string[];
  /** At most this many conversations. @default null (all that fit) */
  max_conversations: number | null;
  /** Largest context, tokens. @default null (the model's positions) */
  context_size: number | null;
  /** Passes. @default "both" */
  prefix_cache: "on" | "off" | "both";
  /** Chat template. @default "auto" */
  template: ChatTemplateName;
  /** Warmups per job. @default 1 */
  warmup: number;
}

const KEYS = [
  "workload",
  "dtypes",
  "include_tags",
  "max_conversations",
  "context_size",
  "prefix_cache",
  "template",
  "warmup",
] as const;

/**
 * Validates a sweep spec's `conversations` block.
 *
 * @param value The block as parsed.
 * @param fail The spec's error reporter (JSON path, problem).
 * @returns The block, defaults filled.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseConversationsSpec } from "./sweep_spec.ts";
 * const fail = (p: string, m: string): never => { throw new TypeError(`${p} ${m}`); };
 * assert.equal(parseConversationsSpec({ dtypes: ["q4"] }, fail).prefix_cache, "both");
 * assert.throws(() => parseConversationsSpec({ dtypes: ["q3"] }, fail), /\$\.conversations\.dtypes\[0\]/);
 * ```
 */
export function parseConversationsSpec(
  value: unknown,
  fail: (path: string, problem: string) => never,
): ConversationsSpec {
  const at = "$.conversations";
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(at, `must be an object or null, got ${JSON.stringify(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      fail(`${at}.${key}`, `is not a known field (known: ${KEYS.join(", ")})`);
    }
  }
  const strings = (key: string, required: boolean): string[] => {
    const v = obj[key];
    if (v === undefined && !required) return [];
    if (!Array.isArray(v) || v.length === 0) {
      return fail(`${at}.${key}`, "must be a non-empty list");
    }
    return v.map((s, i) =>
      typeof s === "string" && s.length > 0
        ? s
        : fail(`${at}.${key}[${i}]`, `must be a non-empty string, got ${JSON.stringify(s)}`)
    );
  };
  const intOrNull = (key: string, min: number): number | null => {
    const v = obj[key];
    if (v === undefined || v === null) return null;
    return typeof v === "number" && Number.isInteger(v) && v >= min
      ? v
      : fail(`${at}.${key}`, `must be an integer >= ${min} or null, got ${JSON.stringify(v)}`);
  };
  const dtypes = strings("dtypes", true).map((d, i) =>
    isDtype(d) ? d : fail(`${at}.dtypes[${i}]`, `must be one of ${DTYPES.join(", ")}, got '${d}'`)
  );
  if (new Set(dtypes).size !== dtypes.length) fail(`${at}.dtypes`, "has duplicate entries");
  const pick = <T extends string>(key: string, known: readonly T[], fallback: T): T => {
    const v = obj[key];
    if (v === undefined) return fallback;
    return (known as readonly unknown[]).includes(v)
      ? v as T
      : fail(`${at}.${key}`, `must be one of ${known.join(", ")}, got ${JSON.stringify(v)}`);
  };
  const workload = obj.workload === undefined ? DEFAULT_WORKLOAD : obj.workload;
  if (typeof workload !== "string" || workload === "") {
    fail(`${at}.workload`, `must be a file path, got ${JSON.stringify(workload)}`);
  }
  return {
    workload: workload as string,
    dtypes,
    include_tags: strings("include_tags", false),
    max_conversations: intOrNull("max_conversations", 1),
    context_size: intOrNull("context_size", 1),
    prefix_cache: pick("prefix_cache", ["on", "off", "both"] as const, "both"),
    template: pick("template", CHAT_TEMPLATE_NAMES, "auto"),
    warmup: intOrNull("warmup", 0) ?? 1,
  };
}
