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
import { contextTokens, type Conversation } from "./workload.ts";

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
