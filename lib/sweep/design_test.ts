// The designed experiment against its alternative, with the round loop (lib/measure/rounds.ts)
// and the analysis layer's paired comparison (lib/analysis/compare.ts): no model, a fake arm on
// a synthetic drifting clock, and a real arm made 1.3x slower per step.
import { assert, assertEquals } from "../testing/assert.ts";
import { mulberry32 } from "../_rng.ts";
import { studentTQuantile975 } from "../measure/_student_t.ts";
import { type RoundArm, type RoundRecord, runRounds } from "../measure/rounds.ts";
import { compare } from "../analysis/compare.ts";

/** Decode tokens (after the first) and the time they took: one repetition. */
interface PooledRep {
  tokens: number;
  ms: number;
}

/** An arm's records as the analysis layer's repetition rows. */
function repRows(records: readonly RoundRecord<PooledRep>[], armId: string) {
  return records.filter((r) => r.armId === armId).map((r) => ({
    round: r.round,
    new_tokens: r.result.tokens + 1,
    batch: 1,
    decode_ms: r.result.ms,
    status: "ok" as const,
  }));
}

/**
 * A machine whose speed drifts: every step of work costs `stepMs × (1 + drift × t)` on a fake
 * clock `t` (ms) that only the work advances, times a seeded ±5 % jitter. Two arms on it are
 * identical.
 */
class DriftingMachine {
  t = 0;
  readonly #random = mulberry32(3);
  constructor(readonly stepMs: number, readonly drift: number) {}
  now = () => this.t;
  /** One repetition of `steps` decode steps: tokens and the time they took. */
  rep(steps: number): PooledRep {
    const start = this.t;
    for (let i = 0; i < steps; i++) {
      this.t += this.stepMs * (1 + this.drift * this.t) * (0.95 + 0.1 * this.#random());
    }
    return { tokens: steps, ms: this.t - start };
  }
}

function fakeArm(id: string, machine: DriftingMachine, reps: number, steps: number) {
  return {
    id,
    turn: () => Promise.resolve(Array.from({ length: reps }, () => machine.rep(steps))),
  } satisfies RoundArm<PooledRep>;
}

/** Welch's t of two samples' means (the old report's test between two cells). */
function welchT(a: number[], b: number[]): { t: number; df: number } {
  const m = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const v = (x: number[]) => x.reduce((s, y) => s + (y - m(x)) ** 2, 0) / (x.length - 1);
  const [sa, sb] = [v(a) / a.length, v(b) / b.length];
  const df = (sa + sb) ** 2 / (sa ** 2 / (a.length - 1) + sb ** 2 / (b.length - 1));
  return { t: (m(a) - m(b)) / Math.sqrt(sa + sb), df: Math.max(1, Math.floor(df)) };
}

Deno.test("a drifting clock: the old block design declares a difference between identical arms, the interleaved rounds do not", async () => {
  // Old design: each arm is one cell measured once, in its own time block (5 runs back to back).
  const old = new DriftingMachine(2, 1e-3);
  const rate = (r: PooledRep) => r.tokens / r.ms * 1000;
  const a = Array.from({ length: 5 }, () => rate(old.rep(32)));
  const b = Array.from({ length: 5 }, () => rate(old.rep(32)));
  const { t, df } = welchT(a, b);
  assert(
    Math.abs(t) > studentTQuantile975(df),
    `the old design must call identical arms different: t = ${t.toFixed(1)}, df ${df}`,
  );

  // New design: both arms live, one repetition each per round, the order drawn every round.
  const machine = new DriftingMachine(2, 1e-3);
  const { records, rounds, stop } = await runRounds(
    [fakeArm("a", machine, 1, 32), fakeArm("b", machine, 1, 32)],
    { minRounds: 10, maxRounds: 10, seed: 42, now: machine.now },
  );
  assertEquals([rounds, stop], [10, "max_rounds"]);
  const paired = compare(repRows(records, "b"), repRows(records, "a"));
  const [low, high] = paired.ci95!;
  assert(low < 1 && high > 1, `the interval must contain 1: ${low}..${high}`);
  assertEquals(paired.verdict, "not established");
  // The drift is real in both designs: it shows in the per-round ratios, not in their mean.
  assert(paired.round_ratios.some((r) => Math.abs(r - 1) > 0.02), paired.round_ratios.join());
});

/** A real wall-clock delay per decode step (a test-only delay, as a slower kernel would add). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("an arm slowed by 1.3× per step is detected, in the right direction", async () => {
  // A real delay rather than CPU work: under `deno test --parallel` other tests take the cores,
  // and a CPU loop's time then measures them, not the arm. The delay is real time all the same.
  const realArm = (id: string, slowdown: number): RoundArm<PooledRep> => ({
    id,
    turn: async () => {
      const start = performance.now();
      for (let step = 0; step < 5; step++) await delay(15 * slowdown);
      return [{ tokens: 5, ms: performance.now() - start }];
    },
  });
  const { records } = await runRounds([realArm("base", 1), realArm("slow", 1.3)], {
    // Steps of 15 ms (timer and scheduler jitter under the parallel suite is a few ms; at 6 ms
    // steps it once widened the interval past the minimum effect) over 25 rounds: the interval
    // holds even while other processes share the cores.
    minRounds: 25,
    maxRounds: 25,
    seed: 7,
  });
  const paired = compare(repRows(records, "slow"), repRows(records, "base"));
  assert(paired.ci95 !== null && paired.ci95[1] < 1, `slower, clear of 1: ${paired.ci95}`);
  assert(paired.ratio! < 0.95, `ratio ${paired.ratio!.toFixed(3)} (expected about 1/1.3)`);
  assertEquals(paired.verdict, "slower");
});
