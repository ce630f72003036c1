/**
 * The per-turn row of a conversation benchmark and its one field list, which drives the CSV
 * (nodejs-polars, written atomically) and the JSON.
 *
 * @module
 */
import pl from "nodejs-polars";
import { dirname } from "node:path";

/** One measured turn (or a failed conversation, `status: "error"`). */
export interface ChatTurnRow {
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: string;
  /** Device asked for. */
  device: string;
  /** Execution provider that ran. */
  execution_provider: string;
  /** Chat template used. */
  template: string;
  /** Conversation id. */
  conversation: string;
  /** Conversation type. */
  type: string;
  /** Tags joined with `;`. */
  tags: string;
  /** `on`: cached prefixes reused; `off`: every turn prefills its whole prompt. */
  prefix_cache: "on" | "off";
  /** 1-based turn. */
  turn: number;
  /** Message kind. */
  kind: string;
  /** Document of a RAG turn, else null. */
  doc: string | null;
  /** Prompt length, tokens. */
  prompt_tokens: number | null;
  /** Prompt tokens whose KV cache was reused. */
  reused_tokens: number | null;
  /** Prompt tokens prefilled (prompt − reused). */
  new_tokens: number | null;
  /** Cached tokens dropped: the prompt diverged inside the cache (RAG removal) or was shorter. */
  cut_tokens: number | null;
  /** Where the reused prefix came from: none, session, shared. */
  reuse_source: string | null;
  /** Tokens generated. */
  generated_tokens: number | null;
  /** Time to first token: reuse lookup + cut + prefill + first argmax, ms. */
  ttft_ms: number | null;
  /** Tokens 2..N, ms. */
  decode_ms: number | null;
  /** (generated − 1) / decode_ms × 1000. */
  decode_tokens_per_s: number | null;
  /** reused / prompt tokens of this turn. */
  hit_rate: number | null;
  /** Σ reused / Σ prompt tokens of the conversation so far. */
  cumulative_hit_rate: number | null;
  /** Resident memory of the process after the turn, bytes. */
  rss_bytes: number | null;
  /** Whether the generated tokens equal the other pass's (null with one pass). */
  tokens_match: boolean | null;
  /** `ok` or `error`. */
  status: "ok" | "error";
  /** Why it failed. */
  error: string | null;
  /** Git commit of the code. */
  git_commit: string;
  /** Start of the turn, RFC 3339. */
  timestamp: string;
  /** How the engine kept the KV cache (`in_place`, `copy`; see lib/engine/kv_cache.ts). */
  kv_mode?: string | null;
}

/** Columns of `chat_turns.csv`, in order. */
export const CHAT_TURN_FIELDS = [
  "model",
  "dtype",
  "device",
  "execution_provider",
  "template",
  "conversation",
  "type",
  "tags",
  "prefix_cache",
  "turn",
  "kind",
  "doc",
  "prompt_tokens",
  "reused_tokens",
  "new_tokens",
  "cut_tokens",
  "reuse_source",
  "generated_tokens",
  "ttft_ms",
  "decode_ms",
  "decode_tokens_per_s",
  "hit_rate",
  "cumulative_hit_rate",
  "rss_bytes",
  "tokens_match",
  "status",
  "error",
  "git_commit",
  "timestamp",
  "kv_mode",
] as const satisfies readonly (keyof ChatTurnRow)[];

const INTEGER = new Set([
  "turn",
  "prompt_tokens",
  "reused_tokens",
  "new_tokens",
  "cut_tokens",
  "generated_tokens",
]);
const FLOAT = new Set([
  "ttft_ms",
  "decode_ms",
  "decode_tokens_per_s",
  "hit_rate",
  "cumulative_hit_rate",
  "rss_bytes",
]);

/**
 * Rows → a polars DataFrame with fixed column order and types.
 *
 * @param rows The rows.
 * @returns The frame ({@linkcode CHAT_TURN_FIELDS} columns).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAT_TURN_FIELDS, chatTurnFrame } from "./rows.ts";
 * assert.equal(chatTurnFrame([]).width, CHAT_TURN_FIELDS.length);
 * ```
 */
export function chatTurnFrame(rows: readonly ChatTurnRow[]): pl.DataFrame {
  return pl.DataFrame(CHAT_TURN_FIELDS.map((field) => {
    const type = INTEGER.has(field)
      ? pl.Int64
      : FLOAT.has(field)
      ? pl.Float64
      : field === "tokens_match"
      ? pl.Bool
      : pl.Utf8;
    return pl.Series(field, rows.map((r) => r[field] ?? null), type);
  }));
}

/**
 * Writes rows as CSV atomically (temp file in the same directory, then rename).
 *
 * @param path Destination.
 * @param rows The rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAT_TURN_FIELDS, writeChatTurnsCsv } from "./rows.ts";
 * const path = `${await Deno.makeTempDir()}/chat_turns.csv`;
 * await writeChatTurnsCsv(path, []);
 * assert.equal((await Deno.readTextFile(path)).trim(), CHAT_TURN_FIELDS.join(","));
 * ```
 */
export async function writeChatTurnsCsv(path: string, rows: readonly ChatTurnRow[]): Promise<void> {
  await writeAtomically(path, (tmp) => chatTurnFrame(rows).writeCSV(tmp));
}

/**
 * Writes a file through a temp file in its directory, then renames it: a reader sees the old
 * file or the new one, never half of one; no temp is left on error.
 *
 * @param path Destination.
 * @param write Writes the temp file.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeAtomically } from "./rows.ts";
 * const path = `${await Deno.makeTempDir()}/a.txt`;
 * await writeAtomically(path, (tmp) => Deno.writeTextFileSync(tmp, "x"));
 * assert.equal(await Deno.readTextFile(path), "x");
 * ```
 */
export async function writeAtomically(
  path: string,
  write: (tmp: string) => void | Promise<void>,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    await write(tmp);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
