import { join } from "node:path";
import { skipIf } from "../testing/skip.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { loadQuantizer, repoRoot } from "./_files.ts";
import { tempDir } from "./_testing.ts";
import { BUILDER_VERSION } from "./build.ts";
import { quantizeModel } from "../quantize/quantize_model.ts";
import { readQuantizationMetadata } from "../quantize/quantization_metadata.ts";
import {
  checkpointMaxPositions,
  ensureCheckpointModel,
  ensureModel,
  isCheckpointDir,
} from "./ensure.ts";

function listDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("ensureModel() from concurrent processes yields one complete directory", async () => {
  const cacheDir = await tempDir("ensure_test-");
  const script = join(cacheDir, "ensure.ts");
  const ensureUrl = new URL("./ensure.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { ensureModel } from "${ensureUrl}";\n` +
      `console.log(await ensureModel("tiny", { cacheDir: Deno.args[0], dtypes: ["fp32"] }));\n`,
  );
  const run = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", join(repoRoot(), "deno.json"), script, join(cacheDir, "c")],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const outputs = await Promise.all([run(), run(), run()]);
  const dirs = outputs.map((o) => {
    assert(o.success, new TextDecoder().decode(o.stderr));
    return new TextDecoder().decode(o.stdout).trim();
  });
  const expected = join(cacheDir, "c", "tiny-s42");
  assertEquals(dirs, [expected, expected, expected]);
  assertEquals(listDir(join(cacheDir, "c")), ["tiny-s42"], "no temp folders left behind");
  assert(listDir(expected).includes("config.json"));
  assertEquals(listDir(join(expected, "onnx")), ["model.onnx"]);
});

Deno.test("ensureModel() returns an existing directory without rebuilding it", async () => {
  const cacheDir = await tempDir("ensure_test-");
  const dir = await ensureModel("tiny", { cacheDir, dtypes: ["fp32"], seed: 5 });
  assertEquals(dir, join(cacheDir, "tiny-s5"));
  const before = Deno.statSync(join(dir, "onnx", "model.onnx")).mtime;
  assertEquals(await ensureModel("tiny", { cacheDir, dtypes: ["fp32"], seed: 5 }), dir);
  assertEquals(Deno.statSync(join(dir, "onnx", "model.onnx")).mtime, before);
});

Deno.test("ensureModel() rebuilds a directory written by another builder version", async () => {
  const cacheDir = await tempDir("ensure_test-");
  const dir = await ensureModel("tiny", { cacheDir, dtypes: ["fp32"] });
  const configPath = join(dir, "config.json");
  const config = JSON.parse(Deno.readTextFileSync(configPath));
  config.turbo_inference.builder_version = "0.0.0";
  Deno.writeTextFileSync(configPath, JSON.stringify(config));
  await ensureModel("tiny", { cacheDir, dtypes: ["fp32"] });
  const rebuilt = JSON.parse(Deno.readTextFileSync(configPath));
  assertEquals(rebuilt.turbo_inference.builder_version, BUILDER_VERSION);
  assertEquals(listDir(cacheDir), ["tiny-s42"]);
});

Deno.test({
  name: "ensureModel() adds missing dtypes to an existing directory, file by file",
  ignore: skipIf(
    "ensureModel() adds dtypes",
    (await loadQuantizer()) === null ? "no quantizer (loadQuantizer() returned null)" : null,
  ),
  fn: async () => {
    const cacheDir = await tempDir("ensure_test-");
    const dir = await ensureModel("tiny", { cacheDir, dtypes: ["fp32"] });
    const fp32Before = Deno.statSync(join(dir, "onnx", "model.onnx")).mtime;
    await ensureModel("tiny", { cacheDir, dtypes: ["fp32", "q4", "fp16"] });
    assertEquals(listDir(join(dir, "onnx")), ["model.onnx", "model_fp16.onnx", "model_q4.onnx"]);
    assertEquals(Deno.statSync(join(dir, "onnx", "model.onnx")).mtime, fp32Before);
    assertEquals(listDir(cacheDir), ["tiny-s42"]);
  },
});

