/**
 * The conversation benchmark: plays each conversation with prefix reuse on (a fresh
 * {@linkcode ChatSession} per conversation, one {@linkcode PrefixCache} shared by all of them)
 * and off (every turn prefills its whole prompt) on the same tokens — the off pass replays the
 * on pass's prompts — and writes one row per turn. A failing conversation becomes an error row
 * with its reason and the rest goes on.
 *
 * @module
 */
import type { DecoderModel } from "../engine/decoder.ts";
import { currentRssBytes } from "../measure/rss.ts";
import { playConversation, type PlayedTurn } from "./conversation.ts";
import { PrefixCache, type PrefixCacheOptions, type PrefixCacheStats } from "./prefix_cache.ts";
import type { ChatTurnRow } from "./rows.ts";
import { ChatSession } from "./session.ts";
import type { ChatTemplateName } from "./templates.ts";
import { messageText } from "./turn_text.ts";
import type { Conversation } from "./workload.ts";

/** Prefix reuse on or off. */
export type PrefixCacheMode = "on" | "off";

/** Options of {@linkcode runChatBench}. */
export interface ChatBenchOptions {
  /** Passes to run, in order. @default ["on", "off"] */
  modes?: readonly PrefixCacheMode[];
  /** Chat template. @default "auto" */
  template?: ChatTemplateName;
  /** Capacity of the shared prefix cache. @default unbounded */
  prefixCache?: PrefixCacheOptions;
  /** Unrecorded warmup turns (32-token prompt, 2 new tokens) before the first measurement. @default 1 */
  warmup?: number;
  /** Model reference written in each row. @default model.resolved.ref */
  modelRef?: string;
  /** Git commit written in each row. @default "unknown" */
  gitCommit?: string;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

/** What {@linkcode runChatBench} returns. */
export interface ChatBenchResult {
  /** One row per turn and pass (error rows for failed conversations). */
  rows: ChatTurnRow[];
  /** Counters of the shared prefix cache after the on pass (`null` without one). */
  prefixCache: PrefixCacheStats | null;
}

/**
 * Runs the conversation benchmark.
 *
 * @param model A loaded decoder (KV cache on the CPU).
 * @param conversations The conversations to play.
 * @param options Passes, template, cache capacity, warmup.
 * @returns Rows and the prefix cache's counters.
 * @example
 * ```ts ignore
 * import { loadWorkload, runChatBench } from "./mod.ts";
 * const { conversations } = await loadWorkload("data/conversations/default.json");
 * const { rows } = await runChatBench(model, conversations.slice(0, 1));
 * console.log(rows.map((r) => [r.prefix_cache, r.turn, r.ttft_ms]));
 * ```
 */
export async function runChatBench(
  model: DecoderModel,
  conversations: readonly Conversation[],
  options: ChatBenchOptions = {},
): Promise<ChatBenchResult> {
  const modes = options.modes ?? ["on", "off"];
  const tokenizer = model.resolved.tokenizer;
  const shared = modes.includes("on") ? new PrefixCache(options.prefixCache ?? {}) : null;
  const progress = options.onProgress ?? (() => {});
  const warm = messageText(tokenizer, "normal", 32);
  for (let i = 0; i < (options.warmup ?? 1); i++) {
    const ids = tokenizer.encode(warm);
    await new ChatSession(model, { reuse: false }).turn(ids, { maxNewTokens: 2 });
  }
  const rows: ChatTurnRow[] = [];
  for (const conversation of conversations) {
    const prompts: number[][] = [];
    const tokens = new Map<PrefixCacheMode, number[][]>();
    const mine: ChatTurnRow[] = [];
    for (const mode of modes) {
      const session = new ChatSession(model, {
        reuse: mode === "on",
        ...(mode === "on" && shared ? { prefixCache: shared } : {}),
      });
      const generated: number[][] = [];
      tokens.set(mode, generated);
      let reused = 0;
      let prompted = 0;
      let timestamp = new Date().toISOString();
      const base = {
        model: options.modelRef ?? model.resolved.ref,
        dtype: model.dtype,
        device: model.device,
        execution_provider: model.executionProvider,
        template: options.template ?? "auto",
        conversation: conversation.id,
        type: conversation.type,
        tags: conversation.tags.join(";"),
        prefix_cache: mode,
        git_commit: options.gitCommit ?? "unknown",
      } as const;
      const onTurn = (t: PlayedTurn) => {
        const r = t.result;
        reused += r.reusedTokens;
        prompted += r.promptTokens;
        generated.push(r.tokens);
        if (prompts.length < t.turn) prompts.push(t.prompt);
        mine.push({
          ...base,
          turn: t.turn,
          kind: t.kind,
          doc: t.doc,
          prompt_tokens: r.promptTokens,
          reused_tokens: r.reusedTokens,
          new_tokens: r.prefilledTokens,
          cut_tokens: r.cutTokens,
          reuse_source: r.source,
          generated_tokens: r.tokens.length,
          ttft_ms: r.ttftMs,
          decode_ms: r.decodeMs,
          decode_tokens_per_s: r.decodeTokensPerS,
          hit_rate: r.reusedTokens / r.promptTokens,
          cumulative_hit_rate: reused / prompted,
          rss_bytes: currentRssBytes(),
          tokens_match: null,
          status: "ok",
          error: null,
          timestamp,
        });
        progress(
          `${conversation.id} [prefix cache ${mode}] turn ${t.turn} ${t.kind}: ${r.promptTokens} prompt tokens, ${r.reusedTokens} reused, TTFT ${
            r.ttftMs.toFixed(1)
          } ms`,
        );
        timestamp = new Date().toISOString();
      };
      try {
        await playConversation(
          tokenizer,
          conversation,
          (prompt, n) => session.turn(prompt, { maxNewTokens: n }),
          {
            ...(options.template ? { template: options.template } : {}),
            ...(mode !== modes[0] ? { replay: prompts } : {}),
            onTurn,
          },
        );
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
        progress(`${conversation.id} [prefix cache ${mode}] failed: ${message}`);
        mine.push({
          ...base,
          turn: generated.length + 1,
          kind: conversation.turns[generated.length]?.kind ?? "unknown",
          doc: conversation.turns[generated.length]?.doc ?? null,
          prompt_tokens: null,
          reused_tokens: null,
          new_tokens: null,
          cut_tokens: null,
          reuse_source: null,
          generated_tokens: null,
          ttft_ms: null,
          decode_ms: null,
          decode_tokens_per_s: null,
          hit_rate: null,
          cumulative_hit_rate: null,
          rss_bytes: currentRssBytes(),
          tokens_match: null,
          status: "error",
          error: message,
          timestamp,
        });
      }
    }
    if (modes.length > 1) {
      const [a, b] = [tokens.get(modes[0]!)!, tokens.get(modes[1]!)!];
      for (const row of mine) {
        if (row.status !== "ok") continue;
        const i = row.turn - 1;
        row.tokens_match = a[i] !== undefined && b[i] !== undefined
          ? a[i]!.length === b[i]!.length && a[i]!.every((id, k) => id === b[i]![k])
          : null;
      }
    }
    rows.push(...mine);
  }
  return { rows, prefixCache: shared?.stats() ?? null };
}
