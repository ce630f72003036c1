/**
 * Plays one conversation of a workload: builds each turn's prompt from the history through the
 * chat template (system prompt, generated messages of exact sizes, the model's decoded replies),
 * applies RAG injection and removal, and runs the turn.
 *
 * @module
 */
import type { Tokenizer } from "../engine/resolve.ts";
import type { TurnResult } from "./session.ts";
import { chatIds, type ChatMessage, type ChatTemplateName } from "./templates.ts";
import { messageText } from "./turn_text.ts";
import type { Conversation, TurnKind } from "./workload.ts";

/** Runs one turn: the prompt's ids and the reply's size → the result. */
export type TurnRunner = (prompt: readonly number[], replyTokens: number) => Promise<TurnResult>;

/** One played turn. */
export interface PlayedTurn {
  /** 1-based turn number. */
  turn: number;
  /** The turn's kind. */
  kind: TurnKind;
  /** Document of a `rag_data` / `rag_removal` turn, else `null`. */
  doc: string | null;
  /** The prompt's ids. */
  prompt: number[];
  /** The result. */
  result: TurnResult;
}

/** Options of {@linkcode playConversation}. */
export interface PlayOptions {
  /** Chat template. @default "auto" */
  template?: ChatTemplateName;
  /** Called after each turn. */
  onTurn?: (turn: PlayedTurn) => void;
}

interface HistoryMessage extends ChatMessage {
  doc: string | null;
}

/**
 * Plays a conversation turn by turn.
 *
 * @param tokenizer The model's tokenizer.
 * @param conversation From a workload.
 * @param run Runs one turn (a `ChatSession.turn` bound to the reply size).
 * @param options Template, progress.
 * @returns Every played turn; a failing turn rejects (the turns before it went to `onTurn`).
 * @example
 * ```ts ignore
 * import { ChatSession, loadWorkload, playConversation } from "./mod.ts";
 * const chat = new ChatSession(model);
 * const turns = await playConversation(model.resolved.tokenizer, workload.conversations[0]!,
 *   (prompt, n) => chat.turn(prompt, { maxNewTokens: n }));
 * ```
 */
export async function playConversation(
  tokenizer: Tokenizer,
  conversation: Conversation,
  run: TurnRunner,
  options: PlayOptions = {},
): Promise<PlayedTurn[]> {
  const template = options.template ?? "auto";
  const messages: HistoryMessage[] = [];
  if (conversation.systemTokens > 0) {
    messages.push({
      role: "system",
      content: messageText(tokenizer, "system", conversation.systemTokens, {
        seed: hash(`system#${conversation.systemId}`, 0),
      }),
      doc: null,
    });
  }
  const played: PlayedTurn[] = [];
  let lastReply: number[] = [];
  for (const [i, turn] of conversation.turns.entries()) {
    let prompt: number[];
    if (turn.kind === "continuation") {
      prompt = [...played.at(-1)!.prompt, ...lastReply];
    } else {
      if (turn.kind === "rag_removal") {
        for (let m = messages.length - 1; m >= 0; m--) {
          if (messages[m]!.doc === turn.doc) messages.splice(m, 1);
        }
      }
      messages.push({
        role: "user",
        content: messageText(tokenizer, turn.kind, turn.userTokens, {
          type: conversation.type,
          doc: turn.doc,
          seed: hash(`${conversation.id}#${i}`, conversation.seed),
        }),
        doc: turn.kind === "rag_data" ? turn.doc : null,
      });
      prompt = chatIds(tokenizer, messages.map(({ role, content }) => ({ role, content })), {
        template,
      });
    }
    const result = await run(prompt, turn.replyTokens);
    const entry: PlayedTurn = { turn: i + 1, kind: turn.kind, doc: turn.doc, prompt, result };
    played.push(entry);
    options.onTurn?.(entry);
    if (turn.kind === "continuation") {
      lastReply = [...lastReply, ...result.tokens];
      messages.at(-1)!.content = decode(tokenizer, lastReply);
    } else {
      lastReply = result.tokens;
      messages.push({
        role: "assistant",
        content: decode(tokenizer, lastReply),
        doc: turn.kind === "rag_data" ? turn.doc : null,
      });
    }
  }
  return played;
}

function decode(tokenizer: Tokenizer, ids: readonly number[]): string {
  return tokenizer.decode([...ids], { skip_special_tokens: true });
}

function hash(text: string, seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}
