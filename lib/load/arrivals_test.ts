import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { arrivalTimes } from "./arrivals.ts";

function gaps(t: number[]): number[] {
  return t.map((x, i) => x - (t[i - 1] ?? 0));
}
function cv(xs: number[]): number {
  const m = xs.reduce((a, b) => a + b) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return Math.sqrt(v) / m;
}

Deno.test("arrivalTimes() is seeded: same seed same schedule, other seed another", () => {
  assertEquals(arrivalTimes(50, { rate: 4, seed: 1 }), arrivalTimes(50, { rate: 4, seed: 1 }));
  assert(arrivalTimes(50, { rate: 4, seed: 1 })[0] !== arrivalTimes(50, { rate: 4, seed: 2 })[0]);
});

Deno.test("arrivalTimes() gaps: Poisson has CV 1, burstiness 0.25 is burstier (CV 2), 4 more regular (CV 0.5)", () => {
  // The CV of Gamma(k) gaps is 1/√k whatever the rate.
  for (const [burstiness, want] of [[1, 1], [0.25, 2], [4, 0.5]] as const) {
    const g = gaps(arrivalTimes(20000, { rate: 8, burstiness, seed: 3 }));
    assert(Math.abs(cv(g) - want) < 0.06 * want, `burstiness ${burstiness}: CV ${cv(g)}`);
    const mean = g.reduce((a, b) => a + b) / g.length;
    assert(Math.abs(mean - 1 / 8) < 0.01, `mean gap ${mean}`);
  }
});

Deno.test("arrivalTimes() rejects a non-positive rate or burstiness, naming the flag", () => {
  assertThrows(() => arrivalTimes(3, { rate: 0 }), RangeError, "'request-rate'");
  assertThrows(() => arrivalTimes(3, { rate: 1, burstiness: -1 }), RangeError, "'burstiness'");
});
