import { assertAlmostEquals, assertEquals, assertThrows } from "../testing/assert.ts";
import { summarize } from "./stats.ts";
import { studentTQuantile975 } from "./_student_t.ts";

Deno.test("summarize() matches hand-computed values for eight samples", () => {
  // Hand computation: mean 5; squared deviations sum to 32 → sample std √(32/7).
  // Ranks h = 7p: p50 h=3.5 → 4.5; p90 h=6.3 → 7.6; p95 h=6.65 → 8.3; p99 h=6.93 → 8.86.
  const s = summarize([9, 4, 2, 5, 4, 7, 4, 5]);
  assertEquals(s.count, 8);
  assertEquals(s.mean, 5);
  assertAlmostEquals(s.std, Math.sqrt(32 / 7), 1e-12);
  assertEquals([s.min, s.max], [2, 9]);
  assertAlmostEquals(s.p50, 4.5, 1e-12);
  assertAlmostEquals(s.p90, 7.6, 1e-12);
  assertAlmostEquals(s.p95, 8.3, 1e-12);
  assertAlmostEquals(s.p99, 8.86, 1e-12);
  // t(0.975, 7) = 2.364624 from the table.
  const half = 2.364624 * Math.sqrt(32 / 7) / Math.sqrt(8);
  assertAlmostEquals(s.ci95HalfWidth!, half, 1e-9);
  assertAlmostEquals(s.ci95Low!, 5 - half, 1e-9);
  assertAlmostEquals(s.ci95High!, 5 + half, 1e-9);
});

Deno.test("summarize() does not reorder its input", () => {
  const samples = [3, 1, 2];
  summarize(samples);
  assertEquals(samples, [3, 1, 2]);
});

Deno.test("summarize() of one sample has std 0 and no confidence interval", () => {
  const s = summarize([42]);
  assertEquals([s.mean, s.std, s.p50, s.p99], [42, 0, 42, 42]);
  assertEquals([s.ci95HalfWidth, s.ci95Low, s.ci95High], [null, null, null]);
});

Deno.test("summarize() rejects empty and non-finite samples naming the field", () => {
  assertThrows(() => summarize([]), RangeError, "'samples' is empty");
  assertThrows(() => summarize([1, NaN]), RangeError, "'samples[1]' is not finite");
});

Deno.test("studentTQuantile975() follows the table and the large-ν expansion", () => {
  assertAlmostEquals(studentTQuantile975(1), 12.706205, 1e-6);
  // Published values beyond the table.
  assertAlmostEquals(studentTQuantile975(31), 2.039513, 2e-6);
  assertAlmostEquals(studentTQuantile975(40), 2.021075, 2e-6);
  assertAlmostEquals(studentTQuantile975(100), 1.983972, 2e-6);
  assertAlmostEquals(studentTQuantile975(1e6), 1.959966, 2e-6);
  assertThrows(() => studentTQuantile975(0), RangeError, "'df'");
});
