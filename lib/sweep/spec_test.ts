import { assertEquals, assertThrows } from "../testing/assert.ts";
import { loadSweepSpec, parseSweepSpec } from "./spec.ts";

const minimal = { models: ["preset:tiny"], dtypes: ["fp32", "q4"], context_lengths: [128, 256] };

Deno.test("parseSweepSpec() fills the brief's defaults", () => {
  const spec = parseSweepSpec(minimal);
  assertEquals(spec.warmup, 5);
  assertEquals(spec.runs, 10);
  assertEquals(spec.seed, 42);
  assertEquals(spec.prompts_per_length, 50);
  assertEquals(spec.use_cache, [true, false]);
  assertEquals(spec.batch_sizes, [1]);
  assertEquals(spec.families, ["conversational", "code", "summary"]);
  assertEquals(spec.perplexity, null);
});

Deno.test("parseSweepSpec(): the designed experiment's keys default sensibly and are checked, naming the field", () => {
  const spec = parseSweepSpec(minimal);
  // No fp16 in the grid: the first dtype is the baseline.
  assertEquals(
    [spec.baseline_dtype, spec.min_rep_seconds, spec.min_rounds, spec.max_rounds, spec.aa_control],
    ["fp32", 0.3, 1, 1, false],
  );
  assertEquals(parseSweepSpec({ ...minimal, dtypes: ["q4", "fp16"] }).baseline_dtype, "fp16");
  assertEquals(parseSweepSpec({ ...minimal, min_rounds: 3 }).max_rounds, 3);
  const bad: [unknown, string][] = [
    [
      { ...minimal, baseline_dtype: "fp16" },
      "$.baseline_dtype must be one of $.dtypes, got 'fp16'",
    ],
    [
      { ...minimal, min_rounds: 4, max_rounds: 2 },
      "$.max_rounds must be >= $.min_rounds (4), got 2",
    ],
    [{ ...minimal, min_rep_seconds: -1 }, "$.min_rep_seconds must be a positive number"],
    [{ ...minimal, round_order: "random" }, "$.round_order must be shuffle or rotate"],
  ];
  for (const [value, message] of bad) assertThrows(() => parseSweepSpec(value), TypeError, message);
});

Deno.test("parseSweepSpec() names the JSON path of each problem", () => {
  const cases: [unknown, string][] = [
    [{ ...minimal, colour: "red" }, "$.colour is not a known field"],
    [{ ...minimal, dtypes: ["fp32", "int3"] }, "$.dtypes[1] must be one of"],
    [{ ...minimal, dtypes: [] }, "$.dtypes must not be empty"],
    [{ ...minimal, runs: 0 }, "$.runs must be an integer >= 1, got 0"],
    [{ ...minimal, runs: "ten" }, '$.runs must be an integer >= 1, got "ten"'],
    [{ ...minimal, devices: ["tpu"] }, "$.devices[0] must be one of cpu, cuda, webgpu"],
    [{ ...minimal, use_cache: ["yes"] }, "$.use_cache[0] must be true or false"],
    [{ ...minimal, context_lengths: [128, 128] }, "$.context_lengths has duplicate entries"],
    [{ dtypes: ["q4"], context_lengths: [1] }, "$.models is required"],
    [{ ...minimal, perplexity: { dtypes: ["q4"], window: 8, stride: 9 } }, "$.perplexity.stride"],
    [{ ...minimal, perplexity: { dtypes: ["q4"], methd: "hf" } }, "$.perplexity.methd"],
    [
      { ...minimal, perplexity: { dtypes: ["q4"], window: 8, stride: 4, method: "llama-cpp" } },
      "$.perplexity.stride must equal window (8) with method llama-cpp, got 4",
    ],
    [{ ...minimal, perplexity: { dtypes: ["q4"], pairwise: "yes" } }, "$.perplexity.pairwise"],
    [{ ...minimal, cell_timeout_s: 1e9 }, "$.cell_timeout_s must be <= 604800"],
    [{ ...minimal, perplexity: { dtypes: ["q4", "q4"] } }, "$.perplexity.dtypes has duplicate"],
    [[1, 2], "$ must be an object"],
  ];
  for (const [value, message] of cases) {
    assertThrows(() => parseSweepSpec(value), TypeError, message);
  }
});

Deno.test("every committed sweep file is a valid spec", async () => {
  const dir = new URL("../../sweeps/", import.meta.url);
  let count = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    const spec = await loadSweepSpec(new URL(entry.name, dir).pathname);
    assertEquals(spec.models.length > 0, true);
    count++;
  }
  assertEquals(count >= 3, true, "default, seed-gpu and llama3-8b-shape");
});

Deno.test("parseSweepSpec() gives llama-cpp perplexity a stride equal to its window", () => {
  const spec = parseSweepSpec({
    ...minimal,
    perplexity: { dtypes: ["q4"], window: 64, method: "llama-cpp" },
  });
  assertEquals([spec.perplexity!.window, spec.perplexity!.stride], [64, 64]);
  const hf = parseSweepSpec({ ...minimal, perplexity: { dtypes: ["q4"], window: 64 } });
  assertEquals([hf.perplexity!.stride, hf.perplexity!.pairwise], [32, false]);
});
