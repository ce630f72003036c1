/**
 * What the per-turn rows say: per conversation, the time to first token with prefix reuse on and
 * off (turn by turn on the same prompts) and what reuse saves per turn; per message kind, the
 * same means and how much was reused, prefilled and cut (a RAG removal cuts the cache back to
 * where the document began); and the Markdown summary a run writes.
 *
 * @module
 */
import type { ChatTurnRow } from "./rows.ts";

/** One conversation's answer. */
export interface ConversationSummary {
  /** Conversation id. */
  conversation: string;
  /** Type by size. */
  type: string;
  /** Turns measured in both passes. */
  turns: number;
  /** Longest prompt of the conversation, tokens. */
  maxPromptTokens: number;
  /** Mean TTFT with reuse, ms (turns measured in both passes). */
  ttftOnMs: number | null;
  /** Mean TTFT without reuse, ms. */
  ttftOffMs: number | null;
  /** Mean of (off − on) per turn, ms. */
  savedMsPerTurn: number | null;
  /** savedMsPerTurn / ttftOffMs × 100. */
  savedPct: number | null;
  /** Σ reused / Σ prompt tokens of the on pass. */
  hitRate: number | null;
  /** Whether every turn generated the same tokens in both passes (`null` with one pass). */
  tokensMatch: boolean | null;
}

/** One message kind's answer (over all conversations). */
export interface KindSummary {
  /** Message kind. */
  kind: string;
  /** Turns of this kind (on pass). */
  turns: number;
  /** Mean TTFT with reuse, ms. */
  ttftOnMs: number | null;
  /** Mean TTFT without reuse, ms. */
  ttftOffMs: number | null;
  /** Mean prompt tokens. */
  promptTokens: number;
  /** Mean reused tokens (on pass). */
  reusedTokens: number;
  /** Mean prefilled tokens (on pass). */
  newTokens: number;
  /** Mean cached tokens cut (on pass). */
  cutTokens: number;
}

/** The summary of a run. */
export interface ChatSummary {
  /** Per conversation. */
  conversations: ConversationSummary[];
  /** Per message kind. */
  kinds: KindSummary[];
  /** Mean TTFT with reuse of the follow-up turns (turn > 1) of kind normal or rag_query, ms. */
  followUpTtftOnMs: number | null;
  /** Failed conversations. */
  errors: { conversation: string; prefixCache: string; turn: number; error: string }[];
}

const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Summarizes per-turn rows (ok rows only; errors listed apart).
 *
 * @param rows From `runChatBench` or `chat_turns.json`.
 * @returns Per conversation, per kind, and the errors.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeChat } from "./summary.ts";
 * const row = (prefix_cache: "on" | "off", turn: number, ttft_ms: number, reused_tokens: number) =>
 *   ({ conversation: "a", type: "simple_qa", prefix_cache, turn, kind: "normal", ttft_ms,
 *      prompt_tokens: 100, reused_tokens, new_tokens: 100 - reused_tokens, cut_tokens: 0,
 *      tokens_match: true, status: "ok" }) as never;
 * const s = summarizeChat([row("on", 1, 10, 0), row("on", 2, 4, 90), row("off", 1, 10, 0), row("off", 2, 12, 0)]);
 * assert.equal(s.conversations[0]!.savedMsPerTurn, 4); // (0 + 8) / 2
 * assert.equal(s.conversations[0]!.hitRate, 90 / 200);
 * ```
 */
export function summarizeChat(rows: readonly ChatTurnRow[]): ChatSummary {
  const ok = rows.filter((r) => r.status === "ok");
  const ids = [...new Set(rows.map((r) => r.conversation))];
  const key = (r: ChatTurnRow) => `${r.conversation}#${r.turn}`;
  const off = new Map(ok.filter((r) => r.prefix_cache === "off").map((r) => [key(r), r]));
  const on = ok.filter((r) => r.prefix_cache === "on");
  const conversations = ids.flatMap((id): ConversationSummary[] => {
    const mine = ok.filter((r) => r.conversation === id);
    if (mine.length === 0) return [];
    const pairs = on.filter((r) => r.conversation === id && off.has(key(r)))
      .map((r) => [r.ttft_ms!, off.get(key(r))!.ttft_ms!] as const);
    const onRows = mine.filter((r) => r.prefix_cache === "on");
    const ttftOnMs = mean(pairs.map(([a]) => a));
    const ttftOffMs = mean(pairs.map(([, b]) => b));
    const savedMsPerTurn = mean(pairs.map(([a, b]) => b - a));
    const prompted = onRows.reduce((a, r) => a + r.prompt_tokens!, 0);
    const matches = mine.map((r) => r.tokens_match).filter((m) => m !== null);
    return [{
      conversation: id,
      type: mine[0]!.type,
      turns: pairs.length,
      maxPromptTokens: Math.max(...mine.map((r) => r.prompt_tokens!)),
      ttftOnMs,
      ttftOffMs,
      savedMsPerTurn,
      savedPct: savedMsPerTurn !== null && ttftOffMs ? savedMsPerTurn / ttftOffMs * 100 : null,
      hitRate: prompted > 0 ? onRows.reduce((a, r) => a + r.reused_tokens!, 0) / prompted : null,
      tokensMatch: matches.length === 0 ? null : matches.every(Boolean),
    }];
  });
  const kinds = [...new Set(ok.map((r) => r.kind))].map((kind): KindSummary => {
    const onRows = on.filter((r) => r.kind === kind);
    const offRows = ok.filter((r) => r.prefix_cache === "off" && r.kind === kind);
    const base = onRows.length > 0 ? onRows : offRows;
    return {
      kind,
      turns: base.length,
      ttftOnMs: mean(onRows.map((r) => r.ttft_ms!)),
      ttftOffMs: mean(offRows.map((r) => r.ttft_ms!)),
      promptTokens: mean(base.map((r) => r.prompt_tokens!)) ?? 0,
      reusedTokens: mean(onRows.map((r) => r.reused_tokens!)) ?? 0,
      newTokens: mean(base.map((r) => r.new_tokens!)) ?? 0,
      cutTokens: mean(onRows.map((r) => r.cut_tokens!)) ?? 0,
    };
  });
  const errors = rows.filter((r) => r.status === "error").map((r) => ({
    conversation: r.conversation,
    prefixCache: r.prefix_cache,
    turn: r.turn,
    error: r.error ?? "",
  }));
  const followUpTtftOnMs = mean(
    on.filter((r) => r.turn > 1 && (r.kind === "normal" || r.kind === "rag_query"))
      .map((r) => r.ttft_ms!),
  );
  return { conversations, kinds, followUpTtftOnMs, errors };
}

