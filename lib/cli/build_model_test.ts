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
  assert(attention.stderr.includes("'--attention' must be one of standard, gqa"), attention.stderr);
  const missing = await buildModelCli("--out", join(out, "x"));
  assertEquals(missing.stderr.trim(), "error: missing required flag --preset");
  assertEquals([...Deno.readDirSync(out)].length, 0, "nothing written");
});
