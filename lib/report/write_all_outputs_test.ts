import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { syntheticPerplexityCsv, syntheticResultsCsv } from "./_fixture.ts";
import { readResultsCsv } from "./results_table.ts";
import { SUMMARY_FIELDS } from "./summary.ts";
import { writeAllOutputs } from "./write_all_outputs.ts";
import pl from "nodejs-polars";

async function inputs(): Promise<{ dir: string; resultsCsv: string; perplexityCsv: string }> {
  const dir = await Deno.makeTempDir({ prefix: "turbo_report_" });
  await Deno.writeTextFile(`${dir}/results.csv`, syntheticResultsCsv());
  await Deno.writeTextFile(`${dir}/perplexity.csv`, syntheticPerplexityCsv());
  return { dir, resultsCsv: `${dir}/results.csv`, perplexityCsv: `${dir}/perplexity.csv` };
}

Deno.test("writeAllOutputs() writes the summary, every figure in three formats and the reports", async () => {
  const { dir, resultsCsv, perplexityCsv } = await inputs();
  try {
    const { files } = await writeAllOutputs({ resultsCsv, perplexityCsv, outDir: `${dir}/out` });
    const rel = files.map((f) => f.slice(`${dir}/out/`.length));
    for (
      const stem of [
        "benchmarks/summary_table",
        "benchmarks/latency_vs_context",
        "benchmarks/memory_footprint",
        "figures/prefill_vs_decode",
        "figures/tokens_per_s_vs_length",
        "figures/ppl_degradation",
      ]
    ) {
      for (const ext of ["vl.json", "svg", "png"]) {
        assert(rel.includes(`${stem}.${ext}`), `${stem}.${ext}`);
      }
    }
    for (
      const f of [
        "benchmarks/summary.csv",
        "metrics/final_report.json",
        "metrics/report.md",
        "metrics/report.html",
      ]
    ) {
      assert(rel.includes(f), f);
    }
    for (const f of files) assert((await Deno.stat(f)).size > 0, `${f} is not empty`);
    const summary = pl.readCSV(await Deno.readTextFile(`${dir}/out/benchmarks/summary.csv`));
    assertEquals(summary.columns, [...SUMMARY_FIELDS]);
    const spec = JSON.parse(await Deno.readTextFile(`${dir}/out/figures/ppl_degradation.vl.json`));
    assert(String(spec.$schema).includes("vega-lite/v5"));
    // The inputs are only read.
    assertEquals((await readResultsCsv(resultsCsv)).height, 3 + 4 * 2 * 3 * 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeAllOutputs() with parts 'figures' writes no report", async () => {
  const { dir, resultsCsv } = await inputs();
  try {
    const { files } = await writeAllOutputs({ resultsCsv, outDir: dir, parts: "figures" });
    assert(!files.some((f) => f.includes("/metrics/")));
    assertEquals(files.length, 1 + 6 * 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeAllOutputs() fails with the path of a missing results CSV", async () => {
  await assertRejects(
    () => writeAllOutputs({ resultsCsv: "/nonexistent/r.csv", outDir: "/nonexistent" }),
    Deno.errors.NotFound,
    "'/nonexistent/r.csv' does not exist",
  );
});
