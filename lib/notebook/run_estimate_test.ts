import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { estimateRun } from "./run_estimate.ts";
import { notebookParams } from "./session.ts";

Deno.test("estimateRun() gives the sweep's probe estimate for the grid and says how to go quick", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const params = notebookParams({ TURBO_QUICK: "1", TURBO_DTYPES: "fp32", TURBO_OUT: dir });
    const estimate = await estimateRun(params);
    assertEquals([estimate.cells, estimate.complete], [4, 0]);
    assert(estimate.seconds !== null && estimate.seconds > 0, `seconds ${estimate.seconds}`);
    assert(
      estimate.markdown.startsWith(
        "**Run all** with these parameters runs the quick grid (preset:tiny, 1 dtype × 2 lengths",
      ),
      estimate.markdown,
    );
    assert(estimate.markdown.includes("TURBO_QUICK=1"), estimate.markdown);
    assert(estimate.markdown.includes("It resumes"), "TURBO_OUT given: it says it resumes");
    // A dry run writes no results.
    const written = await Deno.stat(join(dir, "benchmarks", "results.csv")).then(() => 1, () => 0);
    assertEquals(written, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("estimateRun() with TURBO_RESULTS says the results are loaded, and how to go quick", async () => {
  const estimate = await estimateRun(notebookParams({ TURBO_RESULTS: "benchmarks/results.csv" }));
  assertEquals(estimate.seconds, null);
  assert(estimate.markdown.includes("loads `benchmarks/results.csv`"), estimate.markdown);
  assert(estimate.markdown.includes('Deno.env.set("TURBO_QUICK", "1")'), estimate.markdown);
});
