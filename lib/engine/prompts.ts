/**
 * Synthetic prompts for the brief's three families, generated from a seed (never copied from a
 * dataset): `conversational` ("User: Explain … Assistant:"), `code` ("def quicksort…") and
 * `summary` ("Summarize the following article…"). Each prompt is a fixed head, seeded filler that
 * fits the family, and a fixed tail that hands over to the model; {@linkcode promptIds} cuts the
 * filler so the prompt is exactly the requested number of tokens, tail kept.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";
import type { Tokenizer } from "./resolve.ts";

/** The prompt families. */
export const PROMPT_FAMILIES = ["conversational", "code", "summary"] as const;

/** One of {@linkcode PROMPT_FAMILIES}. */
export type PromptFamily = typeof PROMPT_FAMILIES[number];

/** Default seed of the prompt generator (the brief's fixed seed). */
export const PROMPT_SEED = 42;

const TOPICS = [
  "how a key-value cache speeds up transformer decoding",
  "why quantization to four bits keeps most of a model's quality",
  "the difference between latency and throughput in a web service",
  "how a hash table resolves collisions",
  "what happens when a computer boots",
  "how tides follow the moon",
  "why the sky is blue at noon and red at sunset",
  "how vaccines train the immune system",
  "the trade-offs of caching in distributed databases",
  "how a compiler turns source code into machine code",
];
const SUBJECTS = [
  "the system",
  "each layer",
  "the scheduler",
  "a careful engineer",
  "the memory controller",
  "the research team",
  "the city council",
  "the new design",
  "every request",
  "the cache",
  "the river",
  "the committee",
  "the benchmark",
  "the network",
  "the model",
];
const VERBS = [
  "reduces",
  "measures",
  "reorganises",
  "doubles",
  "explains",
  "stores",
  "reuses",
  "predicts",
  "compresses",
  "balances",
  "tracks",
  "improves",
  "limits",
  "replaces",
  "schedules",
];
const OBJECTS = [
  "the cost of each step",
  "the latency of long requests",
  "a table of recent results",
  "the number of copies in memory",
  "the quality of the answers",
  "the budget for next year",
  "the flow of water in spring",
  "the load on the main server",
  "the size of every weight",
  "the order of the operations",
  "the time spent waiting",
  "the risk of a slow start",
];
const CLAUSES = [
  "because the same values are needed again",
  "while the rest of the work goes on",
  "without changing the final result",
  "so that users notice the difference",
  "as the context grows longer",
  "after the first measurement",
  "even on modest hardware",
  "when the input is large",
  "before the next batch arrives",
  "in most practical cases",
];
const IDENTIFIERS = [
  "items",
  "left",
  "right",
  "pivot",
  "result",
  "index",
  "count",
  "total",
  "buffer",
  "node",
  "value",
  "cache",
  "queue",
  "score",
  "limit",
  "window",
  "step",
  "offset",
  "width",
  "depth",
];

interface Template {
  head: (r: Rng) => string;
  filler: (r: Rng) => string;
  tail: string;
}

const TEMPLATES: Readonly<Record<PromptFamily, Template>> = Object.freeze({
  conversational: {
    head: (r) => `User: Explain ${pick(r, TOPICS)}. Here is some context.`,
    filler: (r) => ` ${sentence(r)}`,
    tail: "\nAssistant:",
  },
  code: {
    head: () =>
      "def quicksort(arr):\n    if len(arr) <= 1:\n        return arr\n    pivot = arr[len(arr) // 2]\n" +
      "    left = [x for x in arr if x < pivot]\n    right = [x for x in arr if x > pivot]\n" +
      "    return quicksort(left) + [x for x in arr if x == pivot] + quicksort(right)\n",
    filler: (r) => codeFunction(r),
    tail: "\n# Explain what the code above does.\n",
  },
  summary: {
    head: (r) => `Summarize the following article about ${pick(r, TOPICS)}.\n\n`,
    filler: (r) => `${sentence(r)}${r() < 0.15 ? "\n\n" : " "}`,
    tail: "\n\nSummary:",
  },
});

type Rng = () => number;

const rng: (seed: number) => Rng = mulberry32;

