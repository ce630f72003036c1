import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  blockNames,
  documentPaths,
  fillBlocks,
  readSources,
  renderAnswers,
  RENDERERS,
  renderPreflight,
  renderResults,
} from "./tables.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test("every generated block in README.md and docs/*.md is what `deno task tables` writes", async () => {
  const sources = await readSources(root);
  const stale: string[] = [];
  let blocks = 0;
  for (const path of await documentPaths(root)) {
    const text = await Deno.readTextFile(`${root}/${path}`);
    blocks += blockNames(text).length;
    if (fillBlocks(text, RENDERERS, sources) !== text) stale.push(path);
  }
  assertEquals(stale, [], "out of date: run ./deno task tables");
  assert(blocks >= 2, `only ${blocks} generated blocks`);
  assert(blockNames(await Deno.readTextFile(`${root}/README.md`)).includes("results"));
});

Deno.test("renderResults() takes its columns from the report's keys and stamps commit and date", () => {
  const report = {
    fp32: { dtype: "fp32", tokens_s: 10.5, rss_gb: null },
    "4bit": { dtype: "q4", tokens_s: 20, new_field: "x" },
    extended: { m: { quality: { q4: { delta_ppl_pct: 0.5, kl: 0.01 } } } },
    environment: { git_commit: ["0123456789abcdef0123"], last_run: "2026-12-02T01:45:52.388Z" },
    perplexity_not_measured: [{ dtype: "bf16", status: "error" }],
  };
  const out = renderResults({ report, reportMd: "" });
  const lines = out.split("\n");
  assertEquals(lines[0], "|  | dtype | tokens_s | rss_gb | new_field | delta_ppl_pct | kl |");
  assertEquals(lines[2], "| fp32 | fp32 | 10.5 | — | — | — | — |");
  assertEquals(lines[3], "| 4bit | q4 | 20 | — | x | 0.5 | 0.01 |");
  assert(out.includes("`bf16` (error)"));
  assert(out.endsWith("runs of commit 0123456789, 2026-12-02._"), out);
});

Deno.test("renderResults() finds per-dtype rows one or two levels down when the report moves them", () => {
  const rows = [{ dtype: "fp32", tokens_s: 1 }, { dtype: "q4", tokens_s: 2 }];
  for (const report of [{ results: rows }, { by_model: { m: { fp32: rows[0], q4: rows[1] } } }]) {
    const lines = renderResults({ report, reportMd: "" }).split("\n");
    assertEquals(lines[0], "|  | dtype | tokens_s |");
    assertEquals(lines[3], "| q4 | q4 | 2 |");
  }
});

Deno.test("renderResults() and renderAnswers() say so when the report has nothing for them", () => {
  assert(renderResults({ report: {}, reportMd: "" }).startsWith("_No per-dtype entries"));
  assert(renderAnswers({ report: {}, reportMd: "# x\n" }).startsWith("_No answers"));
  const answers = renderAnswers({
    report: {},
    reportMd: "# R\n\n## 1. Q?\n\nA **1**.\n\n| t |\n| - |\n\nMore.\n\n## Noise\n\nno\n",
  });
  assert(answers.startsWith("**1. Q?**\n\nA **1**.\n\nMore."), answers);
  assert(!answers.includes("Noise"));
});

Deno.test("fillBlocks() rejects a block name it has no renderer for, naming it", () => {
  assertThrows(
    () =>
      fillBlocks("<!-- generated:nope -->\n<!-- /generated -->", RENDERERS, {
        report: {},
        reportMd: "",
      }),
    RangeError,
    "unknown generated block 'nope'",
  );
});

Deno.test("renderPreflight() counts the verdicts and lists every check that did not pass", () => {
  const report = {
    preflight: {
      counts: { pass: 2, warn: 1, fail: 0 },
      checks: [
        { name: "deno", status: "pass", detail: "2.9.6 (pinned)", advice: "" },
        { name: "background load", status: "warn", detail: "load 1.80", advice: "rerun" },
        { name: "disk", status: "pass", detail: "free", advice: "" },
      ],
    },
  };
  const lines = renderPreflight({ report, reportMd: "" }).split("\n");
  assertEquals(lines[0], "Pre-flight of the reference run: 2 pass, 1 warn, 0 fail.");
  assertEquals(lines[2], "- WARN background load: load 1.80 → rerun");
  assertEquals(lines.length, 5);
  assert(renderPreflight({ report: {}, reportMd: "" }).startsWith("_No pre-flight"));
});
