import { join } from "node:path";
import { createSession } from "../runtime/session.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { tempDir } from "./_testing.ts";
import { BUILDER_VERSION, buildModel } from "./build.ts";
import { parameterCount, PRESETS } from "./presets.ts";
import { readSafetensors } from "./safetensors.ts";

const root = await tempDir("build_test-");

function listDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("buildModel() writes the Hugging Face / transformers.js layout", async () => {
  const outDir = join(root, "layout");
  const report = await buildModel({ preset: "tiny", outDir, seed: 3 });
  assertEquals(listDir(outDir), [
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "onnx",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  assertEquals(listDir(join(outDir, "onnx")), ["model.onnx"]);
  const config = JSON.parse(await Deno.readTextFile(join(outDir, "config.json")));
  assertEquals(config.model_type, "llama");
  assertEquals(config.architectures, ["LlamaForCausalLM"]);
  assertEquals(config.num_key_value_heads, 2);
  assertEquals(config.head_dim, 16);
  assertEquals(config.tie_word_embeddings, true);
  assertEquals(config.turbo_inference, {
    weights: "random",
    preset: "tiny",
    seed: 3,
    builder_version: BUILDER_VERSION,
    tokenizer_vocab_size: 512,
    attention: "in_place",
    input_defaults: ["num_logits_to_keep"],
  });
  assertEquals([config.bos_token_id, config.eos_token_id], [510, 511]);
  assertEquals(report.parameters, parameterCount(PRESETS.tiny!));
  assertEquals(report.files.map((f) => f.dtype), ["fp32"]);
  assertEquals(report.files[0]!.bytes, (await Deno.stat(report.files[0]!.path)).size);
  assert(report.peakRssBytes > 0 && report.totalMs > 0);

  const tensors = readSafetensors(join(outDir, "model.safetensors"));
  assertEquals(tensors.get("model.layers.0.self_attn.q_proj.weight")!.shape, [64, 64]);
  assertEquals(tensors.get("model.embed_tokens.weight")!.shape, [512, 64]);
  assertEquals(tensors.has("lm_head.weight"), false);
  let total = 0;
  for (const t of tensors.values()) total += t.data.length;
  assertEquals(total, report.parameters);

  const session = await createSession(report.files[0]!.path);
  const inputs = Object.fromEntries(
    session.session.inputMetadata.map((m) => [m.name, "shape" in m ? m.shape : []]),
  );
  assertEquals(inputs["input_ids"], ["batch_size", "sequence_length"]);
  assertEquals(inputs["attention_mask"], ["batch_size", "total_sequence_length"]);
  assertEquals(inputs["position_ids"], ["batch_size", "sequence_length"]);
  assertEquals(inputs["past_key_values.1.value"], ["batch_size", 2, "past_sequence_length", 16]);
  // The default graph decodes in place: only this step's keys and values come back.
  assertEquals(session.outputNames, [
    "logits",
    "present_new.0.key",
    "present_new.0.value",
    "present_new.1.key",
    "present_new.1.value",
  ]);
});

Deno.test("buildModel() is deterministic in the seed", async () => {
  const a = await buildModel({ preset: "tiny", outDir: join(root, "seed-a"), seed: 11 });
  const b = await buildModel({ preset: "tiny", outDir: join(root, "seed-b"), seed: 11 });
  const c = await buildModel({ preset: "tiny", outDir: join(root, "seed-c"), seed: 12 });
  const bytes = (dir: string, file: string) => Deno.readFileSync(join(dir, file));
  for (const file of ["model.safetensors", "onnx/model.onnx", "tokenizer.json"]) {
    assertEquals(bytes(a.outDir, file), bytes(b.outDir, file), file);
  }
  assert(
    bytes(a.outDir, "model.safetensors").some((x, i) =>
      x !== bytes(c.outDir, "model.safetensors")[i]
    ),
  );
  assertEquals(bytes(a.outDir, "tokenizer.json"), bytes(c.outDir, "tokenizer.json"));
});

Deno.test("buildModel() refuses an existing outDir without force and replaces it with force", async () => {
  const outDir = join(root, "exists");
  Deno.mkdirSync(outDir);
  Deno.writeTextFileSync(join(outDir, "keep.txt"), "mine");
  await assertRejects(
    () => buildModel({ preset: "tiny", outDir }),
    RangeError,
    `output directory '${outDir}' already exists`,
  );
  assertEquals(listDir(outDir), ["keep.txt"]);
  await buildModel({ preset: "tiny", outDir, force: true });
  assert(!listDir(outDir).includes("keep.txt"));
  assert(listDir(outDir).includes("config.json"));
  assertEquals(listDir(root).filter((n) => n.includes(".tmp-")), []);
});

Deno.test("buildModel() rejects bad options before writing anything", async () => {
  const parent = join(root, "bad");
  Deno.mkdirSync(parent);
  const outDir = join(parent, "m");
  const cases: [Parameters<typeof buildModel>[0], string][] = [
    [{ preset: "huge", outDir }, "'preset' must be one of tiny, small, llama-3.2-1b"],
    [{ preset: "tiny", outDir, dtypes: ["int3" as never] }, "unknown dtype 'int3'"],
    [
      { preset: "tiny", outDir, config: { num_attention_heads: 3 } },
      "must be divisible by 'num_attention_heads' (3)",
    ],
    [
      { preset: "tiny", outDir, config: { num_key_value_heads: 3 } },
      "must be divisible by 'num_key_value_heads' (3)",
    ],
    [
      { preset: "tiny", outDir, config: { intermediate_size: 80 } },
      "'intermediate_size' must be divisible by 32",
    ],
    [{ preset: "tiny", outDir, seed: -1 }, "'seed' must be a non-negative integer, got -1"],
    [
      { preset: "tiny", outDir, attention: "flash" as never },
      "'attention' must be one of standard, gqa",
    ],
  ];
  for (const [options, message] of cases) {
    await assertRejects(() => buildModel(options), RangeError, message);
  }
  assertEquals(listDir(parent), []);
});

Deno.test("buildModel() leaves nothing half-written when a late step fails", async () => {
  const parent = join(root, "late");
  Deno.mkdirSync(parent);
  // fp32 and the tokenizer are written first; the bnb4 variant then fails in the quantizer.
  await assertRejects(() =>
    buildModel({ preset: "tiny", outDir: join(parent, "m"), dtypes: ["bnb4"] })
  );
  assertEquals(listDir(parent), []);
});
