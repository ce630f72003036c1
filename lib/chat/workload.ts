/**
 * Conversation workloads: the schema of the shipped conversation sets (`data/conversations/`,
 * documented in its README), strict validation whose errors name the field by its JSON path, and
 * the loader for `.json` (one object with `conversations`) and `.jsonl` (one conversation per
 * line).
 *
 * A conversation is a type by size, tags, an optional system prompt and turns. Every turn sends
 * one message (sizes in tokens of the model's tokenizer, the message content alone) and the model
 * replies with `reply_tokens` new tokens. Kinds:
 * - `normal`: a user message.
 * - `rag_data`: a retrieved document (`doc` names it) injected as a user message.
 * - `rag_query`: a user question about the documents in the history (needs one).
 * - `rag_removal`: the document `doc` and the reply to it are removed from the history, then a
 *   user message; the prompt now diverges inside the cached prefix.
 * - `continuation`: no message: the model continues its last reply (the prompt is the previous
 *   prompt plus its generated tokens).
 *
 * @module
 */
import { type Fail, integer, known, name, object } from "./_schema.ts";

/** Conversation types by size, after the brief's neighbouring tools. */
export const CONVERSATION_TYPES = [
  "simple_qa",
  "code_discussion",
  "deep_technical",
  "long",
] as const;

/** One of {@linkcode CONVERSATION_TYPES}. */
export type ConversationType = typeof CONVERSATION_TYPES[number];

/** Message kinds of a turn. */
export const TURN_KINDS = [
  "normal",
  "rag_data",
  "rag_query",
  "rag_removal",
  "continuation",
] as const;

/** One of {@linkcode TURN_KINDS}. */
export type TurnKind = typeof TURN_KINDS[number];

/** The shipped default conversation set (`data/conversations/default.json`). */
export const DEFAULT_WORKLOAD: string =
  new URL("../../data/conversations/default.json", import.meta.url).pathname;

/** The `format` string of a conversation set. */
export const WORKLOAD_FORMAT = "turbo-inference/conversations@1";

/** One turn. */
export interface ConversationTurn {
  /** What the turn sends. */
  kind: TurnKind;
  /** Tokens of the message content (0 only for `continuation`). */
  userTokens: number;
  /** New tokens the model generates. */
  replyTokens: number;
  /** Document name (`rag_data`, `rag_removal`), else `null`. */
  doc: string | null;
}

/** One conversation. */
export interface Conversation {
  /** Unique id in the set. */
  id: string;
  /** Type by size. */
  type: ConversationType;
  /** Tags (`rag`, `code`, `long`, …). */
  tags: string[];
  /** Tokens of the system prompt (0: none). */
  systemTokens: number;
  /** System prompts with the same id and size have the same text (shared across conversations). */
  systemId: string;
  /** Seed of the generated message texts. */
  seed: number;
  /** The turns, in order. */
  turns: ConversationTurn[];
}

/** A loaded conversation set. */
export interface Workload {
  /** What the set is for. */
  description: string;
  /** The conversations. */
  conversations: Conversation[];
}

const TOP_FIELDS = ["format", "description", "conversations"];
const CONVERSATION_FIELDS = ["id", "type", "tags", "system_tokens", "system_id", "seed", "turns"];
const TURN_FIELDS = ["kind", "user_tokens", "reply_tokens", "doc"];

/**
 * Validates a parsed conversation set (`{format, description?, conversations: [...]}`).
 *
 * @param raw The parsed JSON.
 * @param source File name for messages. @default "workload"
 * @returns The typed workload.
 * @throws {RangeError} with one line naming the file and the JSON path of the first bad field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkload } from "./workload.ts";
 * const w = parseWorkload({
 *   format: "turbo-inference/conversations@1",
 *   conversations: [{ id: "a", type: "simple_qa", tags: ["qa"], turns: [
 *     { kind: "normal", user_tokens: 20, reply_tokens: 8 },
 *   ] }],
 * });
 * assert.equal(w.conversations[0]!.turns[0]!.userTokens, 20);
 * assert.throws(
 *   () => parseWorkload({ format: "turbo-inference/conversations@1", conversations: [{ id: "a",
 *     type: "simple_qa", tags: [], turns: [{ kind: "normal", user_tokens: 0, reply_tokens: 8 }] }] }),
 *   /\$\.conversations\[0\]\.turns\[0\]\.user_tokens/,
 * );
 * ```
 */
export function parseWorkload(raw: unknown, source = "workload"): Workload {
  const fail = (path: string, message: string): never => {
    throw new RangeError(`Invalid conversations '${source}': ${path} ${message}`);
  };
  const top = object(raw, "$", fail);
  known(top, TOP_FIELDS, "$", fail);
  if (top.format !== WORKLOAD_FORMAT) {
    fail("$.format", `must be "${WORKLOAD_FORMAT}", got ${JSON.stringify(top.format)}`);
  }
  const description = top.description === undefined ? "" : top.description;
  if (typeof description !== "string") fail("$.description", "must be a string");
  if (!Array.isArray(top.conversations) || top.conversations.length === 0) {
    fail("$.conversations", "must be a non-empty array");
  }
  const conversations = (top.conversations as unknown[]).map((c, i) =>
    parseConversation(c, `$.conversations[${i}]`, fail)
  );
  const seen = new Map<string, number>();
  conversations.forEach((c, i) => {
    if (seen.has(c.id)) {
      fail(`$.conversations[${i}].id`, `'${c.id}' repeats $.conversations[${seen.get(c.id)}].id`);
    }
    seen.set(c.id, i);
  });
  return { description: description as string, conversations };
}

