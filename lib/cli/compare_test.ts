import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";

Deno.test("compare CLI runs all three contenders and they make the same greedy tokens", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp32"] });
  const output = join(await Deno.makeTempDir(), "compare.json");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./compare.ts", import.meta.url).pathname,
      "--model",
      dir,
      "--dtype",
      "fp32",
      "--prompt-tokens",
      "16",
      "--max-new-tokens",
      "6",
      "--warmup",
      "0",
      "--rounds",
      "2",
      "--threads",
      "1",
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
  for (const samples of Object.values(report.decode_tokens_per_s) as number[][]) {
    assertEquals(samples.length, 2);
    assert(samples.every((x) => x > 0));
  }
  assert(report.engine_over_raw > 0 && report.engine_over_transformers_js > 0);
});
