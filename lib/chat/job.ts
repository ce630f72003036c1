/**
 * One conversation-benchmark job, as the `chat-bench` CLI and the sweep's optional conversation
 * pass run it: load the workload, resolve the model, choose the conversations that fit, load the
 * decoder, play them with prefix reuse on and/or off, and write `chat_turns.csv`,
 * `chat_turns.json`, `chat_summary.md` and the `chat_ttft_per_turn` figure into a directory.
 *
 * @module
 */
import { join } from "node:path";
import type { Device, Dtype } from "../dtypes.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { type PrefixCacheMode, runChatBench } from "./bench.ts";
import { writeChatFigure } from "./figure.ts";
import { type ChatTurnRow, writeAtomically, writeChatTurnsCsv } from "./rows.ts";
import { type ConversationFit, selectConversations, templateOverhead } from "./select.ts";
import { chatSummaryMarkdown, summarizeChat } from "./summary.ts";
import { type ChatTemplateName, resolveChatTemplate } from "./templates.ts";
import { type Conversation, loadWorkload } from "./workload.ts";

/** What a job runs. */
export interface ChatJob {
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: Dtype;
  /** Device. */
  device: Device;
  /** Conversation set file. */
  workload: string;
  /** Largest context, tokens (capped at the model's positions); null = the model's. */
  contextSize: number | null;
  /** Keep conversations with any of these tags (empty = all). */
  includeTags: readonly string[];
  /** Keep at most this many; null = all that fit. */
  maxConversations: number | null;
  /** Passes. */
  modes: readonly PrefixCacheMode[];
  /** Token capacity of the shared prefix cache; null = unbounded. */
  capacityTokens: number | null;
  /** Chat template. */
  template: ChatTemplateName;
  /** Warmups. */
  warmup: number;
  /** ORT intra-op threads (0 = default). */
  threads: number;
}

/** What {@linkcode planChatJob} found. */
export interface ChatPlan {
  /** The template the tokenizer gets. */
  template: Exclude<ChatTemplateName, "auto">;
  /** The model's positions. */
  positions: number;
  /** The context size used. */
  contextSize: number;
  /** Every conversation and whether it fits. */
  fits: ConversationFit[];
  /** The conversations to play. */
  selected: Conversation[];
}

/**
 * Resolves the model (tokenizer and config only) and chooses the conversations.
 *
 * @param job The job.
 * @param onProgress Progress lines.
 * @returns The plan.
 * @throws {RangeError} for a bad workload file, a model the resolver rejects, or a template the
 * tokenizer lacks.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planChatJob } from "./job.ts";
 * import { DEFAULT_WORKLOAD } from "./workload.ts";
 * const plan = await planChatJob({
 *   model: "preset:tiny", dtype: "fp32", device: "cpu", workload: DEFAULT_WORKLOAD,
 *   contextSize: null, includeTags: ["rag"], maxConversations: null, modes: ["on", "off"],
 *   capacityTokens: null, template: "auto", warmup: 0, threads: 0,
 * });
 * assert.equal(plan.contextSize, 512); // the tiny preset's positions
 * assert.deepEqual(plan.selected.map((c) => c.id), ["rag-short"]);
 * ```
 */
export async function planChatJob(
  job: ChatJob,
  onProgress: (line: string) => void = () => {},
): Promise<ChatPlan> {
  const workload = await loadWorkload(job.workload);
  // A tag no conversation has is a typo, not a context too small: say so before any model loads.
  const known = new Set(workload.conversations.flatMap((c) => c.tags));
  const unknown = job.includeTags.filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new RangeError(
      `'includeTags' ${unknown.join(",")}: no conversation of '${job.workload}' has ${
        unknown.length > 1 ? "these tags" : "this tag"
      } (its tags: ${[...known].sort().join(", ")})`,
    );
  }
  const resolved = await resolveModel(job.model, { onProgress });
  const template = resolveChatTemplate(resolved.tokenizer, job.template);
  const positions = resolved.config.maxPositions;
  const contextSize = Math.min(job.contextSize ?? positions, positions);
  const { fits, selected } = selectConversations(workload.conversations, {
    contextSize,
    includeTags: job.includeTags,
    ...(job.maxConversations === null ? {} : { maxConversations: job.maxConversations }),
    overheadPerMessage: templateOverhead(resolved.tokenizer, template),
  });
  return { template, positions, contextSize, fits, selected };
}

