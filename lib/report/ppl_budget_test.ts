import { assert, assertEquals } from "../testing/assert.ts";
import { finalReport } from "./final_report.ts";
import { pplDegradationSpec } from "./ppl_degradation.ts";
import { testData } from "./_test_data.ts";

Deno.test("at exactly 5.00 % ΔPPL the sweet spot, the 4-bit check, its verdict and the figure agree: out of budget", () => {
  // q4 is the fastest fixture dtype, so only the budget rule can keep it from the sweet spot.
  const data = testData({ q4Delta: 5 });
  const ext = finalReport(data).extended["preset:tiny"]!;
  assertEquals(ext.quality["4bit"]!.delta_ppl_pct, 5);
  assertEquals(ext.checks.four_bit_delta_ppl_under_5pct.value, false);
  assertEquals(ext.checks.four_bit_verdict.value, "no");
  assert(ext.sweet_spot !== null && ext.sweet_spot.label !== "4bit", ext.sweet_spot?.label);
  const q4 = JSON.stringify(pplDegradationSpec(data))
    .match(/"dtype":"q4"[^}]*"within_budget":(\w+)/);
  assertEquals(q4?.[1], "false");
  // Just under the budget, all of them count it in.
  const under = finalReport(testData({ q4Delta: 4.99 })).extended["preset:tiny"]!;
  assertEquals(under.checks.four_bit_delta_ppl_under_5pct.value, true);
  assertEquals(under.sweet_spot?.label, "4bit");
});
