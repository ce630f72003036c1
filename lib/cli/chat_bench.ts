/**
 * `deno task chat-bench`: multi-turn conversation benchmark. Plays the conversations of a
 * workload (default `data/conversations/default.json`) that fit the context, with prefix reuse
 * on and off on the same prompts, and writes per-turn rows as CSV and JSON, a Markdown summary
 * and the TTFT-per-turn figure into `--output DIR`. `--list` prints the conversations and whether
 * each fits, and runs nothing.
 *
 * ```
 * deno task chat-bench --model preset:small --dtype q4 --context-size 2048 \
 *   --include-tags rag --output runs/chat
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { type PrefixCacheMode, runChatBench } from "../chat/bench.ts";
import { writeChatFigure } from "../chat/figure.ts";
import { writeAtomically, writeChatTurnsCsv } from "../chat/rows.ts";
import { selectConversations, templateOverhead } from "../chat/select.ts";
import { chatSummaryMarkdown, summarizeChat } from "../chat/summary.ts";
import { CHAT_TEMPLATE_NAMES, chatTemplateName, resolveChatTemplate } from "../chat/templates.ts";
import { loadWorkload } from "../chat/workload.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const DEFAULT_WORKLOAD = new URL("../../data/conversations/default.json", import.meta.url).pathname;

const USAGE = `Usage: deno task chat-bench --model REF [--dtype fp32] [--device cpu]
  [--workload data/conversations/default.json] [--context-size N] [--include-tags rag,long]
  [--max-conversations N] [--list] [--prefix-cache on|off|both] [--prefix-cache-tokens N]
  [--template auto] [--warmup 1] [--threads N] --output DIR

Writes DIR/chat_turns.csv, chat_turns.json, chat_summary.md, chat_ttft_per_turn.{vl.json,svg,png}.
dtypes: ${DTYPES.join(", ")}; devices: ${DEVICES.join(", ")}; templates: ${
  CHAT_TEMPLATE_NAMES.join(", ")
}`;

const FLAGS = {
  model: { type: "string" },
  dtype: { type: "string", default: "fp32" },
  device: { type: "string", default: "cpu" },
  workload: { type: "string" },
  "context-size": { type: "string" },
  "include-tags": { type: "string" },
  "max-conversations": { type: "string" },
  list: { type: "boolean", default: false },
  "prefix-cache": { type: "string", default: "both" },
  "prefix-cache-tokens": { type: "string" },
  template: { type: "string", default: "auto" },
  warmup: { type: "string" },
  threads: { type: "string" },
  output: { type: "string" },
} as const;

const MODES: Readonly<Record<string, PrefixCacheMode[]>> = Object.freeze({
  on: ["on"],
  off: ["off"],
  both: ["on", "off"],
});

function settings(args: readonly string[]) {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) return null;
  if (values.model === undefined) throw new TypeError("missing required flag --model");
  if (!isDtype(values.dtype)) {
    throw new RangeError(`'--dtype' is unknown: '${values.dtype}' (known: ${DTYPES.join(", ")})`);
  }
  if (!isDevice(values.device)) {
    throw new RangeError(
      `'--device' is unknown: '${values.device}' (known: ${DEVICES.join(", ")})`,
    );
  }
  const modes = MODES[values["prefix-cache"]];
  if (modes === undefined) {
    throw new RangeError(
      `'--prefix-cache' must be on, off or both, got ${JSON.stringify(values["prefix-cache"])}`,
    );
  }
  if (!values.list && values.output === undefined) {
    throw new TypeError("missing required flag --output (or --list to only list)");
  }
  const tags = values["include-tags"]?.split(",").map((t) => t.trim()).filter(Boolean) ?? [];
  if (values["include-tags"] !== undefined && tags.length === 0) {
    throw new RangeError("'--include-tags' must name at least one tag, got an empty list");
  }
  const capacity = values["prefix-cache-tokens"];
  return {
    model: values.model,
    dtype: values.dtype as Dtype,
    device: values.device,
    workload: values.workload ?? DEFAULT_WORKLOAD,
    contextSize: values["context-size"] === undefined
      ? null
      : intFlag(values["context-size"], "--context-size", { min: 1 }),
    tags,
    maxConversations: values["max-conversations"] === undefined
      ? null
      : intFlag(values["max-conversations"], "--max-conversations", { min: 1 }),
    list: values.list,
    modes,
    capacityTokens: capacity === undefined
      ? null
      : intFlag(capacity, "--prefix-cache-tokens", { min: 1 }),
    template: chatTemplateName(values.template),
    warmup: intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 }),
    threads: intFlag(values.threads, "--threads", { min: 0, fallback: 0 }),
    output: values.output ?? null,
  };
}

async function main(): Promise<number> {
  const s = settings(Deno.args);
  if (s === null) {
    console.log(USAGE);
    return 0;
  }
  const progress = (line: string) => console.error(line);
  const workload = await loadWorkload(s.workload);
  const resolved = await resolveModel(s.model, {
    ...(s.list ? {} : { dtypes: [s.dtype] }),
    onProgress: progress,
  });
  const template = resolveChatTemplate(resolved.tokenizer, s.template);
  const positions = resolved.config.maxPositions;
  const contextSize = Math.min(s.contextSize ?? positions, positions);
  const { fits, selected } = selectConversations(workload.conversations, {
    contextSize,
    includeTags: s.tags,
    ...(s.maxConversations === null ? {} : { maxConversations: s.maxConversations }),
    overheadPerMessage: templateOverhead(resolved.tokenizer, template),
  });
  if (s.list) {
    console.log(listing(fits, contextSize, positions));
    return 0;
  }
  if (selected.length === 0) {
    throw new RangeError(
      `no conversation of '${s.workload}' fits a context of ${contextSize} tokens${
        s.tags.length ? ` with tags ${s.tags.join(",")}` : ""
      } (see --list)`,
    );
  }
  progress(
    `${selected.length} conversation(s): ${
      selected.map((c) => c.id).join(", ")
    } (context ${contextSize})`,
  );
  progress(`loading ${s.model} (${s.dtype}) on ${s.device}`);
  const model = await loadDecoder(resolved, {
    dtype: s.dtype,
    device: s.device,
    threads: s.threads,
    gpuKvCache: false,
  });
  try {
    const info = await systemInfo();
    const result = await runChatBench(model, selected, {
      modes: s.modes,
      template,
      ...(s.capacityTokens === null ? {} : { prefixCache: { capacityTokens: s.capacityTokens } }),
      warmup: s.warmup,
      modelRef: s.model,
      gitCommit: info.gitCommit,
      onProgress: progress,
    });
    const summary = summarizeChat(result.rows);
    const deviceName = info.gpu && s.device !== "cpu" ? info.gpu.name : info.cpuModel;
    const cache = result.prefixCache;
    const cacheLine = cache === null
      ? undefined
      : `Shared prefix cache: ${cache.lookups} lookups, ${cache.hits} hits, ${cache.misses} misses, ${cache.evictions} evictions, token hit rate ${
        (cache.hitRate * 100).toFixed(1)
      } % (${cache.reusedTokens} of ${cache.promptTokens} prompt tokens).`;
    const markdown = chatSummaryMarkdown(summary, {
      model: s.model,
      dtype: s.dtype,
      executionProvider: model.executionProvider,
      deviceName,
      ...(cacheLine ? { prefixCache: cacheLine } : {}),
    });
    const dir = s.output!;
    const json = {
      timestamp: new Date().toISOString(),
      config: {
        model: s.model,
        dtype: s.dtype,
        device: s.device,
        execution_provider: model.executionProvider,
        workload: s.workload,
        context_size: contextSize,
        include_tags: s.tags,
        conversations: selected.map((c) => c.id),
        prefix_cache: s.modes,
        prefix_cache_tokens: s.capacityTokens,
        template,
        warmup: s.warmup,
        threads: s.threads,
      },
      prefix_cache: cache,
      summary,
      rows: result.rows,
      system_info: info,
    };
    // The figure first: if rendering fails, nothing has been written.
    await writeChatFigure(result.rows, dir, {
      subtitle: `${s.model}, ${s.dtype} on ${model.executionProvider} (${deviceName})`,
    });
    await writeChatTurnsCsv(join(dir, "chat_turns.csv"), result.rows);
    await writeAtomically(
      join(dir, "chat_turns.json"),
      (tmp) => Deno.writeTextFile(tmp, JSON.stringify(json, null, 2) + "\n"),
    );
    await writeAtomically(join(dir, "chat_summary.md"), (tmp) => Deno.writeTextFile(tmp, markdown));
    console.log(markdown);
    progress(`wrote ${dir}/chat_turns.csv, chat_turns.json, chat_summary.md, chat_ttft_per_turn.*`);
  } finally {
    await model.dispose();
  }
  return 0;
}

function listing(
  fits: ReturnType<typeof selectConversations>["fits"],
  contextSize: number,
  positions: number,
): string {
  const rows = [
    ["conversation", "type", "tags", "turns", "≈context", "fits"],
    ...fits.map((f) => [
      f.conversation.id,
      f.conversation.type,
      f.conversation.tags.join(","),
      String(f.conversation.turns.length),
      String(f.contextTokens),
      f.fits ? (f.tagged ? "yes" : "yes (tags differ)") : "no",
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return [
    `context size ${contextSize} tokens (model: ${positions} positions)`,
    ...rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()),
  ].join("\n");
}

if (import.meta.main) await runCli(main);
