import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import {
  atProjectRoot,
  notebookFolder,
  notebookParams,
  notebookSpec,
  PROJECT_ROOT,
  runOrLoad,
} from "./session.ts";
import { loadSweepSpec } from "../sweep/spec.ts";
import { savedFilesDisplay } from "./notebook_displays.ts";
import { JUPYTER_DISPLAY } from "../report/display.ts";

Deno.test("notebookParams() outside quick mode is sweeps/default.json, a fresh folder per run", async () => {
  const sweep = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "sweeps", "default.json")));
  const p = notebookParams({}, new Date("2026-12-07T03:04:05Z"));
  assertEquals([p.quick, p.spec, p.resume], [false, "sweeps/default.json", false]);
  assertEquals(p.model, sweep.models[0]);
  assertEquals(p.dtypes, sweep.dtypes);
  assertEquals(p.lengths, sweep.context_lengths);
  assertEquals([p.runs, p.warmup, p.maxNewTokens], [
    sweep.runs,
    sweep.warmup,
    sweep.max_new_tokens,
  ]);
  // The spec file itself runs, untouched: the same cells as `make sweep`.
  assertEquals(p.overrides, {});
  assertEquals(notebookSpec(p), await loadSweepSpec(join(PROJECT_ROOT, "sweeps", "default.json")));
  // Each run writes its own folder under notebooks/ (served by Jupyter): a quick run never
  // merges into a full one.
  assertEquals(
    p.outDir,
    join(PROJECT_ROOT, "notebooks", "run", `2026-12-07T03-04-05-${sweep.name}`),
  );
  const quick = notebookParams({ TURBO_QUICK: "1", TURBO_MODEL: "preset:small" });
  assertEquals([quick.model, quick.lengths, quick.runs, quick.spec], [
    "preset:small",
    [32, 64],
    1,
    null,
  ]);
  assert(quick.outDir.endsWith("-quick") && quick.outDir !== p.outDir);
  // Resuming is explicit: TURBO_OUT names the folder, relative to the project root.
  const resumed = notebookParams({ TURBO_OUT: "notebooks/run/earlier" });
  assertEquals([resumed.outDir, resumed.resume], [
    join(PROJECT_ROOT, "notebooks/run/earlier"),
    true,
  ]);
});

Deno.test("notebookSpec() applies only the variables that are set, perplexity limited to the dtypes", () => {
  const p = notebookParams({ TURBO_DTYPES: "fp32,q4", TURBO_RUNS: "2" });
  const spec = notebookSpec(p);
  assertEquals(spec.dtypes, ["fp32", "q4"]);
  assertEquals(spec.runs, 2);
  assertEquals(spec.perplexity?.dtypes, ["fp32", "q4"]);
  assertEquals(spec.baseline_dtype, "fp32", "fp16 left out: the first dtype is the baseline");
  const file = JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "sweeps", "default.json")));
  assertEquals(spec.perplexity?.window, file.perplexity.window, "the spec's window is kept");
  assertEquals(spec.context_lengths, file.context_lengths);
  assertThrows(
    () => notebookParams({ TURBO_SPEC: "sweeps/nope.json" }),
    TypeError,
    "sweeps/nope.json",
  );
});

Deno.test("atProjectRoot() resolves relative paths from the repository, links stay the notebook's", () => {
  const before = Deno.cwd();
  try {
    Deno.chdir(join(PROJECT_ROOT, "notebooks"));
    atProjectRoot();
    assertEquals(Deno.cwd(), PROJECT_ROOT.replace(/\/$/, ""));
    assertEquals(notebookFolder(), join(PROJECT_ROOT, "notebooks"));
  } finally {
    Deno.chdir(before);
  }
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

Deno.test({
  name: "runOrLoad(): the live demo's forced sweep runs in demo/, the main run's results stay",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "nb_demo_" });
    try {
      // Quick mode (preset:tiny), one length, two dtypes: a real sweep of a few seconds.
      const params = notebookParams({
        TURBO_QUICK: "1",
        TURBO_OUT: out,
        TURBO_DTYPES: "fp32,q4",
        TURBO_LENGTHS: "32",
      });
      const quiet = { log: () => {}, worker: () => {}, close: () => Promise.resolve() };
      const main = await runOrLoad(params, { progress: quiet });
      const mainCsv = await Deno.readTextFile(join(out, "benchmarks", "results.csv"));
      assert(mainCsv.includes("|fp32|") && mainCsv.includes("|q4|"), mainCsv.slice(0, 400));
      const demo = await runOrLoad(params, {
        force: true,
        spec: { ...notebookSpec(params), dtypes: ["q4"], perplexity: null },
        progress: quiet,
      });
      assertEquals(demo.resultsCsv, join(out, "demo", "benchmarks", "results.csv"));
      assertEquals(await Deno.readTextFile(join(out, "benchmarks", "results.csv")), mainCsv);
      assert(main.resultsCsv !== demo.resultsCsv);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
