import { assert, assertEquals } from "../testing/assert.ts";
import { preflightWarnings, resultWarnings } from "./run_checks.ts";
import { summarize } from "./stats.ts";

Deno.test("preflightWarnings() warns only when load exceeds half the cores", () => {
  assertEquals(preflightWarnings({ load1: 1, cores: 2 }), []);
  const [warning] = preflightWarnings({ load1: 1.01, cores: 2 });
  assert(warning!.includes("load 1.01 on 2 cores"), warning);
});

Deno.test("resultWarnings() flags a coefficient of variation above the limit and few runs", () => {
  // mean 100, sample std √80 ≈ 8.9 → CV 8.9 %: under the 10 % limit.
  assertEquals(
    resultWarnings("x", summarize([90, 100, 110, 90, 100, 110])).length,
    0,
  );
  const noisy = resultWarnings("decode tokens/s", summarize([50, 100, 150, 100, 100]));
  assertEquals(noisy.length, 1);
  assert(noisy[0]!.startsWith("decode tokens/s varies by 35 %"), noisy[0]);
  const few = resultWarnings("prefill ms", summarize([1, 1]));
  assertEquals(few, [
    "prefill ms: only 2 measured runs, so p95/p99 are interpolated from few samples",
  ]);
});
