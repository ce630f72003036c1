// The session module first: it installs the float16 fix transformers.js's tensors rely on.
import { createSession } from "../runtime/session.ts";
import { AutoModelForCausalLM, AutoTokenizer, env } from "@huggingface/transformers";
import { basename, dirname, join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX } from "../dtypes.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { assert, assertEquals } from "../testing/assert.ts";
import { mulberry32 } from "../_rng.ts";
import { greedy, step, tempDir } from "./_testing.ts";
import { buildModel } from "./build.ts";
import { ensureModel } from "./ensure.ts";
import { PRESETS } from "./presets.ts";

const cacheDir = await tempDir("transformers_js_test-");
// transformers.js loads the Optimum layout: the copy-path graph, not the in-place default.
const dir = await ensureModel("tiny", { cacheDir, attention: "standard" });
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = dirname(dir);
const modelId = basename(dir);
const config = PRESETS.tiny!;

/** Dtypes whose ONNX file the cache directory holds. */
function builtDtypes(): Exclude<Dtype, "bf16" | "q4gptq">[] {
  return (["fp32", "fp16", "q8", "q4", "q4f16"] as const).filter((d) => {
    try {
      return Deno.statSync(join(dir, "onnx", `model${DTYPE_FILE_SUFFIX[d]}.onnx`)).isFile;
    } catch {
      return false;
    }
  });
}

/** Random text mixing ASCII, accents, CJK, emoji, whitespace runs and newlines. */
function randomText(rand: () => number): string {
  const ranges: [number, number][] = [
    [0x20, 0x7e],
    [0xa0, 0x17f],
    [0x391, 0x3c9],
    [0x410, 0x44f],
    [0x4e00, 0x4fff],
    [0x1f300, 0x1f64f],
    [0x1f900, 0x1f9ff],
  ];
  const specials = ["\n", "\r\n", "\t", "  ", "   ", " \n ", "\u200d", "é", "🏳️‍🌈"];
  let out = "";
  const n = 1 + Math.floor(rand() * 60);
  for (let i = 0; i < n; i++) {
    if (rand() < 0.15) {
      out += specials[Math.floor(rand() * specials.length)];
      continue;
    }
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)]!;
    out += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  return out;
}

Deno.test("tokenizer.json round-trips random UTF-8 through transformers.js AutoTokenizer", async () => {
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const rand = mulberry32(99);
  let tokens = 0, chars = 0;
  for (let i = 0; i < 300; i++) {
    const text = randomText(rand);
    const ids = tokenizer.encode(text);
    assertEquals(ids[0], 510, "BOS first");
    assert(ids.every((id: number) => id >= 0 && id < config.vocab_size));
    assertEquals(tokenizer.decode(ids, { skip_special_tokens: true }), text);
    tokens += ids.length;
    chars += text.length;
  }
  // English filler compresses: merges were learned.
  const english = "User: Explain how the cache works. Assistant: The model reads each token.";
  const englishIds = tokenizer.encode(english);
  assert(englishIds.length < english.length / 2, `${englishIds.length} tokens`);
  assertEquals(tokenizer.decode(englishIds, { skip_special_tokens: true }), english);
  assert(tokens > 0 && chars > 0);
});

Deno.test("tokenizer_config.json chat template renders with transformers.js", async () => {
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const text = tokenizer.apply_chat_template(
    [{ role: "user", content: "Explain quicksort." }],
    { tokenize: false, add_generation_prompt: true },
  );
  assertEquals(text, "<|begin_of_text|>user: Explain quicksort.\nassistant: ");
});

Deno.test("transformers.js loads every built variant and its greedy tokens equal an ORT greedy loop", async () => {
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const inputs = tokenizer("def quicksort(items):\n    if len(items) <= 1:");
  const prompt = Array.from(inputs.input_ids.data as BigInt64Array, Number);
  const dtypes = builtDtypes();
  assert(dtypes.includes("fp32"));
  console.log(`transformers.js variants checked: ${dtypes.join(", ")}`);
  for (const dtype of dtypes) {
    const model = await AutoModelForCausalLM.from_pretrained(modelId, { dtype, device: "cpu" });
    try {
      const generated = await model.generate({ ...inputs, max_new_tokens: 12, do_sample: false });
      const tjsTokens = Array.from((generated as { data: BigInt64Array }).data, Number)
        .slice(prompt.length);
      const session = await createSession(
        join(dir, "onnx", `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`),
      );
      const ortTokens = await greedy(session, config, prompt, 12);
      assertEquals(tjsTokens, ortTokens, `dtype ${dtype}`);
      // Same logits as a direct ORT call, not only the same argmax.
      const { logits } = await model(inputs);
      const direct = await step(session, config, [prompt]);
      const viaTjs = toFloat32(logits);
      let worst = 0;
      for (let i = 0; i < direct.logits.length; i++) {
        worst = Math.max(worst, Math.abs(viaTjs[i]! - direct.logits[i]!));
      }
      assert(worst < 1e-5, `dtype ${dtype}: logits differ by ${worst}`);
    } finally {
      await model.dispose();
    }
  }
});

Deno.test("transformers.js generates from an attention 'gqa' model like an ORT greedy loop", async () => {
  const gqaDir = join(cacheDir, "tiny-gqa");
  await buildModel({ preset: "tiny", outDir: gqaDir, attention: "gqa" });
  const tokenizer = await AutoTokenizer.from_pretrained(modelId);
  const inputs = tokenizer("User: Explain the KV cache. Assistant:");
  const prompt = Array.from(inputs.input_ids.data as BigInt64Array, Number);
  const model = await AutoModelForCausalLM.from_pretrained("tiny-gqa", {
    dtype: "fp32",
    device: "cpu",
  });
  try {
    const generated = await model.generate({ ...inputs, max_new_tokens: 10, do_sample: false });
    const tjsTokens = Array.from((generated as { data: BigInt64Array }).data, Number)
      .slice(prompt.length);
    const session = await createSession(join(gqaDir, "onnx", "model.onnx"));
    assertEquals(tjsTokens, await greedy(session, config, prompt, 10));
  } finally {
    await model.dispose();
  }
});
