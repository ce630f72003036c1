import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureModel } from "../model/ensure.ts";
import {
  readSafetensorsHeader,
  readTensorRows,
  type SafetensorsEntry,
  writeSafetensors,
} from "../model/safetensors.ts";
import { convertToGguf, ropeFreqFactors } from "./convert.ts";
import { readGgufHeader, readGgufTensor } from "./gguf_read.ts";
import { GGUF_VALUE_TYPE } from "./gguf_write.ts";
import { PRE_TOKENIZER, TOKEN_TYPE } from "./tokenizer_meta.ts";

function tempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "gguf-convert-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

const tinyDir = () => ensureModel("tiny", { dtypes: ["fp32"] });

/** HF row of GGUF row `r` by the reshape (n_head, 2, d/2) → swap axes 1, 2, written out. */
function unpermute(gguf: Float32Array, rows: number, cols: number, headDim: number): Float32Array {
  const out = new Float32Array(gguf.length);
  const half = headDim / 2;
  for (let h = 0; h < rows / headDim; h++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < half; j++) {
        const ggufRow = h * headDim + j * 2 + i;
        const hfRow = h * headDim + i * half + j;
        out.set(gguf.subarray(ggufRow * cols, (ggufRow + 1) * cols), hfRow * cols);
      }
    }
  }
  return out;
}

Deno.test("convertToGguf on the tiny preset: names, GGML dims, metadata, permuted q/k, data", async () => {
  const dir = await tinyDir();
  const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
  const out = join(tempDir(), "tiny.gguf");
  const result = convertToGguf(dir, out);
  assert.equal(result.bytes, Deno.statSync(out).size);
  const header = readGgufHeader(out);
  const m = header.metadata;
  const hidden = config.hidden_size, layers = config.num_hidden_layers, hd = config.head_dim;
  const expectedNames = ["token_embd.weight"];
  for (let i = 0; i < layers; i++) {
    for (
      const n of [
        "attn_norm",
        "attn_q",
        "attn_k",
        "attn_v",
        "attn_output",
        "ffn_norm",
        "ffn_gate",
        "ffn_up",
        "ffn_down",
      ]
    ) expectedNames.push(`blk.${i}.${n}.weight`);
  }
  expectedNames.push("output_norm.weight"); // tied: no output.weight
  assert.deepEqual(header.tensors.map((t) => t.name), expectedNames);
  const dims = new Map(header.tensors.map((t) => [t.name, t.dims]));
  assert.deepEqual(dims.get("token_embd.weight"), [hidden, config.vocab_size]);
  assert.deepEqual(dims.get("blk.0.attn_q.weight"), [hidden, config.num_attention_heads * hd]);
  assert.deepEqual(dims.get("blk.0.attn_k.weight"), [hidden, config.num_key_value_heads * hd]);
  assert.deepEqual(dims.get("blk.1.ffn_down.weight"), [config.intermediate_size, hidden]);
  assert.deepEqual(dims.get("output_norm.weight"), [hidden]);
  assert(header.tensors.every((t) => t.type === 0 && t.offset % 32 === 0));

  assert.equal(m.get("general.architecture"), "llama");
  assert.equal(m.get("general.name"), "tiny");
  assert.equal(m.get("general.file_type"), 0);
  assert.equal(m.get("llama.context_length"), config.max_position_embeddings);
  assert.equal(m.get("llama.embedding_length"), hidden);
  assert.equal(m.get("llama.block_count"), layers);
  assert.equal(m.get("llama.feed_forward_length"), config.intermediate_size);
  assert.equal(m.get("llama.attention.head_count"), config.num_attention_heads);
  assert.equal(m.get("llama.attention.head_count_kv"), config.num_key_value_heads);
  assert.equal(m.get("llama.rope.freq_base"), config.rope_theta);
  assert.equal(m.get("llama.attention.layer_norm_rms_epsilon"), Math.fround(config.rms_norm_eps));
  assert.equal(m.get("llama.vocab_size"), config.vocab_size);
  assert.equal(m.get("llama.rope.dimension_count"), hd);
  assert(!m.has("llama.attention.key_length")); // head_dim × heads = hidden
  // llama.cpp checks value types: the counts must be uint32, the floats float32.
  for (const key of ["llama.block_count", "llama.vocab_size", "tokenizer.ggml.bos_token_id"]) {
    assert.equal(header.types.get(key), GGUF_VALUE_TYPE.uint32, key);
  }
  assert.equal(header.types.get("llama.rope.freq_base"), GGUF_VALUE_TYPE.float32);

  // Tokenizer.
  const tok = JSON.parse(Deno.readTextFileSync(join(dir, "tokenizer.json")));
  const tokens = m.get("tokenizer.ggml.tokens") as string[];
  const types = m.get("tokenizer.ggml.token_type") as number[];
  assert.equal(m.get("tokenizer.ggml.model"), "gpt2");
  assert.equal(m.get("tokenizer.ggml.pre"), PRE_TOKENIZER);
  assert.equal(tokens.length, config.vocab_size);
  for (const [text, id] of Object.entries(tok.model.vocab as Record<string, number>)) {
    assert.equal(tokens[id], text);
    assert.equal(types[id], TOKEN_TYPE.normal);
  }
  assert.equal(tokens[config.bos_token_id], "<|begin_of_text|>");
  assert.equal(types[config.bos_token_id], TOKEN_TYPE.control);
  assert.equal(m.get("tokenizer.ggml.bos_token_id"), config.bos_token_id);
  assert.equal(m.get("tokenizer.ggml.eos_token_id"), config.eos_token_id);
  assert.equal(m.get("tokenizer.ggml.add_bos_token"), true);
  const merges = m.get("tokenizer.ggml.merges") as string[];
  assert.equal(merges.length, tok.model.merges.length);
  const first = tok.model.merges[0];
  assert.equal(merges[0], Array.isArray(first) ? first.join(" ") : first);

  // Data: plain tensors verbatim, q/k permuted per head (checked by undoing the permutation).
  const st = readSafetensorsHeader(join(dir, "model.safetensors"));
  const hf = (name: string) => readTensorRows(st.get(name)!);
  assert.deepEqual(
    readGgufTensor(out, header, "token_embd.weight"),
    hf("model.embed_tokens.weight"),
  );
  assert.deepEqual(
    readGgufTensor(out, header, "blk.1.ffn_down.weight"),
    hf("model.layers.1.mlp.down_proj.weight"),
  );
  for (
    const [gguf, name, heads] of [
      ["attn_q", "q_proj", config.num_attention_heads],
      ["attn_k", "k_proj", config.num_key_value_heads],
    ] as const
  ) {
    for (let layer = 0; layer < layers; layer++) {
      const stored = readGgufTensor(out, header, `blk.${layer}.${gguf}.weight`);
      const original = hf(`model.layers.${layer}.self_attn.${name}.weight`);
      assert.notDeepEqual(stored, original); // really permuted
      assert.deepEqual(unpermute(stored, heads * hd, hidden, hd), original, `${gguf} ${layer}`);
    }
  }
  assert.deepEqual(
    readGgufTensor(out, header, "blk.0.attn_v.weight"),
    hf("model.layers.0.self_attn.v_proj.weight"),
  );
});

