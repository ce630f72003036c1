import { assert, assertAlmostEquals } from "../testing/assert.ts";
import { estimateBlockMs, estimateCellMs, estimatePerplexityMs, fitCostModel } from "./estimate.ts";
import { parseSweepSpec } from "./spec.ts";

const prefill = (t: number) => 0.05 * t + 0.0002 * t * t;
const decode = (c: number) => 2 + 0.001 * c;
const model = fitCostModel([
  { tokens: 128, prefillMs: prefill(128), decodeMs: decode(128) },
  { tokens: 1024, prefillMs: prefill(1024), decodeMs: decode(1024) },
]);

Deno.test("fitCostModel() recovers a quadratic prefill and a linear decode from two points", () => {
  for (const t of [64, 512, 2048]) {
    assertAlmostEquals(model.prefillMs(t), prefill(t), 1e-9);
    assertAlmostEquals(model.decodeMs(t), decode(t), 1e-9);
  }
});

Deno.test("fitCostModel() with one point is linear and clamps noise to non-negative slopes", () => {
  const one = fitCostModel([{ tokens: 100, prefillMs: 10, decodeMs: 3 }]);
  assertAlmostEquals(one.prefillMs(300), 30, 1e-9);
  assertAlmostEquals(one.decodeMs(5000), 3, 1e-9);
  const noisy = fitCostModel([
    { tokens: 100, prefillMs: 50, decodeMs: 5 },
    { tokens: 200, prefillMs: 60, decodeMs: 4 },
  ]);
  assert(noisy.prefillMs(400) >= 0 && noisy.decodeMs(1000) >= 0);
});

Deno.test("estimateCellMs() sums the runs of a cell; cache off grows with every token", () => {
  const spec = parseSweepSpec({
    models: ["m"],
    dtypes: ["q4"],
    context_lengths: [512],
    prompts_per_length: 2,
    warmup: 1,
    runs: 3,
    max_new_tokens: 4,
  });
  const base = { id: "c", model: "m", dtype: "q4" as const, device: "cpu" as const, batch: 1 };
  const on = estimateCellMs(spec, { ...base, useCache: true, contextTokens: 512 }, model);
  const off = estimateCellMs(spec, { ...base, useCache: false, contextTokens: 512 }, model);
  const runs = 1 + 2 * 3;
  assertAlmostEquals(on, runs * (prefill(512) + decode(513) + decode(514) + decode(515)), 1e-6);
  assertAlmostEquals(
    off,
    runs * (prefill(512) + prefill(513) + prefill(514) + prefill(515)),
    1e-6,
  );
});

Deno.test("estimatePerplexityMs() counts windows × dtypes, and nothing without perplexity", () => {
  const spec = parseSweepSpec({
    models: ["m"],
    dtypes: ["q4"],
    context_lengths: [8],
    perplexity: { dtypes: ["fp32", "q4"], window: 256, stride: 128, max_tokens: 1024 },
  });
  // Windows start at 0, 128, …, 768: 7 windows of 256 tokens, two dtypes.
  assertAlmostEquals(estimatePerplexityMs(spec, model), 7 * 2 * prefill(256), 1e-6);
  assertAlmostEquals(estimatePerplexityMs({ ...spec, perplexity: null }, model), 0, 0);
});

Deno.test("estimateBlockMs(): parallel starts and warmups, then rounds of every arm's time-floored repetitions", () => {
  const spec = parseSweepSpec({
    models: ["m"],
    dtypes: ["fp32"],
    context_lengths: [128],
    prompts_per_length: 1,
    max_new_tokens: 1000,
    max_new_tokens_no_cache: 10,
    min_rep_seconds: 0.3,
    warmup: 1,
    runs: 1,
  });
  const flat = fitCostModel([{ tokens: 100, prefillMs: 10, decodeMs: 2 }]);
  const on = {
    id: "on",
    model: "m",
    dtype: "fp32" as const,
    device: "cpu" as const,
    useCache: true,
    contextTokens: 128,
    batch: 1,
  };
  const off = { ...on, id: "off", useCache: false };
  // Cache on: prefill 12.8 ms + 150 steps of 2 ms; cache off: the 10-token cap stops it first.
  const onMs = 12.8 + 300;
  const offMs = 12.8 + 9 * (0.1 * 129);
  const rounds = 3;
  const expected = (2 * 1000 + onMs + offMs) / 2 + rounds * (onMs + offMs);
  assertAlmostEquals(estimateBlockMs(spec, [on, off], flat, 1000, rounds), expected, 1e-6);
});
