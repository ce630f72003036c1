import { assertEquals } from "../testing/assert.ts";
import { expandGrid, newTokensOf, promptSlots } from "./grid.ts";
import { parseSweepSpec } from "./spec.ts";

const spec = parseSweepSpec({
  models: ["a", "b"],
  dtypes: ["fp32", "q4"],
  devices: ["cpu"],
  use_cache: [false, true],
  context_lengths: [512, 128],
  batch_sizes: [1, 2],
  prompts_per_length: 5,
  families: ["code", "summary"],
});

Deno.test("expandGrid() is the full product, each cell once", () => {
  const cells = expandGrid(spec);
  assertEquals(cells.length, 2 * 2 * 1 * 2 * 2 * 2);
  assertEquals(new Set(cells.map((c) => c.id)).size, cells.length);
});

Deno.test("expandGrid() interleaves dtypes and cache modes in rounds, short contexts first", () => {
  const cells = expandGrid(spec).filter((c) => c.model === "a" && c.batch === 1);
  assertEquals(
    cells.map((c) => `${c.dtype}/${c.useCache ? "on" : "off"}${c.contextTokens}`),
    [
      "fp32/on128",
      "q4/on128",
      "fp32/off128",
      "q4/off128",
      "fp32/on512",
      "q4/on512",
      "fp32/off512",
      "q4/off512",
    ],
  );
});

Deno.test("expandGrid() interleaves batch sizes within each cache mode's round", () => {
  const cells = expandGrid(spec).filter((c) => c.model === "a" && c.contextTokens === 128);
  assertEquals(
    cells.map((c) => `${c.dtype}/${c.useCache ? "on" : "off"}/b${c.batch}`),
    [
      "fp32/on/b1",
      "q4/on/b1",
      "fp32/on/b2",
      "q4/on/b2",
      "fp32/off/b1",
      "q4/off/b1",
      "fp32/off/b2",
      "q4/off/b2",
    ],
  );
});

Deno.test("promptSlots() spreads prompts over families round-robin with unique ids", () => {
  const slots = promptSlots(spec);
  assertEquals(slots.map((s) => s.family), ["code", "summary", "code", "summary", "code"]);
  assertEquals(slots.map((s) => s.promptId), [0, 1, 2, 3, 4]);
});

Deno.test("newTokensOf() shortens only cache-off cells, and only when the spec says so", () => {
  const short = parseSweepSpec({ ...spec, max_new_tokens: 32, max_new_tokens_no_cache: 8 });
  assertEquals([newTokensOf(short, { useCache: true }), newTokensOf(short, { useCache: false })], [
    32,
    8,
  ]);
  const same = parseSweepSpec({ ...spec, max_new_tokens: 32 });
  assertEquals(newTokensOf(same, { useCache: false }), 32);
});
