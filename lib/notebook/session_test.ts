import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import { notebookParams, PROJECT_ROOT } from "./session.ts";
import { savedFilesDisplay } from "./notebook_displays.ts";
import { JUPYTER_DISPLAY } from "../report/display.ts";

Deno.test("notebookParams() outside quick mode follows sweeps/default.json, output under notebooks/", async () => {
  const sweep = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "sweeps", "default.json")));
  const p = notebookParams({});
  assertEquals(p.quick, false);
  assertEquals(p.model, sweep.models[0]);
  assertEquals(p.dtypes, sweep.dtypes);
  assertEquals(p.lengths, sweep.context_lengths);
  assertEquals([p.runs, p.warmup, p.maxNewTokens], [
    sweep.runs,
    sweep.warmup,
    sweep.max_new_tokens,
  ]);
  // Jupyter serves the project root without hidden folders: the run lands where links open.
  assertEquals(p.outDir, join(PROJECT_ROOT, "notebooks", "run"));
  const quick = notebookParams({ TURBO_QUICK: "1", TURBO_MODEL: "preset:small" });
  assertEquals([quick.model, quick.lengths, quick.runs], ["preset:small", [32, 64], 1]);
});

Deno.test("notebookParams() names the variable of a bad value", () => {
  assertThrows(() => notebookParams({ TURBO_LENGTHS: "128,x" }), RangeError, "TURBO_LENGTHS");
  assertThrows(() => notebookParams({ TURBO_DEVICE: "tpu" }), RangeError, "TURBO_DEVICE");
});

Deno.test("savedFilesDisplay() links relative to the notebook, '../' for files beside it", () => {
  const bundle = savedFilesDisplay(
    ["/p/notebooks/run/metrics/report.html", "/p/benchmarks/results.csv", "run/a b.png"],
    "/p/notebooks",
  )[JUPYTER_DISPLAY]();
  assertEquals(String(bundle["text/markdown"]).split("\n"), [
    "- [run/metrics/report.html](run/metrics/report.html)",
    "- [../benchmarks/results.csv](../benchmarks/results.csv)",
    "- [run/a b.png](run/a%20b.png)",
  ]);
  assert(String(bundle["text/html"]).includes('<a href="run/metrics/report.html">'));
});
