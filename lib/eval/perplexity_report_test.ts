import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { loadDecoder, resolveModel } from "../engine/mod.ts";
import type { Logits } from "./logits.ts";
import { evaluatePerplexity } from "./perplexity_report.ts";
import { evaluatePerplexityRows } from "./perplexity_rows.ts";
import { compareQuality } from "./quality.ts";
import { readVendoredWikitext } from "./wikitext.ts";

// A few hundred tokens of the real text (the vendored WikiText-2 test split: no file, never the
// WIKITEXT_PATH variable), in windows the tiny preset (512 positions) accepts.
const SMALL = { maxTokens: 300, window: 96, stride: 48, batch: 2, wikitextPath: null };

Deno.test({
  name: "evaluatePerplexity() on the tiny preset gives a finite PPL for fp32 and q4",
  async fn() {
    const report = await evaluatePerplexity({
      model: "preset:tiny",
      dtypes: ["q4"],
      offline: true,
      ...SMALL,
    });
    assertEquals(report.baseline, "fp32");
    assertEquals(report.results.map((r) => [r.dtype, r.status]), [["fp32", "ok"], ["q4", "ok"]]);
    assertEquals(report.text_tokens, 300);
    for (const r of report.results) {
      assert(Number.isFinite(r.ppl) && r.ppl! > 1, `ppl ${r.ppl}`);
      assertEquals(r.scored_tokens, 299);
      assert(r.bits_per_byte! > 0 && r.stderr! > 0);
      assertEquals(r.execution_provider, "CPUExecutionProvider");
    }
    const q4 = report.results[1]!;
    assert(q4.kl! > 0 && q4.top1_agreement! <= 100, `q4 kl ${q4.kl}`);
  },
});

Deno.test({
  name: "evaluatePerplexity() pairwise gives the same PPL, KL and top-1 as all models at once",
  async fn() {
    const options = {
      model: "preset:tiny",
      dtypes: ["fp32", "q8", "q4"] as ("fp32" | "q8" | "q4")[],
      offline: true,
      ...SMALL,
    };
    const quality = (report: Awaited<ReturnType<typeof evaluatePerplexity>>) =>
      report.results.map((r) => [r.dtype, r.status, r.ppl, r.kl, r.top1_agreement]);
    const together = await evaluatePerplexity(options);
    const pairwise = await evaluatePerplexity({ ...options, pairwise: true });
    assertEquals(quality(pairwise), quality(together));
  },
});

Deno.test({
  name: "compareQuality() of two fp32 sessions of the tiny preset gives KL 0 and top-1 100 %",
  async fn() {
    const resolved = await resolveModel("preset:tiny", { dtypes: ["fp32"] });
    const a = await loadDecoder(resolved, { dtype: "fp32" });
    const b = await loadDecoder(resolved, { dtype: "fp32" });
    try {
      const text = (await readVendoredWikitext()).slice(0, 4000);
      const tokens = resolved.tokenizer.encode(text).slice(0, 200);
      const scorer = (model: typeof a) => async (rows: number[][]) => {
        const logits = await model.forward(rows);
        return { data: logits.data, dims: logits.dims } as Logits;
      };
      const [base, other] = await compareQuality({ a: scorer(a), b: scorer(b) }, tokens, {
        window: 64,
        baseline: "a",
      });
      assertEquals(other!.kl, 0);
      assertEquals(other!.top1Agreement, 100);
      assertEquals(other!.result!.nll, base!.result!.nll);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  },
});

Deno.test({
  name: "evaluatePerplexity() rejects a window larger than the model's max positions",
  async fn() {
    await assertRejects(
      () =>
        evaluatePerplexity({
          model: "preset:tiny",
          dtypes: ["fp32"],
          wikitextPath: null,
          offline: true,
          maxTokens: 1200,
          window: 1024,
        }),
      RangeError,
      "'window' is 1024, more than the model's max positions 512",
    );
  },
});

Deno.test("evaluatePerplexityRows() turns a dtype the model lacks into an error row", async () => {
  const text =
    "The tower is 324 metres tall , about the same height as an 81 @-@ storey building .\n"
      .repeat(20);
  const rows = await evaluatePerplexityRows({
    model: "preset:tiny",
    dtypes: ["fp32", "bnb4"],
    text,
    window: 64,
    maxTokens: 200,
  });
  assertEquals(rows.map((r) => [r.dtype, r.status]), [["fp32", "ok"], ["bnb4", "error"]]);
  assert(rows[1]!.error.includes("bnb4"), rows[1]!.error);
  assertEquals([rows[0]!.window, rows[0]!.stride, rows[0]!.max_tokens], [64, 32, 200]);
  assert(/^([0-9a-f]{40}(-dirty)?|unknown)$/.test(rows[0]!.git_commit));
});

Deno.test("evaluatePerplexityRows() reports a text shorter than one window on every row", async () => {
  const rows = await evaluatePerplexityRows({
    model: "preset:tiny",
    dtypes: ["fp32", "q8"],
    text: "Too short .",
    window: 64,
  });
  assertEquals(rows.map((r) => r.status), ["error", "error"]);
  assert(rows[0]!.error.includes("shorter than one window"), rows[0]!.error);
});

Deno.test("evaluatePerplexityRows() marks rows skipped without a text, error with a missing file", async () => {
  // The test split is vendored (data/), so "no text" needs the validation split offline, with
  // an empty download cache.
  const cacheDir = await Deno.makeTempDir();
  try {
    const options = {
      model: "preset:tiny",
      window: 64,
      split: "validation" as const,
      offline: true,
      wikitextCacheDir: cacheDir,
    };
    const none = await evaluatePerplexityRows({
      ...options,
      dtypes: ["fp32", "q4"],
      wikitextPath: null,
    });
    assertEquals(none.map((r) => r.status), ["skipped", "skipped"]);
    assert(none[0]!.error.includes("WIKITEXT_PATH"), none[0]!.error);
    const missing = await evaluatePerplexityRows({
      ...options,
      dtypes: ["fp32", "q4"],
      wikitextPath: "/nonexistent/wiki.test.raw",
    });
    assertEquals(missing.map((r) => r.status), ["error", "error"]);
    assert(missing[0]!.error.includes("'/nonexistent/wiki.test.raw' does not exist"));
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
