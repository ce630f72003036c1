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
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { DEVICES, type Dtype, DTYPES, isDevice, isDtype } from "../dtypes.ts";
import type { PrefixCacheMode } from "../chat/bench.ts";
import { type ChatJob, planChatJob, runChatJob } from "../chat/job.ts";
import { DEFAULT_WORKLOAD } from "../chat/workload.ts";
import type { ConversationFit } from "../chat/select.ts";
import { CHAT_TEMPLATE_NAMES, chatTemplateName } from "../chat/templates.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

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
  const job: ChatJob = {
    model: values.model,
    dtype: values.dtype as Dtype,
    device: values.device,
    workload: values.workload ?? DEFAULT_WORKLOAD,
    contextSize: values["context-size"] === undefined
      ? null
      : intFlag(values["context-size"], "--context-size", { min: 1 }),
    includeTags: tags,
    maxConversations: values["max-conversations"] === undefined
      ? null
      : intFlag(values["max-conversations"], "--max-conversations", { min: 1 }),
    modes,
    capacityTokens: capacity === undefined
      ? null
      : intFlag(capacity, "--prefix-cache-tokens", { min: 1 }),
    template: chatTemplateName(values.template),
    warmup: intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 }),
    threads: intFlag(values.threads, "--threads", { min: 0, fallback: 0 }),
  };
  return { job, list: values.list, output: values.output ?? null };
}

async function main(): Promise<number> {
  const s = settings(Deno.args);
  if (s === null) {
    console.log(USAGE);
    return 0;
  }
  const progress = (line: string) => console.error(line);
  if (s.list) {
    const plan = await planChatJob(s.job, progress);
    console.log(listing(plan.fits, plan.contextSize, plan.positions));
    return 0;
  }
  const { markdown, files } = await runChatJob(s.job, s.output!, progress);
  console.log(markdown);
  progress(`wrote ${files.join(", ")}`);
  return 0;
}

function listing(
  fits: readonly ConversationFit[],
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
