/**
 * Choosing conversations: by tags and by the context they need, against a context size (a
 * model's positions or a smaller `--context-size`). The context a conversation needs is its
 * content tokens at their fullest plus the chat template's tokens around each message, measured
 * on the model's tokenizer (an estimate: the model's replies are re-tokenized from their text).
 *
 * @module
 */
import type { Tokenizer } from "../engine/resolve.ts";
import { chatIds, type ChatTemplateName } from "./templates.ts";
import type { Conversation } from "./workload.ts";

/** A conversation and whether it fits. */
export interface ConversationFit {
  /** The conversation. */
  conversation: Conversation;
  /** Estimated tokens of its longest prompt plus reply, template included. */
  contextTokens: number;
  /** Whether `contextTokens` ≤ the context size. */
  fits: boolean;
  /** Whether it has one of the wanted tags (true without a tag filter). */
  tagged: boolean;
}

/** Options of {@linkcode selectConversations}. */
export interface SelectOptions {
  /** Largest context, tokens. */
  contextSize: number;
  /** Keep conversations with at least one of these tags. @default all */
  includeTags?: readonly string[];
  /** Keep at most this many (in file order). @default all */
  maxConversations?: number;
  /** Template tokens around one message. @default 0 */
  overheadPerMessage?: number;
}

/**
 * Every conversation with its estimated context, whether it fits and whether its tags match;
 * `selected` is those that do both, cut to `maxConversations`.
 *
 * @param conversations From a workload.
 * @param options Context size, tags, count, template overhead.
 * @returns All fits, and the selected conversations.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectConversations } from "./select.ts";
 * const c = (id: string, tokens: number, tags: string[]) => ({ id, type: "simple_qa" as const,
 *   tags, systemTokens: 0, systemId: "s", seed: 0,
 *   turns: [{ kind: "normal" as const, userTokens: tokens, replyTokens: 8, doc: null }] });
 * const { selected } = selectConversations([c("a", 100, ["qa"]), c("b", 900, ["rag"]),
 *   c("c", 50, ["rag"])], { contextSize: 512, includeTags: ["rag"] });
 * assert.deepEqual(selected.map((s) => s.id), ["c"]);
 * ```
 */
export function selectConversations(
  conversations: readonly Conversation[],
  options: SelectOptions,
): { fits: ConversationFit[]; selected: Conversation[] } {
  const tags = options.includeTags ?? [];
  const fits = conversations.map((conversation) => {
    const context = contextTokens(conversation, options.overheadPerMessage ?? 0);
    return {
      conversation,
      contextTokens: context,
      fits: context <= options.contextSize,
      tagged: tags.length === 0 || conversation.tags.some((t) => tags.includes(t)),
    };
  });
  const selected = fits.filter((f) => f.fits && f.tagged).map((f) => f.conversation)
    .slice(0, options.maxConversations ?? Infinity);
  return { fits, selected };
}

/**
 * Tokens a chat template adds around one user message, generation prompt included (BOS too,
 * when the template writes one): an upper bound per message for context estimates.
 *
 * @param tokenizer The model's tokenizer.
 * @param template The template.
 * @returns Tokens.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { templateOverhead } from "./select.ts";
 * import { resolveModel } from "../engine/resolve.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * // The tiny template: BOS, "user: " … "\n", "assistant: ".
 * assert(templateOverhead(tokenizer, "model") >= 3);
 * ```
 */
export function templateOverhead(tokenizer: Tokenizer, template: ChatTemplateName): number {
  const content = "hello";
  const wrapped = chatIds(tokenizer, [{ role: "user", content }], { template });
  return Math.max(
    0,
    wrapped.length - tokenizer.encode(content, { add_special_tokens: false }).length,
  );
}

/**
 * Content tokens of a conversation at its fullest: the largest sum, over turns, of the system
 * prompt, the messages and replies still in the history, and the turn's reply (template tokens
 * not counted: add `overheadPerMessage` for them).
 *
 * @param conversation A conversation.
 * @param overheadPerMessage Template tokens around each message. @default 0
 * @returns The most tokens the conversation's prompt plus reply reaches.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contextTokens } from "./select.ts";
 * const c = { id: "a", type: "simple_qa", tags: [], systemTokens: 10, systemId: "s", seed: 1,
 *   turns: [{ kind: "rag_data", userTokens: 100, replyTokens: 5, doc: "d" },
 *           { kind: "rag_removal", userTokens: 20, replyTokens: 5, doc: "d" }] } as const;
 * assert.equal(contextTokens({ ...c, tags: [], turns: [...c.turns] }), 10 + 100 + 5);
 * ```
 */
export function contextTokens(conversation: Conversation, overheadPerMessage = 0): number {
  const perMessage = (tokens: number) => tokens + overheadPerMessage;
  let history = conversation.systemTokens > 0 ? perMessage(conversation.systemTokens) : 0;
  const docs = new Map<string, number>();
  let most = 0;
  for (const turn of conversation.turns) {
    if (turn.kind === "rag_removal") {
      history -= docs.get(turn.doc!) ?? 0;
      docs.delete(turn.doc!);
    }
    if (turn.kind === "continuation") {
      most = Math.max(most, history + turn.replyTokens);
      history += turn.replyTokens;
      continue;
    }
    const added = perMessage(turn.userTokens);
    most = Math.max(most, history + added + overheadPerMessage + turn.replyTokens);
    const reply = perMessage(turn.replyTokens);
    if (turn.kind === "rag_data") docs.set(turn.doc!, added + reply);
    history += added + reply;
  }
  return most;
}