function pick<T>(r: Rng, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function sentence(r: Rng): string {
  const s = `${pick(r, SUBJECTS)} ${pick(r, VERBS)} ${pick(r, OBJECTS)} ${pick(r, CLAUSES)}.`;
  return s[0]!.toUpperCase() + s.slice(1);
}

function codeFunction(r: Rng): string {
  const name = `${pick(r, VERBS).replace(/s$/, "")}_${pick(r, IDENTIFIERS)}`;
  const a = pick(r, IDENTIFIERS);
  const b = pick(r, IDENTIFIERS);
  const n = 1 + Math.floor(r() * 9);
  return `\ndef ${name}(${a}, ${b}=${n}):\n    # ${
    sentence(r)
  }\n    ${b} = ${b} * ${n} + len(${a})\n` +
    `    for i in range(${b}):\n        ${a}.append(i % ${n + 1})\n    return ${a}\n`;
}

function seedOf(family: PromptFamily, promptIndex: number, seed: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${family}#${promptIndex}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/**
 * The text of a prompt: head, `units` filler units (sentences or functions), tail.
 *
 * @param family Prompt family.
 * @param units Filler units.
 * @param promptIndex Which prompt of the family (different indices, different text). @default 0
 * @param seed Generator seed. @default 42
 * @returns The text; the same arguments always give the same text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptText } from "./prompts.ts";
 * const text = promptText("conversational", 3);
 * assert(text.startsWith("User: Explain") && text.endsWith("Assistant:"));
 * ```
 */
export function promptText(
  family: PromptFamily,
  units: number,
  promptIndex = 0,
  seed = PROMPT_SEED,
): string {
  const template = TEMPLATES[checkFamily(family)];
  const r = rng(seedOf(family, promptIndex, seed));
  let text = template.head(r);
  for (let i = 0; i < units; i++) text += template.filler(r);
  return text + template.tail;
}

/**
 * Token ids of a synthetic prompt of exactly `tokens` tokens: BOS (when the tokenizer adds one),
 * the head and seeded filler cut to length, then the family's tail, so the model is asked to
 * answer whatever the length.
 *
 * @param tokenizer The model's tokenizer.
 * @param family Prompt family.
 * @param tokens Exact length in tokens.
 * @param promptIndex Which prompt of the family. @default 0
 * @param seed Generator seed. @default 42
 * @returns `tokens` ids.
 * @throws {RangeError} for an unknown family or a non-positive `tokens`.
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { promptIds, resolveModel } from "./mod.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * assert(promptIds(tokenizer, "code", 128).length === 128);
 * ```
 */
export function promptIds(
  tokenizer: Tokenizer,
  family: PromptFamily,
  tokens: number,
  promptIndex = 0,
  seed = PROMPT_SEED,
): number[] {
  checkFamily(family);
  if (!Number.isInteger(tokens) || tokens <= 0) {
    throw new RangeError(`Cannot build prompt: 'tokens' must be a positive integer, got ${tokens}`);
  }
  if (!Number.isInteger(promptIndex) || promptIndex < 0) {
    throw new RangeError(
      `Cannot build prompt: 'promptIndex' must be a non-negative integer, got ${promptIndex}`,
    );
  }
  const tail = tokenizer.encode(TEMPLATES[family].tail, { add_special_tokens: false });
  const keepTail = tokens > 2 * tail.length ? tail : [];
  const bodyTokens = tokens - keepTail.length;
  let units = Math.max(4, Math.ceil(bodyTokens / 8));
  for (;;) {
    const full = promptText(family, units, promptIndex, seed);
    const body = tokenizer.encode(full.slice(0, full.length - TEMPLATES[family].tail.length), {
      add_special_tokens: true,
    });
    if (body.length >= bodyTokens) return [...body.slice(0, bodyTokens), ...keepTail];
    units *= 2;
  }
}

function checkFamily(family: string): PromptFamily {
  if (!(PROMPT_FAMILIES as readonly string[]).includes(family)) {
    throw new RangeError(
      `Unknown prompt family '${family}' (known: ${PROMPT_FAMILIES.join(", ")})`,
    );
  }
  return family as PromptFamily;
}
