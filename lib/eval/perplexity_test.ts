import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../testing/assert.ts";
import { asFloat16, fakeScorer, uniformScorer } from "./_fakes.ts";
import { perplexity } from "./perplexity.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Logits [0, p] at local position p: P(1) = e^p / (1 + e^p). */
const positional = () =>
  fakeScorer(2, (_row, p, out) => {
    out[1] = p;
  });

/** NLL of `token` at local position p under {@linkcode positional}. */
const positionalNll = (token: number, p: number) =>
  Math.log(1 + Math.exp(p)) - (token === 1 ? p : 0);

Deno.test("perplexity() of a uniform model equals the vocabulary size", async () => {
  for (const vocab of [2, 7, 50]) {
    for (const method of ["hf", "llama-cpp"] as const) {
      const result = await perplexity(uniformScorer(vocab), range(40).map((i) => i % vocab), {
        window: 8,
        method,
        batch: 3,
      });
      assertAlmostEquals(result.ppl, vocab, 1e-9 * vocab);
      assertEquals(result.stderr, 0);
    }
  }
});

Deno.test("perplexity() sums the NLL of every token after the first exactly once", async () => {
  // Tokens are their own positions, and the logit of the true next token t is t/8: a token
  // scored twice or missed changes the sum, whatever the window and stride.
  const tokens = range(37);
  const vocab = tokens.length;
  const scorer = fakeScorer(vocab, (row, p, out) => {
    const next = row[p]! + 1;
    if (next < vocab) out[next] = next / 8;
  });
  const nll = (t: number) => Math.log(vocab - 1 + Math.exp(t / 8)) - t / 8;
  const expected = tokens.slice(1).reduce((sum, t) => sum + nll(t), 0);
  for (const [window, stride, batch] of [[4, 1, 1], [4, 3, 2], [8, 5, 4], [16, 8, 3], [37, 2, 1]]) {
    const result = await perplexity(scorer, tokens, {
      window: window!,
      stride: stride!,
      batch: batch!,
    });
    assertEquals(result.scoredTokens, tokens.length - 1, `${window}/${stride}`);
    assertAlmostEquals(result.nll, expected, 1e-9);
  }
});

Deno.test("perplexity() of a hand-computed two-window example", async () => {
  // window 4, stride 2 over 6 tokens: window [0,4) scores targets 1..3 at local positions 0..2,
  // window [2,6) scores targets 4, 5 at local positions 1, 2.
  const tokens = [0, 1, 0, 1, 1, 0];
  const calls: number[][][] = [];
  const scorer = fakeScorer(2, (_row, p, out) => {
    out[1] = p;
  }, calls);
  const result = await perplexity(scorer, tokens, { window: 4, stride: 2 });
  const nlls = [
    positionalNll(1, 0),
    positionalNll(0, 1),
    positionalNll(1, 2),
    positionalNll(1, 1),
    positionalNll(0, 2),
  ];
  const total = nlls.reduce((a, b) => a + b);
  assertEquals(calls, [[[0, 1, 0, 1]], [[0, 1, 1, 0]]]);
  assertEquals(result.scoredTokens, 5);
  assertEquals(result.windows, 2);
  assertAlmostEquals(result.nll, total, 1e-12);
  assertAlmostEquals(result.ppl, Math.exp(total / 5), 1e-12);
});

Deno.test("perplexity() stderr matches a hand computation of llama-perplexity's formula", async () => {
  const tokens = [0, 1, 0, 1, 1, 0];
  const nlls = [
    positionalNll(1, 0),
    positionalNll(0, 1),
    positionalNll(1, 2),
    positionalNll(1, 1),
    positionalNll(0, 2),
  ];
  const n = nlls.length;
  const mean = nlls.reduce((a, b) => a + b) / n;
  // Standard error of the mean from the sample standard deviation, times PPL (delta method).
  const sampleVariance = nlls.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const expected = Math.exp(mean) * Math.sqrt(sampleVariance / n);
  const result = await perplexity(positional(), tokens, { window: 4, stride: 2 });
  assert(result.stderr !== null && result.stderr > 0);
  assertAlmostEquals(result.stderr, expected, 1e-12);
});

