import { compile } from "vega-lite";
import { assert, assertEquals } from "../testing/assert.ts";
import { FIGURES } from "./figures.ts";
import { latencyVsContextSpec } from "./latency_vs_context.ts";
import { memoryFootprintSpec } from "./memory_footprint.ts";
import { DELTA_PPL_BUDGET_PCT, pplDegradationSpec } from "./ppl_degradation.ts";
import { prefillVsDecodeSpec } from "./prefill_vs_decode.ts";
import { summaryTableSpec } from "./summary_table.ts";
import { tokensPerSVsLengthSpec } from "./tokens_per_s_vs_length.ts";
import { testData } from "./_test_data.ts";

// Specs are plain JSON: walk them as records.
type Json = Record<string, unknown>;
const json = (spec: unknown): Json => JSON.parse(JSON.stringify(spec));
const layers = (spec: Json): Json[] =>
  ((spec.spec as Json | undefined)?.layer ?? spec.layer) as Json[];
const values = (spec: Json): Json[] => (spec.data as { values: Json[] }).values;
/** The encoding of a layered spec's channel, looked up in the shared encoding then the layers. */
function channel(spec: Json, name: string): Json | undefined {
  const inner = (spec.spec as Json | undefined) ?? spec;
  const shared = (inner.encoding as Json | undefined)?.[name] as Json | undefined;
  if (shared) return shared;
  for (const layer of layers(spec) ?? []) {
    const e = (layer.encoding as Json | undefined)?.[name] as Json | undefined;
    if (e) return e;
  }
  return undefined;
}

Deno.test("FIGURES: every spec compiles with vega-lite, with and without perplexity, one or two models", () => {
  const variants = [
    testData(),
    testData({ perplexity: false }),
    testData({ models: ["preset:a", "preset:b"], vram: true }),
  ];
  for (const data of variants) {
    for (const figure of FIGURES) {
      if (figure.skip?.(data) != null) continue;
      const vg = compile(figure.spec(data)).spec;
      assert(Array.isArray(vg.marks) && vg.marks.length > 0, `${figure.stem} has marks`);
    }
  }
});

Deno.test("FIGURES: file stems name what they plot, in the brief's folders", () => {
  assertEquals(FIGURES.map((f) => f.stem).toSorted(), [
    "benchmarks/latency_vs_context",
    "benchmarks/memory_footprint",
    "benchmarks/summary_table",
    "figures/ppl_degradation",
    "figures/prefill_vs_decode",
    "figures/throughput_vs_batch",
    "figures/tokens_per_s_vs_length",
  ]);
});

Deno.test("prefillVsDecodeSpec() plots both phases on a log y scale, a panel per cache mode", () => {
  const data = testData();
  const spec = json(prefillVsDecodeSpec(data));
  const y = channel(spec, "y")!;
  assertEquals(y.field, "ms");
  assertEquals((y.scale as Json).type, "log");
  assertEquals(((spec.facet as Json).column as Json).field, "cache");
  assertEquals(channel(spec, "color")!.field, "dtype_label");
  assertEquals(channel(spec, "strokeDash")!.field, "phase");
  // Two points (prefill, decode) per summary cell.
  assertEquals(values(spec).length, 2 * data.summary.length);
  const q4Decode = values(spec).find((v) =>
    v.dtype === "q4" && v.cache === "KV cache on" && v.context_tokens === 512 &&
    String(v.phase).startsWith("decode")
  )!;
  const cell = data.summary.find((s) =>
    s.dtype === "q4" && s.use_cache && s.context_tokens === 512
  )!;
  assertEquals(q4Decode.ms, cell.token_p50_ms_mean);
});

Deno.test("tokensPerSVsLengthSpec() draws a curve per dtype, cache mode as stroke dash", () => {
  const spec = json(tokensPerSVsLengthSpec(testData()));
  assertEquals(channel(spec, "y")!.field, "decode_tokens_per_s_pooled");
  assertEquals(channel(spec, "x")!.field, "context_tokens");
  assertEquals(channel(spec, "color")!.field, "dtype_label");
  assertEquals(channel(spec, "strokeDash")!.field, "cache");
  const domain = (channel(spec, "color")!.scale as Json).domain;
  assertEquals(domain, ["fp32", "fp16", "int8 (q8)", "4bit (q4)"]);
});

