import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";

Deno.test("compare CLI runs raw loop, copy path, in-place path, transformers.js and shared-buffer GQA with the same greedy tokens", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp32"] });
  const gqaShared = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./compare.ts", import.meta.url).pathname,
      "--model",
      dir,
      "--dtype",
      "fp32",
      "--gqa-shared",
    ],
    stderr: "piped",
  }).output();
  const gqaError = new TextDecoder().decode(gqaShared.stderr);
  assertEquals(gqaShared.code, 1, gqaError);
  assert(gqaError.includes("'--gqa-shared' needs '--model preset:NAME'"), gqaError);
  const output = join(await Deno.makeTempDir(), "compare.json");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./compare.ts", import.meta.url).pathname,
      "--model",
      "preset:tiny",
      "--dtype",
      "fp32",
      "--prompt-tokens",
      "16,24",
      "--max-new-tokens",
      "6",
      "--warmup",
      "0",
      "--rounds",
      "2",
      "--threads",
      "1",
      "--gqa-shared",
      "--output",
      output,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  const report = JSON.parse(await Deno.readTextFile(output));
  assertEquals(report.tokens_agree, true);
  assertEquals(report.in_place_model, "preset:tiny+in_place");
  assertEquals(report.lengths.map((l: { prompt_tokens: number }) => l.prompt_tokens), [16, 24]);
  for (const length of report.lengths) {
    assertEquals(Object.keys(length.decode_tokens_per_s), [
      "raw session.run loop",
      "engine, kv copy",
      "engine, kv in_place",
      "transformers.js generate()",
      "gqa, shared past/present buffer",
    ]);
    for (const samples of Object.values(length.decode_tokens_per_s) as number[][]) {
      assertEquals(samples.length, 2);
      assert(samples.every((x) => x > 0));
    }
    assert(length.in_place_over_copy > 0 && length.in_place_over_transformers_js > 0);
    // tiny: 2 layers × 2 kv heads × 16 dims × 4 bytes × 2, for prompt + 6 positions.
    assertEquals(length.in_place_cache_bytes, (length.prompt_tokens + 6) * 2 * 2 * 16 * 4 * 2);
  }
  assert(new TextDecoder().decode(out.stdout).includes("| 24 |"));
});
