import { assertEquals } from "../testing/assert.ts";
import { expandGrid, promptSlots } from "./grid.ts";
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
  const cells = expandGrid(spec).flatMap((g) => g.cells);
  assertEquals(cells.length, 2 * 2 * 1 * 2 * 2 * 2);
  assertEquals(new Set(cells.map((c) => c.id)).size, cells.length);
});

Deno.test("expandGrid() groups by model+dtype+device so each loads once", () => {
  const groups = expandGrid(spec);
  assertEquals(groups.map((g) => g.key), ["a|fp32|cpu", "a|q4|cpu", "b|fp32|cpu", "b|q4|cpu"]);
  for (const g of groups) {
    for (const c of g.cells) assertEquals(`${c.model}|${c.dtype}|${c.device}`, g.key);
  }
});

Deno.test("expandGrid() runs cache on before off and short contexts first", () => {
  const cells = expandGrid(spec)[0]!.cells.filter((c) => c.batch === 1);
  assertEquals(
    cells.map((c) => `${c.useCache ? "on" : "off"}${c.contextTokens}`),
    ["on128", "on512", "off128", "off512"],
  );
});

Deno.test("promptSlots() spreads prompts over families round-robin with unique ids", () => {
  const slots = promptSlots(spec);
  assertEquals(slots.map((s) => s.family), ["code", "summary", "code", "summary", "code"]);
  assertEquals(slots.map((s) => s.promptId), [0, 1, 2, 3, 4]);
});
