/**
 * Message texts of a conversation, generated from templates by a seed (never copied from a
 * dataset) and cut to an exact number of tokens of the model's tokenizer, as the synthetic
 * prompts are (`lib/engine/prompts.ts`). The count is of the message content tokenized alone
 * (no special tokens); the chat template adds its own tokens around it.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";
import type { Tokenizer } from "../engine/resolve.ts";
import type { ConversationType, TurnKind } from "./workload.ts";

/** What a message is, for its wording. */
export type MessageRole = "system" | Exclude<TurnKind, "continuation">;

const TOPICS = [
  "prefix caching in a chat server",
  "paged attention and KV-cache memory",
  "quantizing weights to four bits",
  "batching requests on one GPU",
  "speculative decoding",
  "rotary position embeddings",
  "the cost of long contexts",
  "retrieval-augmented generation",
  "tokenizers and byte-pair encoding",
  "measuring time to first token",
];
const SUBJECTS = [
  "the server",
  "the scheduler",
  "each request",
  "the attention layer",
  "the cache manager",
  "the tokenizer",
  "the retriever",
  "the benchmark",
  "the client",
  "the model",
];
const VERBS = [
  "reuses",
  "evicts",
  "measures",
  "stores",
  "splits",
  "reorders",
  "compresses",
  "streams",
  "validates",
  "predicts",
];
const OBJECTS = [
  "the blocks of the shared prefix",
  "the keys and values of earlier turns",
  "the latency of the first token",
  "the documents it retrieved",
  "the memory of idle sessions",
  "every token of the system prompt",
  "the order of incoming messages",
  "the size of the context window",
];
const CLAUSES = [
  "when the history grows",
  "before the next turn arrives",
  "without changing the answer",
  "as long as the prefix matches",
  "after a document is removed",
  "under a fixed memory budget",
  "in most real conversations",
  "even on a small machine",
];
const IDENTIFIERS = ["cache", "prefix", "tokens", "blocks", "session", "doc", "budget", "turn"];

type Rng = () => number;

function pick<T>(r: Rng, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function sentence(r: Rng): string {
  const s = `${pick(r, SUBJECTS)} ${pick(r, VERBS)} ${pick(r, OBJECTS)} ${pick(r, CLAUSES)}.`;
  return s[0]!.toUpperCase() + s.slice(1);
}

function codeBlock(r: Rng): string {
  const name = `${pick(r, VERBS).replace(/s$/, "")}_${pick(r, IDENTIFIERS)}`;
  const a = pick(r, IDENTIFIERS);
  const n = 2 + Math.floor(r() * 7);
  return `\ndef ${name}(${a}, limit=${n}):\n    # ${sentence(r)}\n` +
    `    kept = [x for x in ${a} if len(x) < limit]\n    return kept[:${n}]\n`;
}

/** Head of a message (fixed wording per role and type) and its filler units. */
function parts(role: MessageRole, type: ConversationType, doc: string | null, r: Rng) {
  const topic = pick(r, TOPICS);
  const code = type === "code_discussion";
  const filler = code && role !== "system" ? () => codeBlock(r) : () => ` ${sentence(r)}`;
  switch (role) {
    case "system":
      return { head: `You are a careful assistant who explains ${topic}.`, filler };
    case "normal":
      return {
        head: code
          ? `Here is some code about ${topic}; what does it do and how could it be faster?\n`
          : `Can you explain ${topic}? Here is what I know so far.`,
        filler,
      };
    case "rag_data":
      return { head: `Document ${doc}: notes on ${topic}.\n`, filler: () => ` ${sentence(r)}` };
    case "rag_query":
      return { head: `Using the documents above, answer this about ${topic}.`, filler };
    case "rag_removal":
      return { head: `Ignore document ${doc} from now on. Next question: ${topic}.`, filler };
    default: {
      const never: never = role;
      throw new TypeError(`unknown message role ${never}`);
    }
  }
}

/** Options of {@linkcode messageText}. */
export interface MessageTextOptions {
  /** Conversation type (code conversations get code). @default "simple_qa" */
  type?: ConversationType;
  /** Document name for `rag_data` / `rag_removal`. @default null */
  doc?: string | null;
  /** Seed: the same seed, role and size give the same text. @default 42 */
  seed?: number;
}

/**
 * A message text of exactly `tokens` tokens (content alone, no special tokens): a fixed head for
 * the role, then seeded filler, cut where the re-encoded text has exactly that many tokens.
 *
 * @param tokenizer The model's tokenizer.
 * @param role What the message is.
 * @param tokens Exact token count.
 * @param options Conversation type, document name, seed.
 * @returns The text; `tokenizer.encode(text, { add_special_tokens: false }).length === tokens`.
 * @throws {RangeError} for a non-positive `tokens`, or when no cut gives the exact count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageText } from "./turn_text.ts";
 * import { resolveModel } from "../engine/resolve.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * const text = messageText(tokenizer, "rag_data", 200, { doc: "manual" });
 * assert.equal(tokenizer.encode(text, { add_special_tokens: false }).length, 200);
 * ```
 */
export function messageText(
  tokenizer: Tokenizer,
  role: MessageRole,
  tokens: number,
  options: MessageTextOptions = {},
): string {
  if (!Number.isInteger(tokens) || tokens <= 0) {
    throw new RangeError(
      `Cannot write a message: 'tokens' must be a positive integer, got ${tokens}`,
    );
  }
  const r = mulberry32(options.seed ?? 42);
  const { head, filler } = parts(role, options.type ?? "simple_qa", options.doc ?? null, r);
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  let text = head;
  let ids = encode(text);
  while (ids.length < tokens + 8) {
    for (let i = 0; i < Math.max(1, Math.ceil((tokens + 8 - ids.length) / 10)); i++) {
      text += filler();
    }
    ids = encode(text);
  }
  // Cut the ids, decode, and keep the first cut whose text re-encodes to exactly `tokens` ids
  // (a cut inside a merge can re-encode shorter or longer).
  for (let extra = 0; extra <= 8; extra++) {
    for (const cut of [tokens + extra, tokens - extra]) {
      if (cut <= 0 || cut > ids.length) continue;
      const candidate = tokenizer.decode(ids.slice(0, cut), {
        skip_special_tokens: false,
        clean_up_tokenization_spaces: false,
      });
      if (encode(candidate).length === tokens) return candidate;
    }
  }
  throw new RangeError(`Cannot write a ${role} message of exactly ${tokens} tokens`);
}
