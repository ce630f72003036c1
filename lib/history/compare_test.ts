import assert from "node:assert/strict";
import { type ComparableRun, compareRuns } from "./compare.ts";

function run(
  tps: number[],
  prefill: number[],
  overrides: Partial<ComparableRun> = {},
): ComparableRun {
  return {
    model: "preset:tiny",
    dtype: "q4",
    device: "cpu",
    use_cache: true,
    batch: 1,
    prompt_tokens: 16,
    max_new_tokens: 4,
    samples: { decode_tokens_per_s: tps, prefill_ms: prefill, total_ms: [] },
    ...overrides,
  };
}
const base = [100, 102, 98, 101, 99, 100, 103, 97];

Deno.test("compareRuns(): 20 % slower decode and 20 % slower prefill are both 'worse' (a regression)", () => {
  const c = compareRuns(
    [run(base, base.map((x) => x / 10))],
    [run(base.map((x) => x * 0.8), base.map((x) => x / 8))],
  );
  assert(c.regression);
  assert.deepEqual(c.metrics.map((m) => [m.metric, m.verdict]), [
    ["decode_tokens_per_s", "worse"],
    ["prefill_ms", "worse"],
  ]);
  assert(Math.abs(c.metrics[0]!.change + 0.2) < 0.01);
});

Deno.test("compareRuns(): faster is 'better', a significant 3 % change is 'same', and B's samples pool across runs", () => {
  const faster = compareRuns([run(base, [])], [
    run(base.slice(0, 4).map((x) => x * 1.3), []),
    run(base.slice(4).map((x) => x * 1.3), []),
  ]);
  assert.equal(faster.metrics[0]!.verdict, "better");
  assert.equal(faster.metrics[0]!.nB, 8);
  assert(!faster.regression);
  const small = compareRuns([run(base, [])], [run(base.map((x) => x * 0.97 - 3), [])]);
  assert.equal(small.metrics[0]!.verdict, "same");
  assert.match(small.metrics[0]!.note, /minimum effect/);
  const lenient = compareRuns([run(base, [])], [run(base.map((x) => x * 0.97 - 3), [])], {
    minEffect: 0.01,
  });
  assert.equal(lenient.metrics[0]!.verdict, "worse");
});

Deno.test("compareRuns(): 3 vs 3 samples are 'inconclusive' under Mann–Whitney U but testable with Welch", () => {
  const a = [run([100, 101, 99], [])];
  const b = [run([60, 61, 59], [])];
  const mwu = compareRuns(a, b);
  assert.equal(mwu.metrics[0]!.verdict, "inconclusive");
  assert(!mwu.regression);
  assert.equal(compareRuns(a, b, { test: "welch" }).metrics[0]!.verdict, "worse");
});

Deno.test("compareRuns(): configurations on one side only are listed, not compared", () => {
  const c = compareRuns([run(base, [])], [run(base, [], { dtype: "fp32" })]);
  assert.equal(c.metrics.length, 0);
  assert.deepEqual(c.unmatched.map((u) => u.side), ["A", "B"]);
});
