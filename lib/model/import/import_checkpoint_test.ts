import { join } from "node:path";
import { createSession } from "../../runtime/session.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../../testing/assert.ts";
import { step, tempDir } from "../_testing.ts";
import { loadReferenceCheckpoint, referenceForward } from "../reference.ts";
import { type FixtureOptions, writeCheckpoint } from "./_fixture.ts";
import { parseCheckpointConfig } from "./checkpoint_config.ts";
import { checkCheckpoint, importCheckpoint } from "./import_checkpoint.ts";

const root = await tempDir("import_test-");

/** max |a - b| / max |b|. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

const VARIANTS: [string, FixtureOptions][] = [
  ["Llama, F32, one file, untied head", { architecture: "LlamaForCausalLM", dtype: "F32" }],
  ["Llama, BF16, 3 shards, tied embeddings, llama3 rope_scaling", {
    architecture: "LlamaForCausalLM",
    dtype: "BF16",
    shards: 3,
    config: {
      tie_word_embeddings: true,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: "llama3",
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 16,
      },
    },
  }],
  ["Llama, F16, attention_bias", {
    architecture: "LlamaForCausalLM",
    dtype: "F16",
    config: { attention_bias: true },
  }],
  ["Mistral, F16, sliding window", {
    architecture: "MistralForCausalLM",
    dtype: "F16",
    config: { sliding_window: 64, rope_theta: 1000000 },
  }],
  ["Qwen2, BF16, q/k/v biases, tied, 2 shards", {
    architecture: "Qwen2ForCausalLM",
    dtype: "BF16",
    shards: 2,
    config: { tie_word_embeddings: true, rope_theta: 1000000 },
  }],
];

for (const [i, [label, options]] of VARIANTS.entries()) {
  Deno.test(`importCheckpoint() ${label}: ORT fp32 equals the float64 reference`, async () => {
    const from = writeCheckpoint(join(root, `ckpt-${i}`), { ...options, seed: i + 1 });
    const outDir = join(root, `out-${i}`);
    const report = await importCheckpoint({ from, outDir });
    assertEquals(report.architecture, options.architecture);
    assertEquals(Object.keys(report.sourceDtypes), [options.dtype]);
    const names = [...Deno.readDirSync(outDir)].map((e) => e.name).sort();
    assertEquals(names, [
      "config.json",
      "generation_config.json",
      "onnx",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const config = JSON.parse(Deno.readTextFileSync(join(outDir, "config.json")));
    assertEquals(config.turbo_inference.architecture, options.architecture);
    const model = loadReferenceCheckpoint(from);
    const ids = Array.from({ length: 40 }, (_, t) => (t * 37 + i * 11) % 318);
    const expected = referenceForward(model, ids);
    const session = await createSession(join(outDir, "onnx", "model.onnx"));
    const { logits } = await step(session, report.config, [ids]);
    const err = relativeError(logits, expected);
    console.log(`${label}: max relative error vs float64 reference ${err.toExponential(2)}`);
    assert(err < 1e-4, `relative error ${err}`);
  });
}

Deno.test("importCheckpoint() writes q4 and q8 variants of an imported checkpoint", async () => {
  const from = writeCheckpoint(join(root, "ckpt-q"), {
    architecture: "Qwen2ForCausalLM",
    dtype: "BF16",
  });
  const report = await importCheckpoint({
    from,
    outDir: join(root, "out-q"),
    dtypes: ["q8", "q4"],
  });
  assertEquals(report.files.map((f) => f.dtype), ["fp32", "q8", "q4"]);
  for (const f of report.files) assert(Deno.statSync(f.path).size > 0);
});

Deno.test("parseCheckpointConfig() caps Mistral at its sliding window and honours maxPositions", () => {
  const base = {
    architectures: ["MistralForCausalLM"],
    hidden_size: 64,
    intermediate_size: 96,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    vocab_size: 300,
    max_position_embeddings: 32768,
    sliding_window: 4096,
  };
  const capped = parseCheckpointConfig(base);
  assertEquals(capped.config.max_position_embeddings, 4096);
  assert(capped.notes[0]!.includes("sliding_window 4096"));
  assertEquals(
    parseCheckpointConfig({ ...base, sliding_window: null }).config.max_position_embeddings,
    32768,
  );
  assertThrows(
    () => parseCheckpointConfig(base, { maxPositions: 8192 }),
    RangeError,
    "'maxPositions' 8192 exceeds sliding_window 4096",
  );
  const llama = parseCheckpointConfig(
    { ...base, architectures: ["LlamaForCausalLM"], max_position_embeddings: 2048 },
    { maxPositions: 4096 },
  );
  assertEquals(llama.config.max_position_embeddings, 4096);
  assertEquals(llama.sourceMaxPositions, 2048);
});

/** Runs `fn` on a fresh copy of a good checkpoint and expects one line naming `fragment`. */
async function rejects(
  name: string,
  damage: (dir: string) => void,
  // deno-lint-ignore no-explicit-any
  errorClass: new (...args: any[]) => Error,
  fragment: string,
): Promise<void> {
  const from = writeCheckpoint(join(root, `bad-${name}`), {
    architecture: "LlamaForCausalLM",
    dtype: "BF16",
  });
  damage(from);
  const outDir = join(root, `bad-out-${name}`);
  const error = await assertRejects(() => importCheckpoint({ from, outDir }), errorClass, fragment);
  assert(!error.message.includes("\n"), error.message);
  assert(!Deno.statSync(root).isFile);
  const leftovers = [...Deno.readDirSync(root)].filter((e) => e.name.startsWith(`bad-out-${name}`));
  assertEquals(leftovers, [], "nothing written");
}

