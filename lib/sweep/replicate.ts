/**
 * Whether the sweep's answers replicate: the three questions (is 4-bit faster, the sweet spot, is
 * the KV cache worth it) read from two or more consecutive runs' `metrics/final_report.json`,
 * compared run against run, and rendered as the Markdown section docs/measurement.md carries
 * between its `replicate` markers. `deno task replicate` runs the sweeps; this module only reads
 * and compares.
 *
 * @module
 */

/** The three answers of one model in one run. */
export interface Answers {
  /** Model reference. */
  model: string;
  /** The 4-bit verdict (`yes`, `no`, `within_noise`, …), or `not established`. */
  four_bit_faster: string;
  /** The sweet spot's dtype when settled, else `not established`. */
  sweet_spot: string;
  /** `yes` / `no` whether the cache is faster at every length, or `not established`. */
  cache_worth_it: string;
}

/** One run of the replication. */
export interface ReplicateRun {
  /** Wall time of the whole command, seconds. */
  seconds: number;
  /** When it ended (RFC 3339). */
  ended: string;
  /** Its answers, one entry per model. */
  answers: Answers[];
}

/** The replication's result (`benchmarks/replicate.json`). */
export interface Replication {
  /** The command that was run each time. */
  command: string;
  /** Git commit of the project. */
  git_commit: string;
  /** The runs, in order. */
  runs: ReplicateRun[];
  /** Per question, whether every run gave the same answer for every model. */
  agree: { four_bit_faster: boolean; sweet_spot: boolean; cache_worth_it: boolean };
}

const NOT_ESTABLISHED = "not established";

type Json = Record<string, unknown>;

/**
 * The three answers of each model of a `final_report.json`.
 *
 * @param report The parsed file.
 * @returns One entry per model of its `extended` section.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answersOf } from "./replicate.ts";
 * const report = { extended: { m: {
 *   sweet_spot: { dtype: "q4" }, sweet_spot_settled: false,
 *   checks: { four_bit_verdict: { value: "yes" }, cache_faster_at_every_length: { value: true } },
 * } } };
 * assert.deepEqual(answersOf(report), [
 *   { model: "m", four_bit_faster: "yes", sweet_spot: "not established", cache_worth_it: "yes" },
 * ]);
 * ```
 */
export function answersOf(report: Json): Answers[] {
  const extended = (report.extended ?? {}) as Record<string, Json>;
  return Object.entries(extended).map(([model, e]) => {
    const checks = (e.checks ?? {}) as Record<string, { value?: unknown } | undefined>;
    const four = checks.four_bit_verdict?.value;
    const cache = checks.cache_faster_at_every_length?.value;
    const spot = (e.sweet_spot ?? null) as { dtype?: string } | null;
    return {
      model,
      four_bit_faster: typeof four === "string" && four !== "undecided" ? four : NOT_ESTABLISHED,
      sweet_spot: spot?.dtype && e.sweet_spot_settled !== false ? spot.dtype : NOT_ESTABLISHED,
      cache_worth_it: cache === true ? "yes" : cache === false ? "no" : NOT_ESTABLISHED,
    };
  });
}

/**
 * Whether every run gave the same answer to each question, model by model.
 *
 * @param runs The runs' answers.
 * @returns Per question, agreement.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { agreement } from "./replicate.ts";
 * const a = { model: "m", four_bit_faster: "yes", sweet_spot: "q4", cache_worth_it: "yes" };
 * assert.deepEqual(agreement([[a], [{ ...a, sweet_spot: "q8" }]]), { four_bit_faster: true, sweet_spot: false, cache_worth_it: true });
 * ```
 */
export function agreement(runs: readonly (readonly Answers[])[]): Replication["agree"] {
  const same = (key: keyof Omit<Answers, "model">) =>
    runs.every((run) =>
      run.length === runs[0]!.length &&
      run.every((a) => runs[0]!.find((b) => b.model === a.model)?.[key] === a[key])
    );
  return {
    four_bit_faster: same("four_bit_faster"),
    sweet_spot: same("sweet_spot"),
    cache_worth_it: same("cache_worth_it"),
  };
}

/** Start and end markers of the generated section in docs/measurement.md. */
export const MARKERS = ["<!-- replicate:start -->", "<!-- replicate:end -->"] as const;

/**
 * The generated Markdown: one table row per run and model, and whether each answer replicated.
 *
 * @param r The replication.
 * @returns Markdown, markers excluded.
 */
export function replicationMarkdown(r: Replication): string {
  const yes = (b: boolean) => (b ? "same in every run" : "**differs**");
  const lines = [
    // deno fmt would realign the table; the section is rewritten whole, never by hand.
    "<!-- deno-fmt-ignore-start -->",
    "",
    `\`${r.command}\` run ${r.runs.length} times in a row (commit \`${
      r.git_commit.slice(0, 12)
    }\`):`,
    "",
    "| run | model | wall time | 4-bit faster? | sweet spot | cache worth it? |",
    "|---:|---|---:|---|---|---|",
    ...r.runs.flatMap((run, i) =>
      run.answers.map((a) =>
        `| ${i + 1} | ${a.model} | ${
          run.seconds.toFixed(0)
        } s | ${a.four_bit_faster} | ${a.sweet_spot} | ${a.cache_worth_it} |`
      )
    ),
    "",
    `4-bit faster: ${yes(r.agree.four_bit_faster)}; sweet spot: ${yes(r.agree.sweet_spot)}; ` +
    `cache worth it: ${yes(r.agree.cache_worth_it)}.`,
    "",
    "<!-- deno-fmt-ignore-end -->",
  ];
  return lines.join("\n");
}

/**
 * Puts the generated section between the markers of a document (appending a section with the
 * markers when it has none).
 *
 * @param doc The document's text.
 * @param section The generated Markdown.
 * @returns The new text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spliceSection } from "./replicate.ts";
 * const doc = "a\n<!-- replicate:start -->\nold\n<!-- replicate:end -->\nb\n";
 * assert.equal(spliceSection(doc, "new"), "a\n<!-- replicate:start -->\nnew\n<!-- replicate:end -->\nb\n");
 * ```
 */
export function spliceSection(doc: string, section: string): string {
  const [start, end] = MARKERS;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) return `${doc.trimEnd()}\n\n${start}\n${section}\n${end}\n`;
  return `${doc.slice(0, i + start.length)}\n${section}\n${doc.slice(j)}`;
}