Deno.test("perplexity() llama-cpp scores the documented count and feeds BOS first", async () => {
  const calls: number[][][] = [];
  const scorer = fakeScorer(3, (_row, p, out) => {
    out[0] = p % 3;
  }, calls);
  const tokens = range(70).map((i) => (i * 7) % 3);
  const result = await perplexity(scorer, tokens, {
    window: 10,
    method: "llama-cpp",
    bosTokenId: 2,
    batch: 4,
  });
  // ⌊70 / 10⌋ windows, each scoring positions 6..9: 10 − 5 − 1 tokens.
  assertEquals(result.scoredTokens, 7 * 4);
  assertEquals(calls.map((c) => c.length), [4, 3]);
  for (const row of calls.flat()) assertEquals(row[0], 2);
  assertEquals(calls.flat()[1]!.slice(1), tokens.slice(11, 20));
});

Deno.test("perplexity() reads float16 logits, as Float16Array or raw Uint16Array", async () => {
  const tokens = [0, 1, 1, 0, 1, 0, 0, 1, 1];
  const options = { window: 4, stride: 3 };
  const f32 = await perplexity(positional(), tokens, options);
  for (const raw of [false, true]) {
    const f16 = await perplexity(asFloat16(positional(), raw), tokens, options);
    assertEquals(f16.nll, f32.nll);
  }
});

Deno.test("perplexity() bits per byte divides the NLL in bits by the scored text's bytes", async () => {
  const pieces = ["a", "é", "€", "b"]; // 1, 2, 3 and 1 UTF-8 bytes
  const tokens = [0, 1, 2, 3, 2, 1, 0, 3];
  const decode = (ids: number[]) => ids.map((i) => pieces[i]!).join("");
  const result = await perplexity(uniformScorer(4), tokens, { window: 4, stride: 2, decode });
  const bytes = new TextEncoder().encode(decode(tokens.slice(1))).length;
  assertAlmostEquals(result.bitsPerByte!, result.nll / Math.LN2 / bytes, 1e-12);
  assertEquals((await perplexity(uniformScorer(4), tokens, { window: 4 })).bitsPerByte, null);
});

Deno.test("perplexity() rejects a window larger than the model's max positions", async () => {
  await assertRejects(
    () => perplexity(uniformScorer(2), range(64), { window: 32, maxPositions: 16 }),
    RangeError,
    "'window' is 32, more than the model's max positions 16",
  );
});

Deno.test("perplexity() rejects bad strides, a short text and logits of the wrong shape", async () => {
  await assertRejects(
    () => perplexity(uniformScorer(2), range(64), { window: 8, stride: 0 }),
    RangeError,
    "'stride'",
  );
  await assertRejects(
    () => perplexity(uniformScorer(2), range(64), { window: 8, stride: 9 }),
    RangeError,
    "'stride'",
  );
  await assertRejects(
    () => perplexity(uniformScorer(2), range(5), { window: 8 }),
    RangeError,
    "shorter than one window",
  );
  const lastOnly = (rows: number[][]) =>
    Promise.resolve({ data: new Float32Array(rows.length * 2), dims: [rows.length, 1, 2] });
  await assertRejects(
    () => perplexity(lastOnly, range(16), { window: 8 }),
    RangeError,
    "logits dims must be [1, 8, vocab], got [1, 1, 2]",
  );
  await assertRejects(
    () => perplexity(uniformScorer(4), range(16), { window: 8 }),
    RangeError,
    "token 4 has id 4, outside the logits' vocabulary of 4",
  );
  await assertRejects(
    () => perplexity(uniformScorer(2), range(16), { window: 8, batch: 0 }),
    RangeError,
    "'batch'",
  );
});
