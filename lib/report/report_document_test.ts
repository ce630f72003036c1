import { assert } from "../testing/assert.ts";
import { comparisonTable } from "./comparison_table.ts";
import { finalReport } from "./final_report.ts";
import { reportHtml, reportMarkdown } from "./report_document.ts";
import { testData } from "./_test_data.ts";
import { fmt } from "./_util.ts";
import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function inputs(options: Parameters<typeof testData>[0] = {}) {
  const data = testData(options);
  const report = finalReport(data);
  return { data, report, table: comparisonTable(data), figures: [{ stem: "figures/x", png: PNG }] };
}

Deno.test("reportMarkdown() answers the three questions with numbers from the results", () => {
  const i = inputs();
  const md = reportMarkdown(i);
  assert(md.includes("## 1. How much does the KV cache gain in decoding?"));
  assert(md.includes("## 2. Is 4-bit worth it in production?"));
  assert(md.includes("## 3. Where is the sweet spot between speed and quality?"));
  const ext = i.report.extended["preset:tiny"]!;
  assert(md.includes(`**${fmt(ext.kv_cache_speedup.fp16!["2048"], 2)}× faster**`));
  // The paired ratio over rounds, as final_report.json holds it, said in words ("1.48× faster"
  // or "1.06× slower", never "(0.94×)" or "0.07× as fast").
  const speed = ext.checks.four_bit_verdict.details.speed_ratio!;
  assert(speed > 1.5 && speed < 2.2, `${speed}`);
  assert(md.includes(`(**${ratioWords(speed, SPEED_WORDS)}**, 95 % interval`), md);
  assert(!/\(\*\*0\.\d+×\*\*|× as fast/.test(md), "no bare fraction, no '0.07× as fast'");
  assert(md.includes("**Yes**"));
  assert(md.includes(`The sweet spot is **${ext.sweet_spot!.label}**`));
  assert(md.includes("![figures/x](../figures/x.png)"));
  assert(md.includes("| out of memory, allocating 4 GiB | 2 | 1 |"));
});

Deno.test("reportMarkdown() says No when 4-bit is over budget, undecided without perplexity", () => {
  assert(
    reportMarkdown(inputs({ q4Delta: 9 })).includes("**No**: ΔPPL 9.00 % is over the 5 % budget"),
  );
  const md = reportMarkdown(inputs({ perplexity: false }));
  assert(md.includes("**Undecided**"));
  assert(md.includes("No sweet spot: no perplexity measured."));
});

Deno.test("reportMarkdown() weighs memory when 4-bit decodes slower than the reference", () => {
  const slower = { fp32: 1, fp16: 1.4, q8: 2, q4: 1 };
  const smaller = reportMarkdown(inputs({ speed: slower }));
  assert(smaller.includes("**Only for memory**"), smaller);
  assert(/needs [\d.]+× less peak RSS/.test(smaller));
  const larger = reportMarkdown(inputs({ speed: slower, memory: { fp16: 2, q4: 3 } }));
  assert(larger.includes("**Not on this device**"), larger);
  assert(/needs [\d.]+× more peak RSS/.test(larger));
});

Deno.test("reportHtml() is self-contained: figures as data URIs, the table coloured", () => {
  const html = reportHtml(inputs());
  assert(html.startsWith("<!doctype html>"));
  assert(html.includes(`src="data:image/png;base64,iVBORw0KGgo="`));
  assert(!/src="(?!data:)/.test(html), "no external sources");
  assert(html.includes("background-color:rgb("));
  assert(html.includes("<strong>Yes</strong>"));
});

Deno.test("reportMarkdown() says why perplexity is missing when it was skipped", () => {
  const md = reportMarkdown(inputs({ perplexity: "skipped" }));
  assert(md.includes("Its perplexity was not measured (skipped: no WikiText-2 text)."));
  assert(md.includes("No sweet spot: no perplexity measured (skipped: no WikiText-2 text)."));
});

Deno.test("reportMarkdown() does not compare 4-bit with fp16 at different contexts", async () => {
  const { syntheticPerplexity, syntheticRows } = await import("./_fixture.ts");
  const { toFrame } = await import("../results/table.ts");
  const { parsePerplexityCsv, parseResultsCsv } = await import("./results_table.ts");
  const { reportData } = await import("./report_data.ts");
  // 4-bit's 2048-token cells failed: its longest context is 512, fp16's 2048.
  const rows = syntheticRows().filter((r) => !(r.dtype === "q4" && r.context_tokens === 2048));
  const data = reportData(
    parseResultsCsv(toFrame("bench", rows).writeCSV().toString()),
    parsePerplexityCsv(toFrame("perplexity", syntheticPerplexity()).writeCSV().toString()),
  );
  const md = reportMarkdown({
    data,
    report: finalReport(data),
    table: comparisonTable(data),
    figures: [],
  });
  assert(md.includes("were not measured at the same longest context (512 vs 2048 tokens)"), md);
  assert(!md.includes("**Yes**"));
});

Deno.test("reportMarkdown() says a 4-bit speed-up inside the runs' CI95 is within noise", () => {
  const md = reportMarkdown(inputs({ speed: { fp32: 1, fp16: 1.4, q8: 2, q4: 1.42 } }));
  assert(md.includes("**Within noise here**"), md);
  assert(!md.includes("**Yes**"));
});

Deno.test("reportMarkdown() says when the sweet spot's lead is not established over rounds", () => {
  const close = reportMarkdown(inputs({ speed: { fp32: 1, fp16: 1.4, q8: 2.58, q4: 2.6 } }));
  assert(close.includes("the ranking is not settled"), close);
  const apart = reportMarkdown(inputs({ speed: { fp32: 1, fp16: 1.4, q8: 2, q4: 10 } }));
  assert(!apart.includes("the ranking is not settled"), apart);
});

Deno.test("final_report.json carries the same 4-bit and sweet-spot noise verdicts report.md prints", () => {
  const noisy = inputs({ speed: { fp32: 1, fp16: 1.4, q8: 2.58, q4: 2.6 } });
  const md = reportMarkdown(noisy);
  const ext = noisy.report.extended["preset:tiny"]!;
  assert(md.includes("the ranking is not settled"), md);
  assert(ext.sweet_spot_settled === false && ext.sweet_spot_ties.length > 0);
  const within = inputs({ speed: { fp32: 1, fp16: 1.4, q8: 2, q4: 1.42 } });
  assert(reportMarkdown(within).includes("**Within noise here**"));
  const check = within.report.extended["preset:tiny"]!.checks.four_bit_verdict;
  assert(
    check.value === "within_noise" && check.details.speed_verdict === "not established",
    check.details.reason,
  );
  const yes = inputs();
  assert(reportMarkdown(yes).includes("**Yes**"));
  assert(yes.report.extended["preset:tiny"]!.checks.four_bit_verdict.value === "yes");
});

Deno.test("random weights: quality verdicts are null with the reason, and report.md says so", () => {
  const i = inputs({ weights: "random" });
  const ext = i.report.extended["preset:tiny"]!;
  assert(ext.weights === "random");
  assert(ext.checks.four_bit_delta_ppl_under_5pct.value === null);
  assert(ext.checks.four_bit_delta_ppl_under_5pct.details.reason.includes("random weights"));
  assert(ext.checks.four_bit_verdict.value === "undecided");
  assert(ext.sweet_spot === null && ext.sweet_spot_note.includes("random weights"));
  const md = reportMarkdown(i);
  assert(md.includes("**Random weights.**"), md);
  assert(md.includes("**No quality verdict**"));
  assert(!md.includes("**Yes**") && !md.includes("The sweet spot is"));
  const trained = inputs({ weights: "trained" }).report.extended["preset:tiny"]!;
  assert(
    trained.checks.four_bit_delta_ppl_under_5pct.value === true && trained.sweet_spot !== null,
  );
});

Deno.test("pplDegradationSpec() says in its subtitle when the weights are random", async () => {
  const { pplDegradationSpec } = await import("./ppl_degradation.ts");
  const subtitle = (spec: unknown) =>
    (spec as { title: { subtitle: string[] } }).title.subtitle.join(" ");
  const random = subtitle(pplDegradationSpec(testData({ weights: "random" })));
  assert(random.includes("RANDOM WEIGHTS (preset:tiny)"), random);
  assert(!JSON.stringify(pplDegradationSpec(testData({ weights: "trained" }))).includes("RANDOM"));
});
