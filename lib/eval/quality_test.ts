import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../testing/assert.ts";
import { asFloat16, fakeScorer } from "./_fakes.ts";
import { perplexity } from "./perplexity.ts";
import { compareQuality } from "./quality.ts";

const tokens = Array.from({ length: 50 }, (_, i) => (i * 5 + (i >> 2)) % 4);
const varied = () =>
  fakeScorer(4, (row, p, out) => {
    out[row[p]!] = 1.5;
    out[(row[p]! + 1) % 4] = p / 4;
  });

Deno.test("compareQuality() of a dtype against itself gives KL 0 and top-1 agreement 100 %", async () => {
  const results = await compareQuality({ fp32: varied(), q8: varied() }, tokens, {
    window: 8,
    batch: 2,
    baseline: "fp32",
  });
  assertEquals(results.map((r) => r.name), ["fp32", "q8"]);
  for (const r of results) {
    assertEquals(r.kl, 0);
    assertEquals(r.top1Agreement, 100);
    assertEquals(r.deltaPplPct, 0);
    assertEquals(r.error, null);
  }
});

Deno.test("compareQuality() KL and top-1 match a hand computation", async () => {
  // Baseline p = (1/2, 1/2), compared q = (1/4, 3/4) at every position:
  // KL(p ‖ q) = ½ ln(½ / ¼) + ½ ln(½ / ¾) = ½ ln(4/3); the arg-maxes are 0 and 1. (The logit
  // ln 3 is stored as float32, so q is computed from the stored value.)
  const a = Math.fround(Math.log(3));
  const q0 = 1 / (1 + Math.exp(a));
  const base = fakeScorer(2, () => {});
  const skewed = fakeScorer(2, (_row, _p, out) => {
    out[1] = a;
  });
  const bin = tokens.map((t) => t % 2);
  const [q, b] = await compareQuality({ q4: skewed, fp16: base }, bin, {
    window: 8,
    baseline: "fp16",
  });
  assertEquals([b!.name, q!.name], ["fp16", "q4"]);
  assertAlmostEquals(q!.kl!, 0.5 * Math.log(0.5 / q0) + 0.5 * Math.log(0.5 / (1 - q0)), 1e-12);
  assertAlmostEquals(q!.kl!, 0.5 * Math.log(4 / 3), 1e-7);
  assertEquals(q!.top1Agreement, 0);
  const ppl = (await perplexity(skewed, bin, { window: 8 })).ppl;
  assertAlmostEquals(q!.result!.ppl, ppl, 1e-12);
  assertAlmostEquals(q!.deltaPplPct!, (ppl / 2 - 1) * 100, 1e-9);
});

Deno.test("compareQuality() of float16 logits against float32 gives a small positive KL", async () => {
  const [, half] = await compareQuality(
    { fp32: varied(), fp16: asFloat16(varied(), true) },
    tokens,
    {
      window: 8,
      baseline: "fp32",
    },
  );
  assert(half!.kl! >= 0 && half!.kl! < 1e-5, `kl ${half!.kl}`);
  assertEquals(half!.top1Agreement, 100);
});

Deno.test("compareQuality() keeps going when one dtype fails and reports its error", async () => {
  let calls = 0;
  const flaky = (rows: number[][]) => {
    if (++calls === 2) return Promise.reject(new Error("out of memory"));
    return varied()(rows);
  };
  const results = await compareQuality({ fp32: varied(), q4: flaky, q8: varied() }, tokens, {
    window: 8,
    baseline: "fp32",
  });
  assertEquals(results[1]!.error?.message, "out of memory");
  assertEquals(results[1]!.result, null);
  assertEquals(results[2]!.kl, 0);
});

Deno.test("compareQuality() without a working baseline reports PPL but no comparison", async () => {
  const broken = () => Promise.reject(new Error("no such file"));
  const [base, q4] = await compareQuality({ fp32: broken, q4: varied() }, tokens, {
    window: 8,
    baseline: "fp32",
  });
  assertEquals(base!.error?.message, "no such file");
  assert(Number.isFinite(q4!.result!.ppl));
  assertEquals([q4!.kl, q4!.top1Agreement, q4!.deltaPplPct], [null, null, null]);
});

Deno.test("compareQuality() rejects a baseline that is not among the scorers", async () => {
  await assertRejects(
    () => compareQuality({ q4: varied() }, tokens, { window: 8, baseline: "fp32" }),
    RangeError,
    "'baseline' must be one of the scorers (q4), got \"fp32\"",
  );
});
