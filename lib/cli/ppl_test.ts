import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";

const CLI = new URL("./ppl.ts", import.meta.url).pathname;

/** Runs the CLI with `args`; WIKITEXT_PATH unset and the Hub off unless `env` says otherwise. */
async function ppl(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env: { WIKITEXT_PATH: "", HF_HUB_OFFLINE: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("ppl CLI writes ppl.json with the documented fields", async () => {
  const dir = await Deno.makeTempDir();
  const text = join(dir, "wiki.txt");
  await Deno.writeTextFile(
    text,
    " = Valkyria Chronicles III = \n\n Senjō no Valkyria 3 is a tactical role @-@ playing game .\n"
      .repeat(12),
  );
  const output = join(dir, "ppl.json");
  const run = await ppl([
    "--model=preset:tiny",
    "--dtypes=q8",
    `--wikitext=${text}`,
    "--window=64",
    "--max-tokens=160",
    "--method=llama-cpp",
    `--output=${output}`,
  ]);
  assertEquals(run.code, 0, run.stderr);
  const report = JSON.parse(await Deno.readTextFile(output));
  for (const key of ["model", "method", "window", "stride", "max_tokens", "baseline", "results"]) {
    assert(key in report, key);
  }
  assertEquals([report.method, report.window, report.stride, report.baseline], [
    "llama-cpp",
    64,
    64,
    "fp32",
  ]);
  assertEquals(report.results.map((r: { dtype: string }) => r.dtype), ["fp32", "q8"]);
  for (const r of report.results) {
    for (
      const key of [
        "dtype",
        "ppl",
        "scored_tokens",
        "stderr",
        "bits_per_byte",
        "delta_ppl_pct",
        "kl",
        "top1_agreement",
        "seconds",
        "tokens_per_s",
        "execution_provider",
      ]
    ) assert(key in r, key);
    // ⌊160 / 64⌋ windows × (64 − 32 − 1) scored tokens.
    assertEquals(r.scored_tokens, 2 * 31);
  }
  assert(run.stdout.includes("q8") && run.stdout.includes(`wrote ${output}`));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("ppl CLI rejects an unknown split or method in one line naming the flag", async () => {
  for (
    const [flag, value] of [["--split", "train"], ["--method", "lm-eval"], [
      "--device",
      "tpu",
    ]] as const
  ) {
    const run = await ppl(["--model=preset:tiny", `${flag}=${value}`]);
    assertEquals(run.code, 1);
    assertEquals(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert(run.stderr.includes(`'${flag}'`) && run.stderr.includes(value), run.stderr);
  }
});

Deno.test("ppl CLI offline without a validation text names --wikitext and WIKITEXT_PATH", async () => {
  // The test split is vendored (data/); the validation split needs a file or the Hub.
  const run = await ppl(["--model=preset:tiny", "--dtypes=fp32", "--split=validation"]);
  assertEquals(run.code, 1);
  const line = run.stderr.trim();
  assert(
    !line.includes("\n") && line.includes("--wikitext") && line.includes("WIKITEXT_PATH"),
    line,
  );
});

Deno.test("ppl CLI rejects a missing --model and a stride of 0", async () => {
  const missing = await ppl(["--dtypes=fp32"]);
  assertEquals(missing.code, 1);
  assert(missing.stderr.includes("--model"), missing.stderr);
  const stride = await ppl(["--model=preset:tiny", "--stride=0"]);
  assertEquals(stride.code, 1);
  assert(stride.stderr.includes("'--stride' must be an integer >= 1"), stride.stderr);
});