/** What the Markdown summary's heading states. */
export interface ChatSummaryContext {
  /** Model reference. */
  model: string;
  /** Dtype. */
  dtype: string;
  /** Execution provider. */
  executionProvider: string;
  /** CPU / GPU name. */
  deviceName: string;
  /** Shared prefix cache's counters line, if any. */
  prefixCache?: string;
}

/**
 * The Markdown summary of a run: the two questions (how much reuse saves per turn, what removing
 * RAG data costs) answered with the numbers, then the tables.
 *
 * @param summary From {@linkcode summarizeChat}.
 * @param context Model, dtype, provider, device.
 * @returns Markdown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatSummaryMarkdown, summarizeChat } from "./summary.ts";
 * const md = chatSummaryMarkdown(summarizeChat([]), {
 *   model: "preset:tiny", dtype: "fp32", executionProvider: "cpu", deviceName: "x" });
 * assert(md.startsWith("# Conversations"));
 * ```
 */
export function chatSummaryMarkdown(summary: ChatSummary, context: ChatSummaryContext): string {
  const f = (x: number | null, digits = 1) => x === null ? "–" : x.toFixed(digits);
  const pct = (x: number | null) => x === null ? "–" : `${(x * 100).toFixed(1)} %`;
  const lines = [
    "# Conversations: prefix-cache reuse",
    "",
    `${context.model}, ${context.dtype} on ${context.executionProvider} (${context.deviceName}).`,
    "TTFT = reuse lookup + KV cut + prefill + first token. The on and off passes run turn by turn",
    "on the same prompt, so both measure the same tokens under the same load.",
    "",
  ];
  const saved = summary.conversations.filter((c) => c.savedMsPerTurn !== null);
  if (saved.length > 0) {
    lines.push("**How much does reusing the prefix save per turn?**");
    for (const c of saved) {
      lines.push(
        `- ${c.conversation} (${c.type}, up to ${c.maxPromptTokens} prompt tokens): ${
          f(c.savedMsPerTurn)
        } ms per turn (${f(c.savedPct)} % of ${f(c.ttftOffMs)} ms), token hit rate ${
          pct(c.hitRate)
        }.`,
      );
    }
    lines.push("");
  }
  const removal = summary.kinds.find((k) => k.kind === "rag_removal");
  if (removal && removal.ttftOnMs !== null) {
    lines.push(
      "**What does removing RAG data cost?**",
      `- A removal turn cuts ${f(removal.cutTokens, 0)} cached tokens on average and prefills ${
        f(removal.newTokens, 0)
      } of its ${f(removal.promptTokens, 0)} prompt tokens: TTFT ${
        f(removal.ttftOnMs)
      } ms with reuse (${f(removal.ttftOffMs)} ms without), against ${
        f(summary.followUpTtftOnMs)
      } ms for the follow-up normal and rag_query turns with reuse.`,
      "",
    );
  }
  if (context.prefixCache) lines.push(context.prefixCache, "");
  lines.push(
    "| conversation | type | turns | max prompt | TTFT on ms | TTFT off ms | saved ms/turn | saved % | hit rate | same tokens |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...summary.conversations.map((c) =>
      `| ${c.conversation} | ${c.type} | ${c.turns} | ${c.maxPromptTokens} | ${f(c.ttftOnMs)} | ${
        f(c.ttftOffMs)
      } | ${f(c.savedMsPerTurn)} | ${f(c.savedPct)} | ${pct(c.hitRate)} | ${
        c.tokensMatch === null ? "–" : c.tokensMatch ? "yes" : "**no**"
      } |`
    ),
    "",
    "| kind | turns | prompt tokens | reused | prefilled | cut | TTFT on ms | TTFT off ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...summary.kinds.map((k) =>
      `| ${k.kind} | ${k.turns} | ${f(k.promptTokens, 0)} | ${f(k.reusedTokens, 0)} | ${
        f(k.newTokens, 0)
      } | ${f(k.cutTokens, 0)} | ${f(k.ttftOnMs)} | ${f(k.ttftOffMs)} |`
    ),
  );
  if (summary.errors.length > 0) {
    lines.push(
      "",
      "Failed:",
      ...summary.errors.map((e) =>
        `- ${e.conversation} (prefix cache ${e.prefixCache}, turn ${e.turn}): ${e.error}`
      ),
    );
  }
  return lines.join("\n") + "\n";
}
