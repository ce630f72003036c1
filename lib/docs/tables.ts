/**
 * Generated blocks of README.md and docs/*.md: every results table and the answers quoted there are
 * written by code from `metrics/final_report.json` and `metrics/report.md`, between marker comments
 *
 * ```md
 * <!-- generated:NAME -->
 * …
 * <!-- /generated -->
 * ```
 *
 * and stamped with the commit and date of the data. `deno task tables` rewrites the blocks; a test
 * fails when a committed block differs from what the task would write. The renderers read the
 * report's keys as they find them (any top-level entry with a `dtype` is a row, its scalar fields
 * the columns), so a report that gains or loses fields still renders.
 *
 * @module
 */

import {
  type LlamaCppRun,
  readLlamaCppRuns,
  renderLlamaCpp,
  renderLlamaCppSummary,
} from "./llamacpp_table.ts";

/** What the renderers read. */
export interface TableSources {
  /** `metrics/final_report.json`, parsed. */
  report: Record<string, unknown>;
  /** `metrics/report.md`. */
  reportMd: string;
  /** The committed llama.cpp comparisons (`benchmarks/llamacpp/<model>/`). @default none */
  llamacpp?: readonly LlamaCppRun[];
}

/** A block's renderer: its Markdown (without markers). */
export type BlockRenderer = (sources: TableSources) => string;

// deno fmt leaves the block as written, so the committed text is exactly the renderer's.
const FMT_OFF = "<!-- deno-fmt-ignore-start -->";
const FMT_ON = "<!-- deno-fmt-ignore-end -->";
const MARKER = /<!-- generated:([a-z0-9-]+) -->\n[\s\S]*?<!-- \/generated -->/g;

/**
 * The names of the generated blocks in a Markdown text, in order.
 *
 * @param markdown A Markdown text.
 * @returns The block names.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockNames } from "./tables.ts";
 * assert.deepEqual(blockNames("a\n<!-- generated:results -->\nx\n<!-- /generated -->\n"), ["results"]);
 * ```
 */
export function blockNames(markdown: string): string[] {
  return [...markdown.matchAll(MARKER)].map((m) => m[1]!);
}

/**
 * Rewrites every generated block of `markdown` with its renderer's output.
 *
 * @param markdown A Markdown text.
 * @param renderers Renderers by block name.
 * @param sources What they read.
 * @returns The new text.
 * @throws {RangeError} naming a block that has no renderer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillBlocks } from "./tables.ts";
 * const md = "<!-- generated:n -->\nold\n<!-- /generated -->";
 * const out = fillBlocks(md, { n: () => "new" }, { report: {}, reportMd: "" });
 * assert(out.startsWith("<!-- generated:n -->\n") && out.includes("\n\nnew\n\n"));
 * ```
 */
export function fillBlocks(
  markdown: string,
  renderers: Readonly<Record<string, BlockRenderer>>,
  sources: TableSources,
): string {
  return markdown.replace(MARKER, (_, name: string) => {
    const render = renderers[name];
    if (render === undefined) {
      throw new RangeError(
        `unknown generated block '${name}' (known: ${Object.keys(renderers).join(", ")})`,
      );
    }
    return `<!-- generated:${name} -->\n${FMT_OFF}\n\n${
      render(sources).trim()
    }\n\n${FMT_ON}\n<!-- /generated -->`;
  });
}

/**
 * A Markdown table of flat rows; `null`/missing cells are `—`.
 *
 * @param header Column names.
 * @param rows Cells per row.
 * @returns The table, one line per row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownTable } from "./tables.ts";
 * assert.equal(markdownTable(["a", "b"], [[1, null]]), "| a | b |\n| --- | ---: |\n| 1 | — |");
 * ```
 */
