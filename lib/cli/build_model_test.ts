import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";

const cli = new URL("./build_model.ts", import.meta.url).pathname;
const config = new URL("../../deno.json", import.meta.url).pathname;

async function buildModelCli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, cli, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("build-model CLI builds a preset and prints parameters, bytes, time and peak RSS", async () => {
  const tmp = await Deno.makeTempDir();
  const out = join(tmp, "tiny");
  const run = await buildModelCli("--preset", "tiny", "--out", out, "--seed", "9");
  await using _ = { [Symbol.asyncDispose]: () => Deno.remove(tmp, { recursive: true }) };
  assertEquals(run.code, 0, run.stderr);
  assert(run.stdout.includes("parameters      106,816"), run.stdout);
  assert(/fp32\s+[\d.]+ MiB\s+\d+ ms/.test(run.stdout), run.stdout);
  assert(run.stdout.includes("peak RSS"));
  const cfg = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  assertEquals(cfg.turbo_inference.seed, 9);
  assertEquals(cfg.turbo_inference.attention, "in_place", "the in-place graph is the default");
  const copy = await buildModelCli(
    "--preset",
    "tiny",
    "--out",
    join(tmp, "copy"),
    "--attention",
    "copy_kv",
  );
  assertEquals(copy.code, 0, copy.stderr);
  const copyConfig = JSON.parse(await Deno.readTextFile(join(tmp, "copy", "config.json")));
  assertEquals(copyConfig.turbo_inference.attention, "standard");
  const gqa = await buildModelCli(
    "--preset",
    "tiny",
    "--out",
    join(tmp, "gqa"),
    "--attention",
    "gqa",
  );
  assertEquals(gqa.code, 0, gqa.stderr);
  const gqaConfig = JSON.parse(await Deno.readTextFile(join(tmp, "gqa", "config.json")));
  assertEquals(gqaConfig.turbo_inference.attention, "gqa");
});

Deno.test("build-model CLI fails with one line for an existing --out, bad preset or dtype", async () => {
  const out = await Deno.makeTempDir();
  await using _ = { [Symbol.asyncDispose]: () => Deno.remove(out, { recursive: true }) };
  const exists = await buildModelCli("--preset", "tiny", "--out", out);
  assertEquals(exists.code, 1);
  assertEquals(
    exists.stderr.trim(),
    `error: Cannot build model: output directory '${out}' already exists (use force / --force)`,
  );
  const preset = await buildModelCli("--preset", "huge", "--out", join(out, "x"));
  assertEquals(preset.code, 1);
  assert(preset.stderr.includes("'preset' must be one of tiny, small"), preset.stderr);
  const dtype = await buildModelCli(
    "--preset",
    "tiny",
    "--out",
    join(out, "x"),
    "--dtypes",
    "fp32,q3",
  );
  assertEquals(dtype.code, 1);
  assert(dtype.stderr.includes("'--dtypes' has unknown dtype 'q3'"), dtype.stderr);
  const attention = await buildModelCli(
    "--preset",
    "tiny",
    "--out",
    join(out, "x"),
    "--attention",
    "flash",
  );
  assert(
    attention.stderr.includes("'--attention' must be one of copy_kv, standard, gqa"),
    attention.stderr,
  );
  const missing = await buildModelCli("--out", join(out, "x"));
  assertEquals(missing.stderr.trim(), "error: missing required flag --preset or --from");
  assertEquals([...Deno.readDirSync(out)].length, 0, "nothing written");
});

Deno.test("build-model --from imports the vendored checkpoint; a bad one is one line, exit 1, nothing written", async () => {
  const tmp = await Deno.makeTempDir();
  await using _ = { [Symbol.asyncDispose]: () => Deno.remove(tmp, { recursive: true }) };
  const vendored = new URL("../../models/wikitext-llama", import.meta.url).pathname;
  const out = join(tmp, "wl");
  const run = await buildModelCli("--from", vendored, "--out", out, "--dtypes", "fp32,q4");
  assertEquals(run.code, 0, run.stderr);
  assert(run.stdout.includes("imported LlamaForCausalLM"), run.stdout);
  assert(run.stdout.includes("5,245,184 (tensors: 39 BF16)"), run.stdout);
  const names = [...Deno.readDirSync(join(out, "onnx"))].map((e) => e.name).sort();
  assertEquals(names, ["model.onnx", "model_q4.onnx"]);
  const bad = join(tmp, "bad");
  Deno.mkdirSync(bad);
  for (const f of ["config.json", "model.safetensors", "tokenizer_config.json"]) {
    Deno.copyFileSync(join(vendored, f), join(bad, f));
  }
  const failed = await buildModelCli("--from", bad, "--out", join(tmp, "never"));
  assertEquals(failed.code, 1);
  assertEquals(failed.stderr.trim().split("\n").length, 1, failed.stderr);
  assert(failed.stderr.includes("has no tokenizer.json"), failed.stderr);
  assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), ["bad", "wl"]);
  const both = await buildModelCli("--from", bad, "--preset", "tiny", "--out", join(tmp, "x"));
  assertEquals(both.code, 1);
  assert(both.stderr.includes("either --preset or --from"), both.stderr);
});