/** A small random untied checkpoint with a vocabulary wider than its tokenizer. */
async function syntheticCheckpoint(overrides: Record<string, unknown> = {}): Promise<string> {
  const tiny = await tinyDir();
  const dir = tempDir();
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
    Deno.copyFileSync(join(tiny, f), join(dir, f));
  }
  const config = {
    model_type: "llama",
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    head_dim: 8, // 2 × 8 ≠ 32: key_length / value_length are written
    vocab_size: 520, // the tokenizer has 512
    max_position_embeddings: 64,
    rope_theta: 500000,
    rope_scaling: {
      rope_type: "llama3",
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    },
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
    bos_token_id: 510,
    eos_token_id: [511, 1],
    ...overrides,
  };
  Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify(config));
  let seed = 1;
  const random = (n: number) =>
    Float32Array.from(
      { length: n },
      () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5,
    );
  const entry = (name: string, shape: number[]): SafetensorsEntry => {
    const values = random(shape.reduce((a, b) => a * b, 1));
    return { name, shape, chunks: () => [values] };
  };
  const p = "model.layers.0";
  writeSafetensors(join(dir, "model.safetensors"), [
    entry("model.embed_tokens.weight", [520, 32]),
    entry(`${p}.input_layernorm.weight`, [32]),
    entry(`${p}.self_attn.q_proj.weight`, [16, 32]),
    entry(`${p}.self_attn.k_proj.weight`, [8, 32]),
    entry(`${p}.self_attn.v_proj.weight`, [8, 32]),
    entry(`${p}.self_attn.o_proj.weight`, [32, 16]),
    entry(`${p}.post_attention_layernorm.weight`, [32]),
    entry(`${p}.mlp.gate_proj.weight`, [48, 32]),
    entry(`${p}.mlp.up_proj.weight`, [48, 32]),
    entry(`${p}.mlp.down_proj.weight`, [32, 48]),
    entry("model.norm.weight", [32]),
    entry("lm_head.weight", [520, 32]),
  ]);
  return dir;
}

