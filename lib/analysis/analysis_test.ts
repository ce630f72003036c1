import assert from "node:assert/strict";
import { summarize } from "../measure/stats.ts";
import { type AnalysisRow, analyzeBlock, blockSettled } from "./block.ts";
import { analyzeBlocks } from "./arms.ts";
import { cellRate, pooledRate } from "./cell.ts";
import { compare } from "./compare.ts";
import { normal, rep, rng } from "./_synthetic.ts";
import { studentTQuantile } from "./student_t.ts";
import { withinPplBudget } from "./quality.ts";

/**
 * A designed block: `rounds` rounds over the arms in a rotated order, `reps` repetitions each.
 * The machine's speed factor follows `clock(t)` (t counts repetitions) and each repetition gets
 * `noise` relative jitter.
 */
function designed(
  arms: { dtype: string; speed: number; replica?: number }[],
  opts: {
    rounds: number;
    reps: number;
    noise: number;
    seed: number;
    clock?: (t: number) => number;
  },
): AnalysisRow[] {
  const u = rng(opts.seed);
  const clock = opts.clock ?? (() => 1);
  const rows: AnalysisRow[] = [];
  let t = 0;
  for (let round = 1; round <= opts.rounds; round++) {
    const order = arms.map((_, i) => arms[(i + round) % arms.length]!);
    order.forEach((arm, position) => {
      for (let r = 0; r < opts.reps; r++) {
        const rate = 100 * arm.speed * clock(t++) * (1 + opts.noise * normal(u));
        rows.push(
          {
            ...rep({ dtype: arm.dtype, rate, round, replica: arm.replica ?? 0 }),
            round_position: position,
          } as AnalysisRow,
        );
      }
    });
  }
  return rows;
}

const arm = (rows: AnalysisRow[], dtype: string, replica = 0) =>
  rows.filter((r) => r.dtype === dtype && (r.replica ?? 0) === replica);

Deno.test("student t quantiles match the tables", () => {
  assert(Math.abs(studentTQuantile(0.975, 1) - 12.706205) < 1e-5);
  assert(Math.abs(studentTQuantile(0.975, 9) - 2.262157) < 1e-5);
  assert(Math.abs(studentTQuantile(0.995, 10) - 3.169273) < 1e-5);
  assert(Math.abs(studentTQuantile(0.025, 5) + 2.570582) < 1e-5);
});

Deno.test("an A/A pair of identical distributions: the interval contains 1, not established", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rows = designed([{ dtype: "fp16", speed: 1 }, { dtype: "fp16", speed: 1, replica: 1 }], {
      rounds: 8,
      reps: 3,
      noise: 0.05,
      seed,
    });
    const c = compare(arm(rows, "fp16", 1), arm(rows, "fp16"));
    assert(c.ci95 !== null && c.ci95[0] <= 1 && 1 <= c.ci95[1], `seed ${seed}: ${c.ci95}`);
    assert.equal(c.verdict, "not established");
    const block = analyzeBlock(rows);
    assert.equal(block.aa_ratio, c.ratio);
    assert.deepEqual(block.aa_ci95, c.ci95);
  }
});

Deno.test("an arm 1.3× faster over rounds is faster; 1/1.3 is slower", () => {
  const rows = designed([
    { dtype: "fp16", speed: 1 },
    { dtype: "fp16", speed: 1, replica: 1 },
    { dtype: "q4", speed: 1.3 },
    { dtype: "q8", speed: 1 / 1.3 },
  ], { rounds: 6, reps: 3, noise: 0.05, seed: 7 });
  const block = analyzeBlock(rows);
  const q4 = block.verdicts.find((v) => v.dtype === "q4")!;
  const q8 = block.verdicts.find((v) => v.dtype === "q8")!;
  assert.equal(q4.verdict, "faster");
  assert(q4.ratio! > 1.2 && q4.ratio! < 1.4, `${q4.ratio}`);
  assert.equal(q8.verdict, "slower");
  assert(q8.ratio! > 1 / 1.4 && q8.ratio! < 1 / 1.2, `${q8.ratio}`);
  assert.equal(q4.comparisons, 2); // q4 and q8 against fp16: one Bonferroni family
  assert.equal(q4.aa_floor, block.aa_ci95);
});

Deno.test("a drifting clock: the old block design declares a difference, rounds do not", () => {
  // The machine slows down by 1 % per repetition; both arms are the same speed.
  const clock = (t: number) => 1 / (1 + 0.01 * t);
  const u = rng(11);
  // Old design: every repetition of A, then every repetition of B, one cell each (no rounds).
  let t = 0;
  const oldA = Array.from(
    { length: 10 },
    () => rep({ dtype: "q4", rate: 100 * clock(t++) * (1 + 0.01 * normal(u)) }),
  );
  const oldB = Array.from(
    { length: 10 },
    () => rep({ dtype: "fp16", rate: 100 * clock(t++) * (1 + 0.01 * normal(u)) }),
  );
  // The old test: CI95 of the mean of per-run rates, back to back, and whether they overlap.
  const interval = (rows: AnalysisRow[]) => {
    const s = summarize(rows.map((r) => (r.new_tokens - 1) / r.decode_ms! * 1000));
    return [s.ci95Low!, s.ci95High!];
  };
  const [a, b] = [interval(oldA), interval(oldB)];
  assert(a[0]! > b[1]!, "the old design must call the same-speed arms different");
  // The analysis refuses it: the cells share one (implicit) round, so no interval exists.
  assert.equal(compare(oldA, oldB).verdict, "not established");
  // The same rows with A's rounds before B's rounds share no round at all.
  const asRounds = (rows: AnalysisRow[], first: number) =>
    rows.map((r, i) => ({ ...r, round: first + Math.floor(i / 2) }));
  const separated = compare(asRounds(oldA, 1), asRounds(oldB, 6));
  assert.equal(separated.verdict, "not established");
  assert.equal(separated.rounds, 0);
  // The designed experiment under the same clock: interleaved rounds cancel the drift.
  const rows = designed([{ dtype: "fp16", speed: 1 }, { dtype: "fp16", speed: 1, replica: 1 }, {
    dtype: "q4",
    speed: 1,
  }], {
    rounds: 8,
    reps: 2,
    noise: 0.01,
    seed: 11,
    clock,
  });
  const q4 = analyzeBlock(rows).verdicts.find((v) => v.dtype === "q4")!;
  assert.equal(q4.verdict, "not established");
  assert(q4.ratio! > 0.9 && q4.ratio! < 1.1, `${q4.ratio}`);
});

