import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";

const BENCH = new URL("./bench.ts", import.meta.url).pathname;

async function bench(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", BENCH, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** The CLI failed with exactly one stderr line that contains `includes`. */
function assertOneLineError(r: { code: number; stderr: string }, includes: string): void {
  assert(r.code !== 0, "exit code must not be 0");
  const lines = r.stderr.trim().split("\n");
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: ") && lines[0]!.includes(includes), r.stderr);
}

function tinyDir(): Promise<string> {
  return ensureModel("tiny", { dtypes: ["fp32"] });
}

Deno.test("bench CLI rejects an unknown flag in one line", async () => {
  assertOneLineError(await bench(["--model", "x/y", "--speed", "9"]), "--speed");
});

Deno.test("bench CLI rejects --max-new-tokens 0 and an unknown device", async () => {
  const dir = await tinyDir();
  assertOneLineError(await bench(["--model", dir, "--max-new-tokens", "0"]), "'--max-new-tokens'");
  assertOneLineError(
    await bench(["--model", dir, "--device", "tpu"]),
    "'--device' is unknown: 'tpu'",
  );
});

Deno.test("bench CLI names a dtype the model lacks and lists the ones it has", async () => {
  const dir = await tinyDir();
  const r = await bench(["--model", dir, "--dtype", "bnb4"]);
  assertOneLineError(r, "no 'bnb4' weights (available: fp32");
});

Deno.test("bench CLI rejects a prompt longer than the model's positions", async () => {
  const dir = await tinyDir();
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const tooLong = String(config.max_position_embeddings);
  assertOneLineError(
    await bench(["--model", dir, "--prompt-tokens", tooLong, "--max-new-tokens", "1"]),
    "positions",
  );
});

Deno.test("bench CLI rejects a batch of prompts from different families", async () => {
  const dir = await tinyDir();
  assertOneLineError(
    await bench(["--model", dir, "--batch", "2", "--family", "code,summary"]),
    "share one family",
  );
});

Deno.test("bench CLI with a Hub id offline fails in one line suggesting a local dir", async () => {
  const r = await bench(["--model", "onnx-community/Llama-3.2-1B-Instruct"], {
    HF_HUB_OFFLINE: "1",
    HF_HOME: await Deno.makeTempDir(),
  });
  assertOneLineError(r, "local directory");
});

Deno.test("bench CLI writes the classic JSON with measured runs only", async () => {
  const dir = await tinyDir();
  const output = join(await Deno.makeTempDir(), "out.json");
  const r = await bench([
    "--model",
    dir,
    "--dtype",
    "fp32",
    "--prompt-tokens",
    "24",
    "--max-new-tokens",
    "5",
    "--warmup",
    "2",
    "--runs",
    "3",
    "--threads",
    "1",
    "--output",
    output,
  ]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("decode tokens/s"), r.stdout);
  assert(r.stderr.includes("warmup 2/2"), r.stderr);
  const report = JSON.parse(await Deno.readTextFile(output));
  assertEquals([report.quantization, report.device, report.execution_provider], [
    "fp32",
    "cpu",
    "CPUExecutionProvider",
  ]);
  assertEquals([report.max_new_tokens, report.warmup_runs, report.test_runs], [5, 2, 3]);
  const runs = report.results.individual_runs;
  assertEquals(runs.length, 3);
  for (const run of runs) {
    assertEquals([run.input_tokens, run.output_tokens, run.total_tokens], [24, 5, 29]);
    assertEquals(run.prompt_token_ids.length, 24);
    assertEquals(run.generated_token_ids.length, 5);
    assertEquals(typeof run.generated_text, "string");
  }
  const stats = report.results.stats;
  const tps = runs.map((x: { tokens_per_second: number }) => x.tokens_per_second);
  assertEquals(stats.throughput_max, Math.max(...tps));
  assert(stats.prefill_ms_p50 > 0 && stats.decode_tokens_per_s_pooled > 0);
  // Three runs support a median, not a tail; the interval of a positive rate stays positive.
  assertEquals([stats.decode_tokens_per_s_p90, stats.decode_tokens_per_s_p99], [null, null]);
  assert(stats.decode_tokens_per_s_ci95_low > 0 && stats.total_ms_ci95_low > 0);
  assert(stats.decode_tokens_per_s_ci95_low <= stats.decode_tokens_per_s_ci95_high);
  assertEquals(typeof report.results.gpu_memory.available, "boolean");
  assertEquals(typeof report.system_info.deno, "string");
});

Deno.test("bench CLI accepts the neighbouring tools' flag names but not both spellings", async () => {
  const dir = await tinyDir();
  const output = join(await Deno.makeTempDir(), "out.json");
  const r = await bench([
    "--model",
    dir,
    "--quantization",
    "fp32",
    "--max-tokens",
    "3",
    "--prompt-tokens",
    "8",
    "--warmup",
    "0",
    "--runs",
    "2",
    "--output",
    output,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const report = JSON.parse(await Deno.readTextFile(output));
  assertEquals([report.quantization, report.max_new_tokens], ["fp32", 3]);
  // Two runs are too few for trustworthy percentiles: the post-run checks say so.
  assert(report.checks.results.some((w: string) => w.includes("only 2 measured runs")));
  assertOneLineError(
    await bench(["--model", dir, "--dtype", "q4", "--quantization", "q8"]),
    "both given",
  );
});