Deno.test("line figures bind a dtype selection to the legend and fade what it leaves out", () => {
  for (const make of [prefillVsDecodeSpec, tokensPerSVsLengthSpec, latencyVsContextSpec]) {
    const spec = json(make(testData()));
    const params = layers(spec).flatMap((l) => (l.params ?? []) as Json[]);
    assertEquals(params.map((p) => [p.name, p.bind]), [["pick", "legend"]]);
    assertEquals((channel(spec, "opacity")!.condition as Json).param, "pick");
  }
});

Deno.test("tokensPerSVsLengthSpec() facets by model when there are several", () => {
  const spec = json(tokensPerSVsLengthSpec(testData({ models: ["preset:a", "preset:b"] })));
  assertEquals(((spec.facet as Json).column as Json).field, "setup");
});

Deno.test("latencyVsContextSpec() plots mean total latency on a log scale", () => {
  const spec = json(latencyVsContextSpec(testData()));
  const y = channel(spec, "y")!;
  assertEquals(y.field, "total_ms_mean");
  assertEquals((y.scale as Json).type, "log");
});

Deno.test("pplDegradationSpec() has bars of ΔPPL % and a rule at the 5 % budget", () => {
  const spec = json(pplDegradationSpec(testData()));
  const rule = layers(spec).find((l) => (l.mark as Json).type === "rule")!;
  assertEquals(DELTA_PPL_BUDGET_PCT, 5);
  assertEquals((rule.data as { values: Json[] }).values[0]!.budget, 5);
  assertEquals(channel(spec, "y")!.field, "delta_ppl_pct");
  const q4 = values(spec).find((v) => v.dtype === "q4")!;
  assertEquals(q4.delta_ppl_pct, 3.5);
});

Deno.test("pplDegradationSpec() says 'no perplexity measured' when there is none", () => {
  const spec = json(pplDegradationSpec(testData({ perplexity: false })));
  assertEquals(values(spec), [{ message: "no perplexity measured" }]);
});

Deno.test("pplDegradationSpec() gives the reason when perplexity was skipped", () => {
  const spec = json(pplDegradationSpec(testData({ perplexity: "skipped" })));
  assertEquals(values(spec), [{ message: "no perplexity measured" }]);
  assert(JSON.stringify((spec.title as Json).subtitle).includes("skipped: no WikiText-2 text"));
});

Deno.test("memoryFootprintSpec() shows VRAM when present and says RSS otherwise", () => {
  const rss = json(memoryFootprintSpec(testData()));
  assert(JSON.stringify(rss.title).includes("RSS"));
  const vram = json(memoryFootprintSpec(testData({ vram: true })));
  assert(JSON.stringify(vram.title).includes("VRAM"));
  const data = testData({ vram: true });
  const v = values(vram).find((r) =>
    r.dtype === "fp16" && r.context_tokens === 2048 && r.cache === "KV cache on"
  )!;
  const cell = data.summary.find((s) =>
    s.dtype === "fp16" && s.use_cache && s.context_tokens === 2048
  )!;
  assertEquals(v.memory_gb, cell.peak_vram_bytes_max! / 1e9);
});

Deno.test("summaryTableSpec() has a coloured rect layer and a text layer, a cell per dtype and column", () => {
  const data = testData();
  const spec = json(summaryTableSpec(data));
  assertEquals(layers(spec).map((l) => (l.mark as Json).type), ["rect", "text"]);
  assertEquals(values(spec).length, 4 * 5);
  const best = values(spec).find((v) =>
    v.row === "4bit (q4)" && String(v.column).startsWith("decode")
  )!;
  assertEquals(best.fill, "rgb(130, 200, 120)");
});

Deno.test("figure specs leave failed runs out", () => {
  const data = testData();
  const spec = json(tokensPerSVsLengthSpec(data));
  assert(!values(spec).some((v) => v.dtype === "q4f16"));
  assertEquals(data.failures.runs, 3);
});