/**
 * Runs a job and writes its outputs into `dir` (each file atomically; the figure is rendered
 * first, so a failure before the writes leaves nothing).
 *
 * @param job The job.
 * @param dir Output directory.
 * @param onProgress Progress lines.
 * @returns The Markdown summary, the rows and the paths written.
 * @throws {RangeError} when no conversation fits; errors of loading the model. A conversation
 * that fails while playing becomes error rows instead.
 */
export async function runChatJob(
  job: ChatJob,
  dir: string,
  onProgress: (line: string) => void = () => {},
): Promise<{ markdown: string; rows: ChatTurnRow[]; files: string[] }> {
  const plan = await planChatJob(job, onProgress);
  if (plan.selected.length === 0) {
    throw new RangeError(
      `no conversation of '${job.workload}' fits a context of ${plan.contextSize} tokens${
        job.includeTags.length ? ` with tags ${job.includeTags.join(",")}` : ""
      } (see --list)`,
    );
  }
  onProgress(
    `${plan.selected.length} conversation(s): ${
      plan.selected.map((c) => c.id).join(", ")
    } (context ${plan.contextSize})`,
  );
  const resolved = await resolveModel(job.model, { dtypes: [job.dtype], onProgress });
  onProgress(`loading ${job.model} (${job.dtype}) on ${job.device}`);
  const model = await loadDecoder(resolved, {
    dtype: job.dtype,
    device: job.device,
    threads: job.threads,
    gpuKvCache: false,
  });
  try {
    const info = await systemInfo();
    const result = await runChatBench(model, plan.selected, {
      modes: job.modes,
      template: plan.template,
      ...(job.capacityTokens === null
        ? {}
        : { prefixCache: { capacityTokens: job.capacityTokens } }),
      warmup: job.warmup,
      modelRef: job.model,
      gitCommit: info.gitCommit,
      onProgress,
    });
    const summary = summarizeChat(result.rows);
    const deviceName = info.gpu && job.device !== "cpu" ? info.gpu.name : info.cpuModel;
    const cache = result.prefixCache;
    const cacheLine = cache === null
      ? undefined
      : `Shared prefix cache: ${cache.lookups} lookups, ${cache.hits} hits, ${cache.misses} misses, ${cache.evictions} evictions, token hit rate ${
        (cache.hitRate * 100).toFixed(1)
      } % (${cache.reusedTokens} of ${cache.promptTokens} prompt tokens).`;
    const markdown = chatSummaryMarkdown(summary, {
      model: job.model,
      dtype: job.dtype,
      executionProvider: model.executionProvider,
      deviceName,
      ...(cacheLine ? { prefixCache: cacheLine } : {}),
    });
    const json = {
      timestamp: new Date().toISOString(),
      config: {
        model: job.model,
        dtype: job.dtype,
        device: job.device,
        execution_provider: model.executionProvider,
        workload: job.workload,
        context_size: plan.contextSize,
        include_tags: job.includeTags,
        conversations: plan.selected.map((c) => c.id),
        prefix_cache: job.modes,
        prefix_cache_tokens: job.capacityTokens,
        template: plan.template,
        warmup: job.warmup,
        threads: job.threads,
      },
      prefix_cache: cache,
      summary,
      rows: result.rows,
      system_info: info,
    };
    // The figure first: if rendering fails, nothing has been written.
    const files = await writeChatFigure(result.rows, dir, {
      subtitle: `${job.model}, ${job.dtype} on ${model.executionProvider} (${deviceName})`,
    });
    const csv = join(dir, "chat_turns.csv");
    const jsonPath = join(dir, "chat_turns.json");
    const md = join(dir, "chat_summary.md");
    await writeChatTurnsCsv(csv, result.rows);
    await writeAtomically(
      jsonPath,
      (tmp) => Deno.writeTextFile(tmp, JSON.stringify(json, null, 2) + "\n"),
    );
    await writeAtomically(md, (tmp) => Deno.writeTextFile(tmp, markdown));
    return { markdown, rows: result.rows, files: [csv, jsonPath, md, ...files] };
  } finally {
    await model.dispose();
  }
}
