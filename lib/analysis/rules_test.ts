import assert from "node:assert/strict";
import { type AnalysisRow, analyzeBlock, blockSettled } from "./block.ts";
import { compare } from "./compare.ts";
import { memoryCell, memoryLess } from "./memory.ts";
import { rep } from "./_synthetic.ts";

/** Rows of one arm whose round `j` decodes at `rates[j]` tokens/s. */
function rounds(dtype: string, rates: readonly number[], replica = 0): AnalysisRow[] {
  return rates.map((rate, i) => rep({ dtype, rate, round: i + 1, replica }));
}

Deno.test("the A/A floor is symmetric: an arm 12 % slower is inside an A/A that reaches 15 % the other way", () => {
  const base = rounds("fp16", [100, 100, 100, 100, 100, 100]);
  const slow = rounds("q4", [88, 87.5, 88.5, 88, 87.8, 88.2]);
  const plain = compare(slow, base);
  assert.equal(plain.verdict, "slower");
  // Which identical worker is the baseline is arbitrary: 1.15 one way is 0.87 the other.
  const lopsided = compare(slow, base, { aa: [0.98, 1.15] });
  assert.equal(lopsided.verdict, "not established", lopsided.reason);
  assert.match(lopsided.reason, /A\/A/);
  assert.equal(compare(slow, base, { aa: [0.95, 1.05] }).verdict, "slower");
  // An A/A offset clear of 1 raises the floor by the offset, not by the half width alone.
  assert.equal(compare(slow, base, { aa: [1.1, 1.16] }).verdict, "not established");
});

Deno.test("blockSettled waits for three rounds: two rounds of a clear effect do not stop the block", () => {
  const block = (k: number) => [
    ...rounds("fp16", [100, 101, 99, 100].slice(0, k)),
    ...rounds("fp16", [100.5, 100, 99.5, 100].slice(0, k), 1),
    ...rounds("q4", [200, 202, 198, 201].slice(0, k)),
  ];
  const two = blockSettled(block(2));
  assert.equal(two.settled, false);
  assert.deepEqual(two.verdicts.map((v) => v.rounds), [2, 2]);
  assert.equal(blockSettled(block(2), { minRounds: 2 }).settled, true);
  assert.equal(blockSettled(block(3)).settled, true);
});

Deno.test("blockSettled spends α over the looks: an interval settled at 95 % may not be at 95 % ÷ looks", () => {
  // q4 is 1.3× with round-to-round noise: its 95 % interval clears 1.1 after four rounds, the
  // interval at 0.05 ÷ 6 does not.
  const q4 = [1.3 * 1.12, 1.3 / 1.12, 1.3 * 1.04, 1.3 / 1.04].map((x) => 100 * x);
  const rows = [
    ...rounds("fp16", [100, 100, 100, 100]),
    ...rounds("q4", q4),
  ];
  const once = blockSettled(rows);
  assert.equal(once.settled, true, JSON.stringify(once.verdicts));
  const spent = blockSettled(rows, { looks: 6 });
  assert.equal(spent.settled, false, JSON.stringify(spent.verdicts));
  assert(spent.verdicts[0]!.ci95![0] < once.verdicts[0]!.ci95![0]);
});

Deno.test("memory: two rounds against two that separate are 1 in 6 by chance, not established; three against three are", () => {
  const cell = (xs: number[]) => ({
    rounds: xs.length,
    per_round_bytes: xs,
    median_bytes: [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!,
    range: [Math.min(...xs), Math.max(...xs)] as [number, number],
    replicated: xs.length > 1,
  });
  const two = memoryLess(cell([100, 101]), cell([102, 103]));
  assert.equal(two.established, false);
  assert.match(two.reason, /17 %/);
  assert.equal(memoryLess(cell([100, 101, 100]), cell([102, 103, 102])).established, true);
  assert.equal(memoryLess(cell([100, 101]), cell([102, 103, 102, 104, 103])).established, true);
});

Deno.test("memory: one whole-worker peak stamped on every round's rows is one reading, never established", () => {
  const arm = (peak: number) =>
    [1, 2, 3, 4].map((round) => ({ round, block: "b", peak_rss_bytes: peak }));
  const four = memoryCell(arm(6e8), "peak_rss_bytes");
  assert.equal(four.rounds, 4);
  assert.equal(four.replicated, false);
  const c = memoryLess(four, memoryCell(arm(2e9), "peak_rss_bytes"));
  assert.equal(c.established, false);
  assert.match(c.reason, /same peak on every round/);
});

Deno.test("a block whose A/A control is fp32 (baseline_dtype fp32) takes fp32 as its baseline, not fp16", () => {
  const rows = [
    ...rounds("fp32", [100, 101, 99, 100]),
    ...rounds("fp32", [100.5, 100, 99.5, 100], 1),
    ...rounds("fp16", [140, 141, 139, 140]),
    ...rounds("q4", [200, 202, 198, 201]),
  ];
  const a = analyzeBlock(rows);
  assert.equal(a.baseline, "fp32 cache on");
  assert(a.aa_ratio !== null && Math.abs(a.aa_ratio - 1) < 0.01);
  assert.deepEqual(a.verdicts.map((v) => [v.arm, v.comparisons]), [
    ["fp32 cache on ~aa", 1],
    ["fp16 cache on", 2],
    ["q4 cache on", 2],
  ]);
  // Told otherwise, the A/A control of another arm is still never an arm of the family.
  const told = analyzeBlock(rows, { baselineDtype: "fp16" });
  assert.equal(told.aa_ratio, null);
  assert(told.verdicts.every((v) => !v.arm.endsWith("~aa") && v.comparisons === 2));
});
