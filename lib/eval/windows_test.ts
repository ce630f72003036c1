import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { effectiveStride, planWindows } from "./windows.ts";

const PAIRS: [number, number][] = [[4, 1], [4, 2], [4, 3], [8, 3], [16, 8], [16, 15], [7, 5]];

Deno.test("planWindows() with stride < window targets every token after the first exactly once", () => {
  for (const tokens of [16, 17, 29, 64]) {
    for (const [window, stride] of PAIRS) {
      const hits = new Array<number>(tokens).fill(0);
      for (const w of planWindows(tokens, { window, stride })) {
        assert(w.end - w.start <= window && w.start % stride === 0, `window ${JSON.stringify(w)}`);
        for (let t = w.scoreFrom; t < w.end; t++) hits[t]!++;
      }
      assertEquals(
        hits,
        [0, ...new Array<number>(tokens - 1).fill(1)],
        `${tokens}/${window}/${stride}`,
      );
    }
  }
});

Deno.test("planWindows() gives each target of a later window window−stride tokens of context", () => {
  const [window, stride] = [16, 5];
  for (const w of planWindows(100, { window, stride }).slice(1)) {
    assert(w.scoreFrom - w.start >= window - stride, JSON.stringify(w));
  }
});

Deno.test("planWindows() with stride = window skips each window's first token, as HF does", () => {
  const windows = planWindows(10, { window: 4, stride: 4 });
  assertEquals(windows.map((w) => [w.start, w.end, w.scoreFrom]), [[0, 4, 1], [4, 8, 5], [
    8,
    10,
    9,
  ]]);
});

Deno.test("planWindows() llama-cpp scores the second half of each whole window", () => {
  const windows = planWindows(100, { window: 16, method: "llama-cpp" });
  assertEquals(windows.length, 6);
  assertEquals(windows.reduce((n, w) => n + w.end - w.scoreFrom, 0), 6 * (16 - 8 - 1));
  assertEquals(windows[1], { start: 16, end: 32, scoreFrom: 25 });
  assertEquals(effectiveStride({ window: 16, method: "llama-cpp" }), 16);
});

Deno.test("planWindows() rejects a stride <= 0 or > window, naming the field", () => {
  for (const stride of [0, -2, 5, 1.5]) {
    assertThrows(() => planWindows(20, { window: 4, stride }), RangeError, "'stride'");
  }
  assertThrows(
    () => planWindows(20, { window: 4, stride: 2, method: "llama-cpp" }),
    RangeError,
    "'stride' must equal 'window'",
  );
});

Deno.test("planWindows() rejects text shorter than one window", () => {
  assertThrows(() => planWindows(3, { window: 4 }), RangeError, "shorter than one window");
  assertThrows(
    () => planWindows(15, { window: 16, method: "llama-cpp" }),
    RangeError,
    "shorter than one window",
  );
});

Deno.test("planWindows() rejects an unknown method and a window below 2", () => {
  assertThrows(
    () => planWindows(20, { window: 4, method: "lm-eval" as "hf" }),
    RangeError,
    "'method' must be one of hf, llama-cpp",
  );
  assertThrows(() => planWindows(20, { window: 1 }), RangeError, "'window'");
});

Deno.test("planWindows() rejects a window larger than the model's max positions", () => {
  assertThrows(
    () => planWindows(4096, { window: 2048, maxPositions: 1024 }),
    RangeError,
    "'window' is 2048, more than the model's max positions 1024",
  );
  assertEquals(planWindows(4096, { window: 1024, maxPositions: 1024 }).length, 7);
});
