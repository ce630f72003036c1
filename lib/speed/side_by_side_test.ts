import { join } from "node:path";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { ensureModel } from "../model/ensure.ts";
import { OnnxFile } from "../quantize/onnx_file.ts";
import { importCheckpoint } from "../model/import/import_checkpoint.ts";
import { parseSpeedSetting } from "./setting.ts";
import { prepareVariant, runSideBySide, speedTable } from "./side_by_side.ts";

Deno.test("runSideBySide() measures every setting in the same rounds and reads each file's settings", async () => {
  const root = await Deno.makeTempDir();
  const dir = await ensureModel("tiny", { dtypes: ["fp32"], cacheDir: join(root, "models") });
  const cacheDir = join(root, "speed");
  const settings = ["q4:acc0:ort", "q4:acc4", "q8:nbits:acc4:b16", "q8:dynamic", "fp32"].map(
    parseSpeedSetting,
  );
  const rows = await runSideBySide(dir, settings, {
    contextTokens: 12,
    newTokens: 4,
    rounds: 2,
    warmup: 0,
    cacheDir,
  });
  assertEquals(rows.map((r) => [r.setting, r.quantization, r.tuning]), [
    ["q4:acc0:ort", "q4 b32 acc0", "ort-default"],
    ["q4:acc4", "q4 b32 acc4", "decode"],
    ["q8:nbits:acc4:b16", "q8 nbits b16 acc4", "decode"],
    ["q8:dynamic", "q8 dynamic", "decode"],
    ["fp32", "", "decode"],
  ]);
  for (const r of rows) {
    assertEquals(r.decodeTokensPerS.length, 2);
    assert(r.decodeTokensPerS.every((s) => s !== null && s > 0), r.setting);
  }
  assertEquals(rows[0]!.ratioToFirst, 1);
  assertEquals(rows[0]!.comparison, null, "the first setting is the baseline");
  assertEquals(rows[0]!.sameTokensAsFirst, true);
  // Every other ratio is lib/analysis compare(): the geometric mean of the per-round ratios of
  // decode rates, with its interval over the 2 rounds (Bonferroni over the 4 comparisons).
  const base = rows[0]!.decodeTokensPerS as number[];
  for (const r of rows.slice(1)) {
    const c = r.comparison!;
    const logs = (r.decodeTokensPerS as number[]).map((x, k) => Math.log(x / base[k]!));
    const geo = Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
    assert(
      Math.abs(r.ratioToFirst! - geo) < 1e-9 * geo,
      `${r.setting}: ${r.ratioToFirst} vs ${geo}`,
    );
    assertEquals([c.ratio, c.rounds, c.comparisons], [r.ratioToFirst, 2, 4]);
    assert(c.ci95 !== null && c.ci95[0] <= c.ratio! && c.ratio! <= c.ci95[1], r.setting);
    assert(["faster", "slower", "not established"].includes(c.verdict), c.verdict);
  }
  const table = speedTable(rows);
  assert(table.includes("× first (geometric mean of per-round ratios)"), table);
  assert(table.includes("95 % interval (Bonferroni, 4 comparisons)"), table);
  // A variant is built once: asking again reuses the file.
  const path = join(cacheDir, "tiny-s42", "q4-b32-acc4", "onnx", "model_q4.onnx");
  const before = (await Deno.stat(path)).mtime;
  assertEquals(
    await prepareVariant(dir, parseSpeedSetting("q4:acc4:ort"), cacheDir),
    join(cacheDir, "tiny-s42", "q4-b32-acc4"),
  );
  assertEquals((await Deno.stat(path)).mtime, before);
  await assertRejects(() => runSideBySide(dir, [], { cacheDir }), RangeError, "at least one");
  await assertRejects(
    () => runSideBySide(dir, settings, { rounds: 0, cacheDir }),
    RangeError,
    "--rounds must be an integer >= 1, got 0",
  );
});

Deno.test("a 'fused' setting runs the fused-norms graph of the same weights beside the plain one", async () => {
  const root = await Deno.makeTempDir();
  const dir = await ensureModel("tiny", { dtypes: ["fp32"], cacheDir: join(root, "models") });
  const cacheDir = join(root, "speed");
  const settings = ["q4", "q4:fused", "fp32", "fp32:fused"].map(parseSpeedSetting);
  const rows = await runSideBySide(dir, settings, {
    contextTokens: 12,
    newTokens: 4,
    rounds: 1,
    warmup: 0,
    cacheDir,
  });
  assertEquals(rows.map((r) => r.setting), ["q4", "q4:fused", "fp32", "fp32:fused"]);
  assertEquals(rows[1]!.quantization, rows[0]!.quantization);
  for (const [key, file] of [["q4-b32-acc4-fused", "model_q4"], ["fp32-fused", "model"]] as const) {
    const f = await OnnxFile.open(join(cacheDir, "tiny-s42", key, "onnx", `${file}.onnx`));
    const ops = new Set((f.graph.node ?? []).map((n) => n.opType));
    f.close();
    assert(ops.has("SkipSimplifiedLayerNormalization") && !ops.has("Pow"), key);
  }
  // The plain settings still read the model's own graph.
  const plain = await OnnxFile.open(join(dir, "onnx", "model.onnx"));
  assert((plain.graph.node ?? []).some((n) => n.opType === "Pow"));
  plain.close();
  // A converted checkpoint keeps no safetensors: the fused graph comes from its source folder.
  const converted = join(root, "converted");
  await importCheckpoint({ from: dir, outDir: converted });
  const variant = await prepareVariant(converted, parseSpeedSetting("fp32:fused"), cacheDir);
  const f = await OnnxFile.open(join(variant, "onnx", "model.onnx"));
  assert((f.graph.node ?? []).some((n) => n.opType === "SkipSimplifiedLayerNormalization"));
  f.close();
  await Deno.remove(join(converted, "config.json"));
  await Deno.writeTextFile(join(converted, "config.json"), "{}");
  await assertRejects(
    () => prepareVariant(converted, parseSpeedSetting("q4:fused:b16"), cacheDir),
    RangeError,
    "'q4:fused:b16' needs the model's safetensors",
  );
});

Deno.test("prepareVariant() reuses a variant, and redoes it once the model is rebuilt", async () => {
  const root = await Deno.makeTempDir({ prefix: "variant-" });
  try {
    const modelDir = await ensureModel("tiny", {
      dtypes: ["fp32"],
      cacheDir: join(root, "models"),
    });
    const cache = join(root, "speed");
    const dir = await prepareVariant(modelDir, parseSpeedSetting("q4"), cache);
    const q4 = join(dir, "onnx", "model_q4.onnx");
    const first = Deno.statSync(q4).mtime!.getTime();
    await prepareVariant(modelDir, parseSpeedSetting("q4"), cache);
    assertEquals(Deno.statSync(q4).mtime!.getTime(), first);
    // A rebuilt model: its fp32 graph is newer than the variant.
    const later = new Date(first + 60_000);
    await Deno.utime(join(modelDir, "onnx", "model.onnx"), later, later);
    await prepareVariant(modelDir, parseSpeedSetting("q4"), cache);
    assert(Deno.statSync(q4).mtime!.getTime() > first, "the variant was written again");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