export function markdownTable(header: readonly string[], rows: readonly unknown[][]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined ? "—" : String(v).replaceAll("|", "\\|").replaceAll("\n", " ");
  const align = header.map((_, i) => i === 0 ? "---" : "---:");
  return [header, align, ...rows.map((r) => header.map((_, i) => cell(r[i])))]
    .map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Whether `v` is a per-dtype entry: an object with a string `dtype`. */
function isDtypeEntry(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    typeof (v as Record<string, unknown>).dtype === "string";
}

/**
 * The report's per-dtype entries, keyed by label: the top-level entries with a `dtype`, else the
 * first nested object or array that holds such entries (so a report that moves its rows one level
 * down, e.g. under `results` or per model, still renders).
 */
function dtypeEntries(report: Record<string, unknown>): [string, Record<string, unknown>][] {
  const of = (holder: unknown): [string, Record<string, unknown>][] => {
    if (Array.isArray(holder)) {
      return holder.filter(isDtypeEntry).map((v) => [String(v.dtype), v]);
    }
    if (typeof holder !== "object" || holder === null) return [];
    return Object.entries(holder).filter((e): e is [string, Record<string, unknown>] =>
      isDtypeEntry(e[1])
    );
  };
  const top = of(report);
  if (top.length > 0) return top;
  for (const value of Object.values(report)) {
    const nested = of(value);
    if (nested.length > 0) return nested;
    for (const inner of typeof value === "object" && value !== null ? Object.values(value) : []) {
      const deeper = of(inner);
      if (deeper.length > 0) return deeper;
    }
  }
  return [];
}

/** The first model's quality per dtype (`extended.<model>.quality`), or none. */
function qualityOf(report: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const extended = report.extended as Record<string, Record<string, unknown>> | undefined;
  const first = extended ? Object.values(extended)[0] : undefined;
  return (first?.quality ?? {}) as Record<string, Record<string, unknown>>;
}

const QUALITY_FIELDS = ["delta_ppl_pct", "kl", "top1_agreement"];

/**
 * The stamp under a block: where the numbers come from, the machine, the data's commit and date.
 *
 * @param report `final_report.json` (its `environment`).
 * @param source The file the block was written from. @default "metrics/final_report.json"
 * @returns One italic line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stamp } from "./tables.ts";
 * const env = { git_commit: ["0123456789abcdef"], device_name: ["CPU X"], last_run: "2026-01-02T03:04:05Z" };
 * assert.equal(
 *   stamp({ environment: env }),
 *   "_Generated by `./deno task tables` from `metrics/final_report.json`: runs of commit 0123456789 on CPU X, 2026-01-02._",
 * );
 * ```
 */
export function stamp(
  report: Record<string, unknown>,
  source = "metrics/final_report.json",
): string {
  const env = (report.environment ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => ([] as unknown[]).concat(v ?? []).map(String);
  const commits = list(env.git_commit).map((c) => c.replace(/^([0-9a-f]{10})[0-9a-f]*/, "$1"));
  const devices = list(env.device_name);
  const date = typeof env.last_run === "string" ? env.last_run.slice(0, 10) : "unknown date";
  return `_Generated by \`./deno task tables\` from \`${source}\`: runs of commit ${
    commits.join(", ") || "unknown"
  }${devices.length > 0 ? ` on ${devices.join(", ")}` : ""}, ${date}._`;
}

/**
 * `results`: one row per dtype entry of the report, its scalar fields as columns, then the
 * quality fields of `extended` when the report has them.
 */
export const renderResults: BlockRenderer = ({ report }) => {
  const entries = dtypeEntries(report);
  if (entries.length === 0) {
    return `_No per-dtype entries in \`metrics/final_report.json\`._\n\n${stamp(report)}`;
  }
  const scalars: string[] = [];
  for (const [, v] of entries) {
    for (const [k, x] of Object.entries(v)) {
      if (k !== "dtype" && (x === null || typeof x !== "object") && !scalars.includes(k)) {
        scalars.push(k);
      }
    }
  }
  // A column equal to an earlier one in every row (the longest context is 2048) says nothing new.
  const same = (a: string, b: string) => entries.every(([, v]) => v[a] === v[b]);
  const fields = scalars.filter((f, i) => !scalars.slice(0, i).some((g) => same(f, g)));
  const quality = qualityOf(report);
  const extra = QUALITY_FIELDS.filter((f) =>
    Object.values(quality).some((q) => q?.[f] !== undefined) && !fields.includes(f)
  );
  const rows = entries.map(([label, v]) => {
    const q = quality[v.dtype as string] ?? quality[label] ?? {};
    return [label, v.dtype, ...fields.map((f) => v[f]), ...extra.map((f) => q[f])];
  });
  const notMeasured = Array.isArray(report.perplexity_not_measured)
    ? (report.perplexity_not_measured as Record<string, unknown>[])
      .map((r) => `\`${r.dtype}\` (${r.status})`)
    : [];
  return [
    markdownTable(["", "dtype", ...fields, ...extra], rows),
    ...(notMeasured.length > 0
      ? [
        "",
        `Not measured: ${
          [...new Set(notMeasured)].join(", ")
        } — the reason is in \`metrics/report.md\`.`,
      ]
      : []),
    "",
    stamp(report),
  ].join("\n");
};

/**
 * `answers`: the prose of `metrics/report.md`'s numbered sections (the questions and their
 * answers, tables left out), the headings as bold lines.
 */
export const renderAnswers: BlockRenderer = ({ report, reportMd }) => {
  const sections = reportMd.split(/^## /m).slice(1).filter((s) => /^\d+\./.test(s));
  if (sections.length === 0) {
    return `_No answers in \`metrics/report.md\`._\n\n${stamp(report, "metrics/report.md")}`;
  }
  const out = sections.map((s) => {
    const [title, ...body] = s.split("\n");
    const prose = body.filter((l) => !l.startsWith("|")).join("\n").replace(/\n{3,}/g, "\n\n")
      .trim();
    return `**${title!.trim()}**\n\n${prose}`;
  });
  return [...out, stamp(report, "metrics/report.md")].join("\n\n");
};

/**
 * `preflight`: the sweep's pre-flight verdicts as recorded in the report (`preflight`): the
 * counts, then every check that did not pass with what it found and the advice.
 */
export const renderPreflight: BlockRenderer = ({ report }) => {
  const pre = report.preflight as
    | { counts?: Record<string, number>; checks?: Record<string, unknown>[] }
    | undefined;
  if (pre?.counts === undefined || !Array.isArray(pre.checks)) {
    return `_No pre-flight in \`metrics/final_report.json\`._\n\n${stamp(report)}`;
  }
  const c = pre.counts;
  const flagged = pre.checks.filter((k) => k.status !== "pass").map((k) =>
    `- ${String(k.status).toUpperCase()} ${k.name}: ${k.detail}${k.advice ? ` → ${k.advice}` : ""}`
  );
  return [
    `Pre-flight of the reference run: ${c.pass ?? 0} pass, ${c.warn ?? 0} warn, ${
      c.fail ?? 0
    } fail.`,
    ...(flagged.length > 0 ? ["", ...flagged] : []),
    "",
    stamp(report),
  ].join("\n");
};

/** Every block a page may hold. */
export const RENDERERS: Readonly<Record<string, BlockRenderer>> = Object.freeze({
  results: renderResults,
  answers: renderAnswers,
  preflight: renderPreflight,
  llamacpp: ({ llamacpp }) => renderLlamaCpp(llamacpp ?? []),
  "llamacpp-summary": ({ llamacpp }) => renderLlamaCppSummary(llamacpp ?? []),
});

/**
 * Reads the sources from a checkout.
 *
 * @param root The checkout. @default the cwd
 * @returns The parsed report, the report text and the committed llama.cpp comparisons.
 * @throws {Error} naming the file when one is missing or not JSON.
 */
export async function readSources(root = "."): Promise<TableSources> {
  const path = `${root}/metrics/final_report.json`;
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  let reportMd = "";
  try {
    reportMd = await Deno.readTextFile(`${root}/metrics/report.md`);
  } catch {
    // no answers block can be filled from nothing: it says so
  }
  return { report, reportMd, llamacpp: await readLlamaCppRuns(root) };
}

/**
 * The Markdown files that may hold generated blocks: README.md and docs/*.md.
 *
 * @param root The checkout. @default the cwd
 * @returns Paths relative to `root`, sorted.
 */
export async function documentPaths(root = "."): Promise<string[]> {
  const paths = ["README.md"];
  for await (const e of Deno.readDir(`${root}/docs`)) {
    if (e.isFile && e.name.endsWith(".md")) paths.push(`docs/${e.name}`);
  }
  return paths.sort();
}