Deno.test("legacy rows without rounds: one round per cell, no interval, not established", () => {
  const base = Array.from({ length: 5 }, () => rep({ dtype: "fp16", rate: 100 }));
  const q4 = Array.from({ length: 5 }, () => rep({ dtype: "q4", rate: 200 }));
  const c = compare(q4, base);
  assert.equal(c.rounds, 1);
  assert.equal(c.ci95, null);
  assert.equal(c.verdict, "not established");
  assert.match(c.reason, /one round/);
  assert.equal(c.ratio, 2); // the point estimate is still reported
  assert.equal(cellRate(q4).ci95, null);
  const block = analyzeBlock([...base, ...q4]);
  assert.equal(block.aa_ratio, null);
  assert.equal(block.aa_ci95, null);
  assert.equal(block.settled, false);
});

Deno.test("the cell interval comes from rounds, not from repetitions", () => {
  // Many repetitions in one round give no interval; the pooled rate is Σ tokens / Σ time.
  const one = [rep({ dtype: "fp16", rate: 100 }, 50), rep({ dtype: "fp16", rate: 200 }, 150)];
  assert.equal(cellRate(one).ci95, null);
  assert.equal(pooledRate(one), 200 / (0.5 + 0.75));
  const two = one.map((r, i) => ({ ...r, round: i + 1 }));
  const c = cellRate(two);
  assert.equal(c.rounds, 2);
  assert(
    c.ci95![0] > 0 && c.ci95![0] < c.decode_tokens_per_s! && c.ci95![1] > c.decode_tokens_per_s!,
  );
});

Deno.test("Bonferroni widens each interval of a family", () => {
  const rows = designed([{ dtype: "fp16", speed: 1 }, { dtype: "q4", speed: 1.2 }], {
    rounds: 5,
    reps: 2,
    noise: 0.05,
    seed: 3,
  });
  const one = compare(arm(rows, "q4"), arm(rows, "fp16"));
  const three = compare(arm(rows, "q4"), arm(rows, "fp16"), { comparisons: 3 });
  assert.equal(one.ratio, three.ratio);
  assert(three.ci95![0] < one.ci95![0] && three.ci95![1] > one.ci95![1]);
});

Deno.test("an effect inside the A/A interval or under 10 % is not established", () => {
  const rows = designed([{ dtype: "fp16", speed: 1 }, { dtype: "q4", speed: 1.05 }], {
    rounds: 12,
    reps: 2,
    noise: 0.005,
    seed: 5,
  });
  const small = compare(arm(rows, "q4"), arm(rows, "fp16"));
  assert(small.ci95![0] > 1, "the interval is clear of 1");
  assert.equal(small.verdict, "not established");
  assert.match(small.reason, /10 % minimum/);
  const big = designed([{ dtype: "fp16", speed: 1 }, { dtype: "q4", speed: 1.2 }], {
    rounds: 6,
    reps: 2,
    noise: 0.005,
    seed: 5,
  });
  const inside = compare(arm(big, "q4"), arm(big, "fp16"), { aa: [0.7, 1.3] });
  assert.equal(inside.verdict, "not established");
  assert.match(inside.reason, /A\/A/);
});

Deno.test("blockSettled: not after one round, settled once every interval leaves or sits in the band", () => {
  const arms = [{ dtype: "fp16", speed: 1 }, { dtype: "fp16", speed: 1, replica: 1 }, {
    dtype: "q4",
    speed: 1.5,
  }];
  const rows = designed(arms, { rounds: 10, reps: 2, noise: 0.01, seed: 9 });
  const first = blockSettled(rows.filter((r) => r.round === 1));
  assert.equal(first.settled, false);
  assert.equal(first.verdicts.length, 2);
  const all = blockSettled(rows);
  assert.equal(all.settled, true, JSON.stringify(all.verdicts));
  assert.deepEqual(all.verdicts.map((v) => v.rounds), [10, 10]);
  assert.equal(all.verdicts[0]!.arm, "fp16 cache on ~aa");
  // A noisy block does not settle in three rounds.
  const noisy = designed(arms, { rounds: 3, reps: 1, noise: 0.3, seed: 9 });
  assert.equal(blockSettled(noisy).settled, false);
});

Deno.test("one rule at the 5 % ΔPPL budget", () => {
  assert.equal(withinPplBudget(5), false);
  assert.equal(withinPplBudget(4.999), true);
  assert.equal(withinPplBudget(undefined), null);
});

Deno.test("rows whose block column is empty (older files) are grouped by model, device, context, batch and family", () => {
  const rows = [128, 512].flatMap((context_tokens) =>
    ["fp16", "q4"].map((dtype) => ({ ...rep({ dtype, rate: 100, context_tokens }), block: "" }))
  );
  const blocks = analyzeBlocks(rows);
  assert.equal(blocks.length, 2);
  assert.deepEqual(blocks.map((b) => b.context_tokens), [128, 512]);
});
