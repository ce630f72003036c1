import { assert, assertEquals } from "../testing/assert.ts";
import { comparisonTable } from "./comparison_table.ts";
import { testData } from "./_test_data.ts";

Deno.test("comparisonTable() scores each column within the setup, best = 1", () => {
  const table = comparisonTable(testData());
  const q4 = table.rows.find((r) => r.dtype === "q4")!;
  const fp32 = table.rows.find((r) => r.dtype === "fp32")!;
  assertEquals(q4.scores.tokens_per_s, 1);
  assertEquals(fp32.scores.tokens_per_s, 0);
  assertEquals(q4.scores.delta_ppl_pct, 0);
  assertEquals(fp32.scores.memory_gb, 0);
  assertEquals(table.memoryKind, "RSS");
  assertEquals(table.columns[0]!.title, "decode tok/s @ 2048");
});

Deno.test("comparisonTable() leaves quality cells null without perplexity", () => {
  const table = comparisonTable(testData({ perplexity: false }));
  assert(table.rows.every((r) => r.ppl === null && r.scores.ppl === null));
  assert(table.rows.every((r) => r.tokens_per_s !== null));
});