/**
 * Parses a conversation set from text: `.jsonl` is one conversation object per line (blank lines
 * skipped), anything else one JSON document.
 *
 * @param text The file's content.
 * @param source The file name (its extension picks the format; named in errors).
 * @returns The typed workload.
 * @throws {SyntaxError} naming the file (and line) for bad JSON; `RangeError` as
 * {@linkcode parseWorkload}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkloadText } from "./workload.ts";
 * const line = JSON.stringify({ id: "a", type: "long", tags: ["long"], turns: [
 *   { kind: "normal", user_tokens: 9, reply_tokens: 4 }] });
 * assert.equal(parseWorkloadText(line + "\n", "set.jsonl").conversations.length, 1);
 * ```
 */
export function parseWorkloadText(text: string, source: string): Workload {
  if (source.endsWith(".jsonl")) {
    const conversations = text.split("\n").flatMap((line, i) => {
      if (line.trim() === "") return [];
      try {
        return [JSON.parse(line)];
      } catch (error) {
        throw new SyntaxError(
          `Invalid conversations '${source}': line ${i + 1} is not JSON (${
            (error as Error).message
          })`,
        );
      }
    });
    return parseWorkload({ format: WORKLOAD_FORMAT, conversations }, source);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(
      `Invalid conversations '${source}': not JSON (${(error as Error).message})`,
    );
  }
  return parseWorkload(raw, source);
}

/**
 * Reads and validates a conversation set file.
 *
 * @param path A `.json` or `.jsonl` file.
 * @returns The typed workload.
 * @throws {RangeError} when the file is missing; as {@linkcode parseWorkloadText} otherwise.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWorkload } from "./workload.ts";
 * const w = await loadWorkload(new URL("../../data/conversations/default.json", import.meta.url).pathname);
 * assert(w.conversations.length > 0);
 * ```
 */
export async function loadWorkload(path: string): Promise<Workload> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new RangeError(`Cannot read conversations: '${path}' does not exist`);
  }
  return parseWorkloadText(text, path);
}

function parseConversation(
  raw: unknown,
  path: string,
  fail: Fail,
): Conversation {
  const c = object(raw, path, fail);
  known(c, CONVERSATION_FIELDS, path, fail);
  const id = name(c.id, `${path}.id`, fail);
  if (!(CONVERSATION_TYPES as readonly unknown[]).includes(c.type)) {
    fail(
      `${path}.type`,
      `must be one of ${CONVERSATION_TYPES.join(", ")}, got ${JSON.stringify(c.type)}`,
    );
  }
  if (!Array.isArray(c.tags)) fail(`${path}.tags`, "must be an array of names");
  const tags = (c.tags as unknown[]).map((t, i) => name(t, `${path}.tags[${i}]`, fail));
  const systemTokens = integer(c.system_tokens ?? 0, `${path}.system_tokens`, 0, fail);
  const systemId = c.system_id === undefined
    ? "default"
    : name(c.system_id, `${path}.system_id`, fail);
  const seed = integer(c.seed ?? 0, `${path}.seed`, 0, fail);
  if (!Array.isArray(c.turns) || c.turns.length === 0) {
    fail(`${path}.turns`, "must be a non-empty array");
  }
  const docs = new Set<string>();
  const everDocs = new Set<string>();
  const turns = (c.turns as unknown[]).map((t, i): ConversationTurn => {
    const at = `${path}.turns[${i}]`;
    const turn = object(t, at, fail);
    known(turn, TURN_FIELDS, at, fail);
    if (!(TURN_KINDS as readonly unknown[]).includes(turn.kind)) {
      fail(
        `${at}.kind`,
        `must be one of ${TURN_KINDS.join(", ")}, got ${JSON.stringify(turn.kind)}`,
      );
    }
    const kind = turn.kind as TurnKind;
    const replyTokens = integer(turn.reply_tokens, `${at}.reply_tokens`, 1, fail);
    let userTokens = 0;
    if (kind === "continuation") {
      if (i === 0) fail(`${at}.kind`, "'continuation' cannot be the first turn");
      if (turn.user_tokens !== undefined && turn.user_tokens !== 0) {
        fail(`${at}.user_tokens`, "must be absent for 'continuation' (it sends no message)");
      }
    } else userTokens = integer(turn.user_tokens, `${at}.user_tokens`, 1, fail);
    const wantsDoc = kind === "rag_data" || kind === "rag_removal";
    if (!wantsDoc && turn.doc !== undefined) {
      fail(`${at}.doc`, `is only for rag_data and rag_removal, not '${kind}'`);
    }
    const doc = wantsDoc ? name(turn.doc, `${at}.doc`, fail) : null;
    if (kind === "rag_data") {
      if (everDocs.has(doc!)) fail(`${at}.doc`, `'${doc}' was already injected`);
      docs.add(doc!);
      everDocs.add(doc!);
    } else if (kind === "rag_removal") {
      if (!docs.has(doc!)) fail(`${at}.doc`, `'${doc}' is not in the history (no rag_data before)`);
      docs.delete(doc!);
    } else if (kind === "rag_query" && docs.size === 0) {
      fail(`${at}.kind`, "'rag_query' needs a rag_data turn before it");
    }
    return { kind, userTokens, replyTokens, doc };
  });
  return { id, type: c.type as ConversationType, tags, systemTokens, systemId, seed, turns };
}
