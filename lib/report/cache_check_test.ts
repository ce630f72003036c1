import { assertEquals } from "../testing/assert.ts";
import { toFrame } from "../results/table.ts";
import { syntheticRows } from "./_fixture.ts";
import { finalReport } from "./final_report.ts";
import { reportData } from "./report_data.ts";
import { parseResultsCsv } from "./results_table.ts";

Deno.test("'the cache is slower at some length' is a claim about one of many pairs: it needs the family's interval", () => {
  // Two dtypes × two lengths = four pairs (cache on ÷ off). At q4 and 512 tokens the cache reads
  // 0.8× over four rounds, log ratios spread by 0.1: the pair's own 95 % interval clears 1 and the
  // 10 % minimum, the four pairs' Bonferroni interval does not.
  const z = [-1.16, -0.39, 0.39, 1.16];
  const rows = syntheticRows({ dtypes: ["fp16", "q4"], contexts: [128, 512], runs: 4 }).map((r) =>
    r.status === "ok" && r.dtype === "q4" && r.context_tokens === 512
      ? {
        ...r,
        decode_ms: r.use_cache ? 1000 / Math.exp(Math.log(0.8) + 0.1 * z[r.run_index]!) : 1000,
      }
      : r
  );
  const data = reportData(parseResultsCsv(toFrame("bench", rows).writeCSV().toString()), null);
  const check = finalReport(data).extended["preset:tiny"]!.checks.cache_faster_at_every_length;
  assertEquals(check.details.slower, []);
  assertEquals(check.details.not_established.map((p) => [p.label, p.context]), [["4bit", 512]]);
  assertEquals(check.value, null);
});
