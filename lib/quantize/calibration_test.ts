import { join } from "node:path";
import { writeCheckpoint } from "../model/import/_fixture.ts";
import { importCheckpoint } from "../model/import/import_checkpoint.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { onnx } from "./_proto.ts";
import { calibrationTokens, collectHessians } from "./calibration.ts";

const root = await Deno.makeTempDir({ prefix: "calibration_test-" });
const from = writeCheckpoint(join(root, "ckpt"), {
  architecture: "Qwen2ForCausalLM",
  dtype: "BF16",
});
const imported = await importCheckpoint({ from, outDir: join(root, "model"), dtypes: ["q4gptq"] });
const fp32 = imported.files[0]!.path;

Deno.test("calibrationTokens() samples seeded sequences from BOS, at most max_position_embeddings long", async () => {
  const a = await calibrationTokens(fp32, { sequences: 3, length: 1000, seed: 5 });
  const b = await calibrationTokens(fp32, { sequences: 3, length: 1000, seed: 5 });
  assertEquals(a, b);
  assertEquals(a.map((r) => r.length), [128, 128, 128], "capped at the fixture's 128 positions");
  assert(a.every((r) => r[0] === 318 && r.every((id) => id >= 0 && id < 320)));
  assert(new Set(a[0]).size > 20, "sampled, not a constant");
  const c = await calibrationTokens(fp32, { sequences: 3, length: 16, seed: 6 });
  assert(JSON.stringify(c) !== JSON.stringify(a.map((r) => r.slice(0, 16))));
});

Deno.test("collectHessians() averages AᵀA over tokens: symmetric, and repeating the text changes nothing", async () => {
  const rows = await calibrationTokens(fp32, { sequences: 1, length: 40 });
  // The input of the first q/k/v projections, whatever the builder named it.
  const model = onnx.ModelProto.decode(await Deno.readFile(fp32));
  const q = model.graph!.node!.find((n) =>
    n.input?.[1] === "model.layers.0.self_attn.q_proj.MatMul.weight"
  )!;
  const inputs = new Map([[q.input![0]!, 64]]);
  const once = (await collectHessians(fp32, inputs, rows)).get(q.input![0]!)!;
  const twice = (await collectHessians(fp32, inputs, [rows[0]!, rows[0]!])).get(q.input![0]!)!;
  for (let i = 0; i < 64; i++) {
    assert(once[i * 64 + i]! > 0);
    for (let j = 0; j < 64; j++) {
      assert(Math.abs(once[i * 64 + j]! - once[j * 64 + i]!) <= 1e-6 * Math.abs(once[i * 64 + i]!));
      assert(
        Math.abs(once[i * 64 + j]! - twice[i * 64 + j]!) <=
          1e-6 * (1 + Math.abs(once[i * 64 + j]!)),
      );
    }
  }
  assertEquals(
    [...Deno.readDirSync(join(root, "model", "onnx"))].filter((e) =>
      e.name.includes("calibration")
    ),
    [],
  );
});

Deno.test("q4gptq on an imported Qwen2 checkpoint (biases, 128 positions) writes a MatMulNBits model", () => {
  assertEquals(imported.files.map((f) => f.dtype), ["fp32", "q4gptq"]);
  assert(imported.files[1]!.path.endsWith("model_q4_gptq.onnx"));
});

Deno.test("calibrationTokens() needs a BOS id in config.json", async () => {
  const dir = join(root, "nobos");
  Deno.mkdirSync(join(dir, "onnx"), { recursive: true });
  Deno.copyFileSync(fp32, join(dir, "onnx", "model.onnx"));
  Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify({ bos_token_id: null }));
  await assertRejects(
    () => calibrationTokens(join(dir, "onnx", "model.onnx")),
    RangeError,
    "needs 'bos_token_id'",
  );
});