Deno.test("convertToGguf: untied head, vocabulary padding, head_dim ≠ hidden/heads, llama3 RoPE", async () => {
  const dir = await syntheticCheckpoint();
  const out = join(tempDir(), "s.gguf");
  convertToGguf(dir, out);
  const header = readGgufHeader(out);
  const m = header.metadata;
  const dims = new Map(header.tensors.map((t) => [t.name, t.dims]));
  assert.deepEqual(dims.get("output.weight"), [32, 520]);
  assert.deepEqual(dims.get("blk.0.attn_q.weight"), [32, 16]);
  assert.deepEqual(dims.get("blk.0.attn_output.weight"), [16, 32]);
  assert.deepEqual(dims.get("rope_freqs.weight"), [4]);
  assert.equal(m.get("llama.attention.key_length"), 8);
  assert.equal(m.get("llama.attention.value_length"), 8);
  assert.equal(m.get("tokenizer.ggml.eos_token_id"), 511); // first of a list
  assert(!m.has("tokenizer.ggml.padding_token_id"));
  const tokens = m.get("tokenizer.ggml.tokens") as string[];
  const types = m.get("tokenizer.ggml.token_type") as number[];
  assert.equal(tokens.length, 520);
  assert.deepEqual(
    tokens.slice(512),
    [512, 513, 514, 515, 516, 517, 518, 519].map((i) => `[PAD${i}]`),
  );
  assert(types.slice(512).every((t) => t === TOKEN_TYPE.unused));
  assert.equal(types[511], TOKEN_TYPE.control);
  const st = readSafetensorsHeader(join(dir, "model.safetensors"));
  assert.deepEqual(
    readGgufTensor(out, header, "output.weight"),
    readTensorRows(st.get("lm_head.weight")!),
  );
  assert.deepEqual(
    unpermute(readGgufTensor(out, header, "blk.0.attn_k.weight"), 8, 32, 8),
    readTensorRows(st.get("model.layers.0.self_attn.k_proj.weight")!),
  );
  // Divisors of the frequencies: 1 (kept) at the highest frequency, `factor` at the lowest.
  const factors = readGgufTensor(out, header, "rope_freqs.weight");
  assert.equal(factors[0], 1);
  assert.equal(factors[3], 32);
  assert.deepEqual(
    factors,
    ropeFreqFactors({
      headDim: 8,
      ropeTheta: 500000,
      llama3: { factor: 32, low: 1, high: 4, original: 8192 },
    }),
  );
});

Deno.test("ropeFreqFactors agrees with the builder's scaled RoPE frequencies", async () => {
  const { inverseFrequencies } = await import("../model/rope.ts");
  const scaling = {
    rope_type: "llama3" as const,
    factor: 32,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  };
  const scaled = inverseFrequencies({ head_dim: 64, rope_theta: 500000, rope_scaling: scaling });
  const plain = inverseFrequencies({ head_dim: 64, rope_theta: 500000, rope_scaling: null });
  const factors = ropeFreqFactors({
    headDim: 64,
    ropeTheta: 500000,
    llama3: { factor: 32, low: 1, high: 4, original: 8192 },
  });
  for (let i = 0; i < 32; i++) {
    // GGML divides the base frequency by the factor.
    assert(Math.abs(plain[i]! / factors[i]! - scaled[i]!) <= 1e-6 * scaled[i]!, `frequency ${i}`);
  }
});

Deno.test("convertToGguf rejects bad input with one line naming the file and field, writing nothing", async () => {
  const outDir = tempDir();
  const out = join(outDir, "bad.gguf");
  const cases: Array<[Record<string, unknown> | null, RegExp, (dir: string) => void]> = [
    [{ model_type: "mistral" }, /config\.json': 'model_type' is "mistral"; only 'llama'/, () => {}],
    [
      { rope_scaling: { rope_type: "yarn", factor: 4 } },
      /'rope_scaling' has rope_type "yarn"/,
      () => {},
    ],
    [{ hidden_size: "32" }, /'hidden_size' must be a positive integer/, () => {}],
    [{ attention_bias: true }, /'attention_bias' is true; biases are not converted/, () => {}],
    [
      { vocab_size: 500 },
      /tokenizer\.json': 'model\.vocab' has id \d+ .*beyond the model's vocab_size 500/,
      () => {},
    ],
    [null, /config\.json' does not exist/, (dir) => Deno.removeSync(join(dir, "config.json"))],
    [
      null,
      /tokenizer\.json' does not exist/,
      (dir) => Deno.removeSync(join(dir, "tokenizer.json")),
    ],
    [
      null,
      /has neither model\.safetensors nor/,
      (dir) => Deno.removeSync(join(dir, "model.safetensors")),
    ],
  ];
  for (const [overrides, pattern, damage] of cases) {
    const dir = await syntheticCheckpoint(overrides ?? {});
    damage(dir);
    assert.throws(() => convertToGguf(dir, out), (error: Error) => {
      assert.match(error.message, pattern);
      assert(!error.message.includes("\n"));
      return true;
    });
  }
  // A missing tensor is named (the embedding's shape no longer matches vocab_size).
  const dir = await syntheticCheckpoint({ vocab_size: 600 });
  assert.throws(
    () => convertToGguf(dir, out),
    /'model\.embed_tokens\.weight' has shape \[520,32\], config\.json implies \[600,32\]/,
  );
  assert.deepEqual([...Deno.readDirSync(outDir)], []);
});