Deno.test("ensureModel() rewrites a q4 variant written before MatMulNBits packing, and keeps a packed one", async () => {
  const cacheDir = await tempDir("ensure_test-");
  const dir = await ensureModel("tiny", { cacheDir, dtypes: ["fp32", "q4"] });
  const q4 = join(dir, "onnx", "model_q4.onnx");
  assertEquals((await readQuantizationMetadata(q4))?.packed, true);
  const packedAt = Deno.statSync(q4).mtime;
  await ensureModel("tiny", { cacheDir, dtypes: ["fp32", "q4"] });
  assertEquals(Deno.statSync(q4).mtime, packedAt);
  await quantizeModel(join(dir, "onnx", "model.onnx"), ["q4"], { packMatMuls: false, force: true });
  assertEquals((await readQuantizationMetadata(q4))?.packed, false);
  await ensureModel("tiny", { cacheDir, dtypes: ["fp32", "q4"] });
  assertEquals((await readQuantizationMetadata(q4))?.packed, true);
});

Deno.test("ensureModel() keeps attention 'gqa' models in their own directory", async () => {
  const cacheDir = await tempDir("ensure_test-");
  const dir = await ensureModel("tiny", { cacheDir, dtypes: ["fp32"], attention: "gqa" });
  assertEquals(dir, join(cacheDir, "tiny-gqa-s42"));
  const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  assertEquals(config.turbo_inference.attention, "gqa");
});

Deno.test("ensureModel() rejects an unknown preset or dtype", async () => {
  const cacheDir = await tempDir("ensure_test-");
  await assertRejects(() => ensureModel("huge", { cacheDir }), RangeError, "got 'huge'");
  await assertRejects(
    () => ensureModel("tiny", { cacheDir, dtypes: ["q3" as never] }),
    RangeError,
    "unknown dtype 'q3'",
  );
  await assertRejects(
    () => ensureModel("tiny", { cacheDir, attention: "flash" as never }),
    RangeError,
    "'attention' must be one of standard, gqa, in_place, got 'flash'",
  );
  assertEquals(listDir(cacheDir), []);
});

Deno.test("ensureCheckpointModel() from concurrent processes converts once into one directory", async () => {
  const cacheDir = await tempDir("ensure_ckpt_test-");
  const { writeCheckpoint } = await import("./import/_fixture.ts");
  const from = writeCheckpoint(join(cacheDir, "ckpt"), {
    architecture: "LlamaForCausalLM",
    dtype: "BF16",
  });
  const script = join(cacheDir, "ensure.ts");
  const ensureUrl = new URL("./ensure.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { ensureCheckpointModel } from "${ensureUrl}";\n` +
      `console.log(await ensureCheckpointModel(Deno.args[0], { cacheDir: Deno.args[1], dtypes: ["fp32", "q4"] }));\n`,
  );
  const run = () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        join(repoRoot(), "deno.json"),
        script,
        from,
        join(cacheDir, "c"),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const outputs = await Promise.all([run(), run(), run()]);
  const dirs = outputs.map((o) => {
    assert(o.success, new TextDecoder().decode(o.stderr));
    return new TextDecoder().decode(o.stdout).trim();
  });
  assertEquals(new Set(dirs).size, 1);
  assert(dirs[0]!.startsWith(join(cacheDir, "c", "import-ckpt-")), dirs[0]);
  assertEquals(listDir(join(cacheDir, "c")).length, 1, "no temp folders left behind");
  assertEquals(listDir(join(dirs[0]!, "onnx")), ["model.onnx", "model_q4.onnx"]);
  // A changed checkpoint is converted again, into another directory.
  const configPath = join(from, "config.json");
  const raw = JSON.parse(Deno.readTextFileSync(configPath));
  Deno.writeTextFileSync(configPath, JSON.stringify({ ...raw, rms_norm_eps: 1e-6 }));
  const again = await ensureCheckpointModel(from, {
    cacheDir: join(cacheDir, "c"),
    dtypes: ["fp32"],
  });
  assert(again !== dirs[0]);
});

Deno.test("the vendored wikitext-llama converts with 4,096 RoPE positions; a copy elsewhere keeps 2,048", async () => {
  const vendored = join(repoRoot(), "models", "wikitext-llama");
  assert(isCheckpointDir(vendored));
  assertEquals(checkpointMaxPositions(vendored), 4096);
  const copy = join(await tempDir("ensure_vendored-"), "wikitext-llama");
  Deno.mkdirSync(copy);
  for (const f of ["config.json", "model.safetensors"]) {
    Deno.copyFileSync(join(vendored, f), join(copy, f));
  }
  assertEquals(checkpointMaxPositions(copy), 2048);
  const dir = await ensureCheckpointModel(vendored, {
    dtypes: ["fp32"],
    cacheDir: await tempDir("ensure_vendored-"),
  });
  const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  assertEquals(config.max_position_embeddings, 4096);
  assertEquals(config.turbo_inference.source_max_position_embeddings, 2048);
  assert(!isCheckpointDir(dir), "a converted directory is not converted again");
});
