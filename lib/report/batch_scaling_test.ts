import { compile } from "vega-lite";
import { assert, assertEquals } from "../testing/assert.ts";
import { toFrame } from "../results/table.ts";
import { syntheticRows } from "./_fixture.ts";
import { buildFigures } from "./figures.ts";
import { finalReport } from "./final_report.ts";
import { reportData } from "./report_data.ts";
import { reportMarkdown } from "./report_document.ts";
import { comparisonTable } from "./comparison_table.ts";
import { parseResultsCsv } from "./results_table.ts";
import { throughputVsBatchSkipReason, throughputVsBatchSpec } from "./throughput_vs_batch.ts";

/** Total decode tokens/s per batch: grows to batch 4, then flattens. */
const TOTAL: Record<number, number> = { 1: 100, 2: 190, 4: 360, 8: 370 };

/** The synthetic grid at one context, cache on, repeated at each batch with TOTAL's throughput. */
function batchData() {
  const base = syntheticRows({ models: ["preset:a"] })
    .filter((r) => r.status === "ok" && r.use_cache && r.context_tokens === 128);
  const rows = Object.entries(TOTAL).flatMap(([b, total]) =>
    base.map((r) => {
      const batch = Number(b);
      const decode = (r.new_tokens - 1) * batch / total * 1000;
      return {
        ...r,
        run_id: `${r.run_id}b${batch}`,
        cell_id: `${r.cell_id}|b${batch}`,
        batch,
        decode_ms: decode,
        decode_tokens_per_s: total,
        decode_tokens_per_s_per_seq: total / batch,
      };
    })
  );
  return reportData(parseResultsCsv(toFrame("bench", rows).writeCSV().toString()), null);
}

Deno.test("final_report.json: batch_scaling per dtype, totals and per-sequence rates from the CSV, stop at 4", () => {
  const report = finalReport(batchData());
  const scaling = report.extended["preset:a"]!.batch_scaling!;
  assert(scaling.rule.includes("10 %"));
  assert(scaling.entries.length > 0);
  for (const e of scaling.entries) {
    assertEquals(e.points.map((p) => p.batch), [1, 2, 4, 8]);
    assertEquals(e.points.map((p) => p.decode_tokens_per_s), [100, 190, 360, 370]);
    assertEquals(e.points.map((p) => p.decode_tokens_per_s_per_seq), [100, 95, 90, 46.25]);
    assertEquals([e.stops_paying_at, e.largest_measured, e.context_tokens], [4, false, 128]);
    assertEquals(e.settled, e.points.slice(0, 4).every((p) => !p.noisy));
  }
  // The headline numbers stay at the smallest batch.
  assertEquals(report.extended["preset:a"]!.batch, 1);
});

Deno.test("report.md says where batching stops paying on the device", () => {
  const data = batchData();
  const report = finalReport(data);
  const md = reportMarkdown({ data, report, table: comparisonTable(data), figures: [] });
  assert(md.includes("Where does batching stop paying?"), md);
  assert(/batching stops paying at batch 4 on cpu \(Synthetic CPU, 2 cores\)/.test(md), md);
});

Deno.test("figures/throughput_vs_batch: total and per-sequence panels, log2 batch axis, compiles", async () => {
  const data = batchData();
  assertEquals(throughputVsBatchSkipReason(data), null);
  const spec = JSON.parse(JSON.stringify(throughputVsBatchSpec(data)));
  assertEquals(spec.facet.column.field, "measure");
  const x = spec.spec.encoding.x;
  assertEquals([x.field, x.scale.type, x.scale.base], ["batch", "log", 2]);
  assertEquals(x.axis.values, [1, 2, 4, 8]);
  const fp32 = spec.data.values.filter((v: { dtype: string }) => v.dtype === "fp32");
  assertEquals(fp32.length, 8);
  assert(compile(spec).spec.marks!.length > 0);
  assert((await buildFigures(data)).some((f) => f.stem === "figures/throughput_vs_batch"));
});

Deno.test("figures/throughput_vs_batch is skipped with a reason when one batch size ran", async () => {
  const data = reportData(
    parseResultsCsv(
      toFrame("bench", syntheticRows({ models: ["preset:a"] })).writeCSV().toString(),
    ),
    null,
  );
  assert(throughputVsBatchSkipReason(data)!.includes("one batch size"));
  assert(!(await buildFigures(data)).some((f) => f.stem === "figures/throughput_vs_batch"));
  assertEquals(finalReport(data).extended["preset:a"]!.batch_scaling, undefined);
});
