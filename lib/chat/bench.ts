/**
 * The conversation benchmark: plays each conversation with prefix reuse on (a fresh
 * {@linkcode ChatSession} per conversation, one {@linkcode PrefixCache} shared by all of them)
 * and off (every turn prefills its whole prompt), the two passes turn by turn on the same
 * prompt, and writes one row per turn and pass. A failing conversation becomes an error row
 * with its reason and the rest goes on.
 *
 * @module
 */
import type { DecoderModel } from "../engine/decoder.ts";
import { currentRssBytes } from "../measure/rss.ts";
import { playConversation } from "./conversation.ts";
import { PrefixCache, type PrefixCacheOptions, type PrefixCacheStats } from "./prefix_cache.ts";
import type { ChatTurnRow } from "./rows.ts";
import { ChatSession, type TurnResult } from "./session.ts";
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
  // Warmup: one turn from an empty cache and one that reuses it, so both graph shapes ran.
  const warm = tokenizer.encode(messageText(tokenizer, "normal", 32));
  for (let i = 0; i < (options.warmup ?? 1); i++) {
    const session = new ChatSession(model);
    const first = await session.turn(warm, { maxNewTokens: 2 });
    await session.turn([...warm, ...first.tokens, ...warm], { maxNewTokens: 2 });
  }
  const rows: ChatTurnRow[] = [];
  for (const conversation of conversations) {
    // The passes run turn by turn in lockstep on the same prompt (the history is built from the
    // first pass's replies), so both measure the same tokens under the same machine load.
    const passes = modes.map((mode) => ({
      mode,
      session: new ChatSession(model, {
        reuse: mode === "on",
        ...(mode === "on" && shared ? { prefixCache: shared } : {}),
      }),
      reused: 0,
      prompted: 0,
    }));
    const base = (mode: PrefixCacheMode) => ({
      model: options.modelRef ?? model.resolved.ref,
      dtype: model.dtype,
      device: model.device,
      execution_provider: model.executionProvider,
      kv_mode: model.kvMode,
      template: options.template ?? "auto",
      conversation: conversation.id,
      type: conversation.type,
      tags: conversation.tags.join(";"),
      prefix_cache: mode,
      git_commit: options.gitCommit ?? "unknown",
    });
    let turnIndex = 0;
    const run = async (prompt: readonly number[], n: number) => {
      const kind = conversation.turns[turnIndex]!.kind;
      const doc = conversation.turns[turnIndex]!.doc;
      turnIndex++;
      const results: TurnResult[] = [];
      const mine: ChatTurnRow[] = [];
      for (const pass of passes) {
        const timestamp = new Date().toISOString();
        const r = await pass.session.turn(prompt, { maxNewTokens: n });
        pass.reused += r.reusedTokens;
        pass.prompted += r.promptTokens;
        results.push(r);
        mine.push({
          ...base(pass.mode),
          turn: turnIndex,
          kind,
          doc,
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
          cumulative_hit_rate: pass.reused / pass.prompted,
          rss_bytes: currentRssBytes(),
          tokens_match: null,
          status: "ok",
          error: null,
          timestamp,
        });
        progress(
          `${conversation.id} turn ${turnIndex} ${kind} [prefix cache ${pass.mode}]: ${r.promptTokens} prompt tokens, ${r.reusedTokens} reused, TTFT ${
            r.ttftMs.toFixed(1)
          } ms`,
        );
      }
      const first = results[0]!.tokens;
      const same = results.every((r) =>
        r.tokens.length === first.length && r.tokens.every((id, k) => id === first[k])
      );
      for (const row of mine) row.tokens_match = passes.length > 1 ? same : null;
      rows.push(...mine);
      return results[0]!;
    };
    try {
      await playConversation(tokenizer, conversation, run, {
        ...(options.template ? { template: options.template } : {}),
      });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
      progress(`${conversation.id} failed at turn ${Math.max(turnIndex, 1)}: ${message}`);
      const turn = conversation.turns[Math.max(turnIndex - 1, 0)]!;
      for (const pass of passes) {
        rows.push({
          ...base(pass.mode),
          turn: Math.max(turnIndex, 1),
          kind: turn.kind,
          doc: turn.doc,
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
          timestamp: new Date().toISOString(),
        });
      }
    }
  }
  return { rows, prefixCache: shared?.stats() ?? null };
}