Deno.test("importCheckpoint() rejects bad checkpoints with one line and writes nothing", async () => {
  const config = (dir: string, patch: Record<string, unknown>) => {
    const path = join(dir, "config.json");
    Deno.writeTextFileSync(
      path,
      JSON.stringify({ ...JSON.parse(Deno.readTextFileSync(path)), ...patch }),
    );
  };
  await rejects(
    "arch",
    (d) => config(d, { architectures: ["GPT2LMHeadModel"] }),
    RangeError,
    "architecture 'GPT2LMHeadModel' is not supported (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)",
  );
  await rejects(
    "tokenizer",
    (d) => Deno.removeSync(join(d, "tokenizer.json")),
    Deno.errors.NotFound,
    "has no tokenizer.json",
  );
  await rejects(
    "truncated",
    (d) => {
      const path = join(d, "model.safetensors");
      const bytes = Deno.readFileSync(path);
      Deno.writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    },
    SyntaxError,
    "truncated: tensor 'lm_head.weight'",
  );
  await rejects(
    "shape",
    (d) => config(d, { intermediate_size: 128 }),
    RangeError,
    "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [96,64], config.json implies [128,64]",
  );
  await rejects(
    "missing",
    (d) => config(d, { num_hidden_layers: 3 }),
    RangeError,
    "has no tensor 'model.layers.2.input_layernorm.weight'",
  );
  await rejects(
    "extra",
    (d) => config(d, { tie_word_embeddings: false, attention_bias: true }),
    RangeError,
    "has no tensor 'model.layers.0.self_attn.q_proj.bias'",
  );
  await rejects(
    "dtype",
    (d) => {
      const path = join(d, "model.safetensors");
      const bytes = Deno.readFileSync(path);
      const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + length)).replace(
        '"BF16"',
        '"I16"',
      );
      bytes.set(new TextEncoder().encode(header), 8);
      Deno.writeFileSync(path, bytes);
    },
    TypeError,
    "has dtype 'I16' (supported: F32, F16, BF16)",
  );
  for (const [label, bits] of [["nan", 0x7fc0], ["inf", 0x7f80]] as const) {
    await rejects(
      label,
      (d) => {
        // One BF16 value of a layer-1 weight set to NaN / +Inf.
        const path = join(d, "model.safetensors");
        const bytes = Deno.readFileSync(path);
        const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
        const [begin] = header["model.layers.1.mlp.down_proj.weight"].data_offsets;
        new DataView(bytes.buffer).setUint16(8 + length + begin + 6, bits, true);
        Deno.writeFileSync(path, bytes);
      },
      RangeError,
      `tensor 'model.layers.1.mlp.down_proj.weight' holds ${
        label === "nan" ? "NaN" : "an infinite value"
      }`,
    );
  }
  await rejects(
    "no-weights",
    (d) => Deno.removeSync(join(d, "model.safetensors")),
    Deno.errors.NotFound,
    "has neither model.safetensors",
  );
  await rejects(
    "act",
    (d) => config(d, { hidden_act: "gelu" }),
    RangeError,
    "'hidden_act' must be 'silu'",
  );
  await rejects(
    "rope",
    (d) => config(d, { rope_scaling: { rope_type: "yarn", factor: 4 } }),
    RangeError,
    "rope type 'yarn' is not supported",
  );
});

Deno.test("checkCheckpoint() names a tensor the architecture does not have", () => {
  // Qwen2 weights (q/k/v biases) declared as Llama without attention_bias: the biases would be
  // silently dropped, so the import refuses.
  const from = writeCheckpoint(join(root, "extra-tensor"), {
    architecture: "Qwen2ForCausalLM",
    dtype: "F32",
  });
  const path = join(from, "config.json");
  const raw = JSON.parse(Deno.readTextFileSync(path));
  Deno.writeTextFileSync(path, JSON.stringify({ ...raw, architectures: ["LlamaForCausalLM"] }));
  assertThrows(
    () => checkCheckpoint(from),
    RangeError,
    "tensor 'model.layers.0.self_attn.q_proj.bias' is not part of LlamaForCausalLM",
  );
});

Deno.test("the vendored wikitext-llama (BF16): ORT fp32 equals the float64 reference", async () => {
  const from = new URL("../../../models/wikitext-llama", import.meta.url).pathname;
  const outDir = join(root, "wikitext-llama");
  const report = await importCheckpoint({ from, outDir });
  assertEquals(report.sourceDtypes, { BF16: 39 });
  const ids = [0, 412, 37, 1999, 5, 88, 3000, 17, 256, 1024, 77, 9, 4095, 300, 2, 610];
  const expected = referenceForward(loadReferenceCheckpoint(from), ids);
  const session = await createSession(join(outDir, "onnx", "model.onnx"));
  const { logits } = await step(session, report.config, [ids]);
  const err = relativeError(logits, expected);
  console.log(`wikitext-llama: max relative error vs float64 reference ${err.toExponential(2)}`);
  assert(err < 1e-4, `relative error ${err}`);
});
