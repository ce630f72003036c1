/**
 * Converts a Hugging Face Llama folder (`config.json`, safetensors weights, `tokenizer.json`) to a
 * float32 GGUF file with architecture `llama`, the form llama.cpp loads (and its `llama-quantize`
 * turns into Q8_0 / Q4_0), so both engines can run the same weights.
 *
 * Query and key projections are permuted per head: Hugging Face's RoPE rotates the two halves of
 * a head (`rotate_half`), GGML's `NORM` RoPE rotates adjacent pairs, so row `i·d/2 + j` of a head
 * (half `i`, pair `j`) moves to row `2j + i`. Llama 3 RoPE scaling becomes a `rope_freqs.weight`
 * tensor of per-frequency divisors.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import {
  checkpointTensors,
  readTensorRows,
  type SafetensorsTensorInfo,
  tensorChunks,
} from "../model/safetensors.ts";
import { readGgufHeader } from "./gguf_read.ts";
import { type GgufTensorEntry, type GgufValue, writeGguf } from "./gguf_write.ts";
import { readJson, tokenizerMetadata } from "./tokenizer_meta.ts";

/** The Llama hyperparameters a conversion needs, read from `config.json`. */
export interface GgufLlamaConfig {
  /** Residual width. */
  hidden: number;
  /** MLP width. */
  intermediate: number;
  /** Layers. */
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Head width. */
  headDim: number;
  /** Embedding rows. */
  vocabSize: number;
  /** Longest context. */
  contextLength: number;
  /** RoPE base. */
  ropeTheta: number;
  /** RMSNorm epsilon. */
  rmsEps: number;
  /** Whether the LM head is the embedding. */
  tied: boolean;
  /** Llama 3 RoPE scaling, or null. */
  llama3: {
    factor: number;
    low: number;
    high: number;
    original: number;
  } | null;
  /** `general.name`. */
  name: string;
  /** Special ids. */
  bos: number | null;
  /** EOS id (the first when a list). */
  eos: number | null;
  /** Padding id. */
  pad: number | null;
}

/** Summary of a conversion. */
export interface GgufConversion {
  /** The written file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Tensors written. */
  tensors: number;
  /** Metadata keys written. */
  metadata: number;
}

/**
 * Reads and checks the Llama hyperparameters of `config.json`.
 *
 * @param dir The model folder.
 * @returns The configuration.
 * @throws {Error} one line naming `config.json` and the field: missing file, `model_type` other
 * than `llama`, a missing or non-integer size, biases, an activation other than SiLU, or RoPE
 * scaling other than `llama3`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLlamaConfig } from "./convert.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify({ model_type: "gpt2" }));
 * assert.throws(() => readLlamaConfig(dir), /model_type/);
 * ```
 */
export function readLlamaConfig(dir: string): GgufLlamaConfig {
  const path = join(dir, "config.json");
  const c = readJson(path) as Record<string, unknown>;
  const fail = (field: string, why: string): never => {
    throw new Error(`'${path}': '${field}' ${why}`);
  };
  if (c?.model_type !== "llama") {
    fail("model_type", `is ${JSON.stringify(c?.model_type)}; only 'llama' converts to GGUF`);
  }
  const int = (field: string, fallback?: number): number => {
    const v = c[field] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) {
      fail(field, `must be a positive integer, got ${JSON.stringify(c[field] ?? null)}`);
    }
    return v as number;
  };
  const hidden = int("hidden_size");
  const heads = int("num_attention_heads");
  const headDim = int("head_dim", hidden / heads);
  const kvHeads = int("num_key_value_heads", heads);
  if (heads % kvHeads !== 0) fail("num_key_value_heads", `${kvHeads} does not divide ${heads}`);
  if (headDim % 2 !== 0) fail("head_dim", `${headDim} is odd (RoPE rotates pairs)`);
  for (const field of ["attention_bias", "mlp_bias"]) {
    if (c[field] !== undefined && c[field] !== false) {
      fail(field, `is ${JSON.stringify(c[field])}; biases are not converted`);
    }
  }
  if (c.hidden_act !== undefined && c.hidden_act !== "silu") {
    fail("hidden_act", `is ${JSON.stringify(c.hidden_act)}; llama.cpp's llama uses 'silu'`);
  }
  const params = (c.rope_parameters ?? null) as Record<string, unknown> | null;
  const theta = c.rope_theta ?? params?.rope_theta ?? 10000;
  if (typeof theta !== "number" || !(theta > 0)) fail("rope_theta", `is ${theta}`);
  const eps = c.rms_norm_eps ?? 1e-6;
  if (typeof eps !== "number" || !(eps > 0)) fail("rms_norm_eps", `is ${eps}`);
  const scaling = (c.rope_scaling ?? null) as Record<string, unknown> | null;
  let llama3: GgufLlamaConfig["llama3"] = null;
  const ropeType = scaling?.rope_type ?? scaling?.type ?? params?.rope_type ?? "default";
  if (ropeType === "llama3") {
    const s = scaling ?? params!;
    const num = (field: string, fallback: number): number => {
      const v = s[field] ?? fallback;
      if (typeof v !== "number" || !(v > 0)) fail(`rope_scaling.${field}`, `is ${v}`);
      return v as number;
    };
    llama3 = {
      factor: num("factor", 8),
      low: num("low_freq_factor", 1),
      high: num("high_freq_factor", 4),
      original: num("original_max_position_embeddings", 8192),
    };
    if (llama3.high <= llama3.low) {
      fail("rope_scaling.high_freq_factor", `must exceed low_freq_factor`);
    }
  } else if (ropeType !== "default") {
    fail(
      "rope_scaling",
      `has rope_type ${JSON.stringify(ropeType)}; only 'llama3' scaling (or none) converts`,
    );
  }
  const id = (field: string): number | null => {
    const v = Array.isArray(c[field]) ? (c[field] as unknown[])[0] : c[field];
    if (v === undefined || v === null) return null;
    if (!Number.isSafeInteger(v) || (v as number) < 0) fail(field, `is ${JSON.stringify(v)}`);
    return v as number;
  };
  const meta = c.turbo_inference as Record<string, unknown> | undefined;
  return {
    hidden,
    intermediate: int("intermediate_size"),
    layers: int("num_hidden_layers"),
    heads,
    kvHeads,
    headDim,
    vocabSize: int("vocab_size"),
    contextLength: int("max_position_embeddings"),
    ropeTheta: theta as number,
    rmsEps: eps as number,
    tied: c.tie_word_embeddings === true,
    llama3,
    name: typeof meta?.preset === "string" ? meta.preset : basename(resolve(dir)),
    bos: id("bos_token_id"),
    eos: id("eos_token_id"),
    pad: id("pad_token_id"),
  };
}

/**
 * Llama 3's RoPE scaling as GGML's per-frequency divisors (`rope_freqs.weight`): 1 for short
 * wavelengths, `factor` for long ones, the smooth interpolation's inverse in between.
 *
 * @param config `headDim`, `ropeTheta`, `llama3` (non-null).
 * @returns `headDim / 2` divisors.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeFreqFactors } from "./convert.ts";
 * const f = ropeFreqFactors({
 *   headDim: 64, ropeTheta: 500000, llama3: { factor: 32, low: 1, high: 4, original: 8192 },
 * });
 * assert(f.length === 32 && f[0] === 1 && f[31] === 32);
 * ```
 */
export function ropeFreqFactors(
  config: Pick<GgufLlamaConfig, "headDim" | "ropeTheta" | "llama3">,
): Float32Array {
  const s = config.llama3!;
  const d = config.headDim;
  const out = new Float32Array(d / 2);
  const lowWavelen = s.original / s.low;
  const highWavelen = s.original / s.high;
  for (let i = 0; i < d / 2; i++) {
    const freq = 1 / config.ropeTheta ** ((2 * i) / d);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.original / wavelen - s.low) / (s.high - s.low);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/**
 * The row GGML's layout takes from Hugging Face's for a q/k projection: within each head of
 * `headDim` rows, output row `2j + i` is input row `i·headDim/2 + j`.
 *
 * @param row Output row index.
 * @param headDim Rows per head.
 * @returns The input row index.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropePermutedRow } from "./convert.ts";
 * assert.deepEqual([0, 1, 2, 3].map((r) => ropePermutedRow(r, 4)), [0, 2, 1, 3]);
 * ```
 */
export function ropePermutedRow(row: number, headDim: number): number {
  const head = Math.floor(row / headDim);
  const r = row % headDim;
  return head * headDim + (r % 2) * (headDim / 2) + Math.floor(r / 2);
}

/**
 * Converts a Hugging Face Llama folder to a float32 GGUF file (written beside `outPath` and
 * renamed into place after its header has been read back and checked).
 *
 * @param modelDir Folder with `config.json`, `model.safetensors` (or an index and shards) and
 * `tokenizer.json`.
 * @param outPath The `.gguf` file to write.
 * @returns Size and counts of what was written.
 * @throws {Error} one line naming the file and field for missing or unsupported input.
 * @example
 * ```ts ignore
 * import { convertToGguf } from "./convert.ts";
 * await convertToGguf(".cache/models/small-s42", "small-f32.gguf");
 * ```
 */
export function convertToGguf(modelDir: string, outPath: string): GgufConversion {
  const config = readLlamaConfig(modelDir);
  const tokenizer = tokenizerMetadata(modelDir, config.vocabSize, config);
  const weights = checkpointTensors(modelDir);
  const tensors = tensorPlan(modelDir, config, weights);
  const metadata = llamaMetadata(config).concat(tokenizer);
  const staging = `${outPath}.${Deno.pid}.partial`;
  try {
    const bytes = writeGguf(staging, { metadata, tensors });
    const header = readGgufHeader(staging);
    const expected = tensors.map((t) => t.name).join();
    if (header.tensors.map((t) => t.name).join() !== expected) {
      throw new Error(`'${outPath}': the written tensor list does not read back`);
    }
    if (header.metadata.size !== metadata.length + 1) {
      throw new Error(`'${outPath}': the written metadata does not read back`);
    }
    Deno.renameSync(staging, outPath);
    return { path: outPath, bytes, tensors: tensors.length, metadata: header.metadata.size };
  } catch (error) {
    try {
      Deno.removeSync(staging);
    } catch {
      // Never written.
    }
    throw error;
  }
}

/** `general.*` and `llama.*` metadata. */
function llamaMetadata(c: GgufLlamaConfig): Array<[string, GgufValue]> {
  const u32 = (value: number): GgufValue => ({ type: "uint32", value });
  const f32 = (value: number): GgufValue => ({ type: "float32", value });
  const out: Array<[string, GgufValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: c.name }],
    ["general.file_type", u32(0)], // ALL_F32
    ["llama.context_length", u32(c.contextLength)],
    ["llama.embedding_length", u32(c.hidden)],
    ["llama.block_count", u32(c.layers)],
    ["llama.feed_forward_length", u32(c.intermediate)],
    ["llama.attention.head_count", u32(c.heads)],
    ["llama.attention.head_count_kv", u32(c.kvHeads)],
    ["llama.rope.freq_base", f32(c.ropeTheta)],
    ["llama.attention.layer_norm_rms_epsilon", f32(c.rmsEps)],
    ["llama.vocab_size", u32(c.vocabSize)],
    ["llama.rope.dimension_count", u32(c.headDim)],
  ];
  if (c.headDim * c.heads !== c.hidden) {
    out.push(["llama.attention.key_length", u32(c.headDim)]);
    out.push(["llama.attention.value_length", u32(c.headDim)]);
  }
  return out;
}

/** Every tensor to write, in llama.cpp's order, each checked against the expected shape. */
function tensorPlan(
  dir: string,
  c: GgufLlamaConfig,
  weights: Map<string, SafetensorsTensorInfo>,
): GgufTensorEntry[] {
  const used = new Set<string>();
  const take = (hf: string, shape: number[]): SafetensorsTensorInfo => {
    const info = weights.get(hf);
    if (!info) throw new Error(`'${dir}': the weights have no tensor '${hf}'`);
    if (info.shape.join() !== shape.join()) {
      throw new Error(
        `'${dir}': tensor '${hf}' has shape [${info.shape}], config.json implies [${shape}]`,
      );
    }
    used.add(hf);
    return info;
  };
  const plain = (name: string, hf: string, shape: number[]): GgufTensorEntry => {
    const info = take(hf, shape);
    return { name, shape, chunks: () => tensorChunks(info) };
  };
  const permuted = (name: string, hf: string, heads: number): GgufTensorEntry => {
    const shape = [heads * c.headDim, c.hidden];
    const info = take(hf, shape);
    return { name, shape, chunks: () => permutedChunks(info, heads, c.headDim) };
  };
  const out: GgufTensorEntry[] = [
    plain("token_embd.weight", "model.embed_tokens.weight", [c.vocabSize, c.hidden]),
  ];
  if (c.llama3) {
    const factors = ropeFreqFactors(c);
    out.push({ name: "rope_freqs.weight", shape: [factors.length], chunks: () => [factors] });
  }
  for (let i = 0; i < c.layers; i++) {
    const p = `model.layers.${i}`;
    const kv = c.kvHeads * c.headDim;
    out.push(
      plain(`blk.${i}.attn_norm.weight`, `${p}.input_layernorm.weight`, [c.hidden]),
      permuted(`blk.${i}.attn_q.weight`, `${p}.self_attn.q_proj.weight`, c.heads),
      permuted(`blk.${i}.attn_k.weight`, `${p}.self_attn.k_proj.weight`, c.kvHeads),
      plain(`blk.${i}.attn_v.weight`, `${p}.self_attn.v_proj.weight`, [kv, c.hidden]),
      plain(
        `blk.${i}.attn_output.weight`,
        `${p}.self_attn.o_proj.weight`,
        [c.hidden, c.heads * c.headDim],
      ),
      plain(`blk.${i}.ffn_norm.weight`, `${p}.post_attention_layernorm.weight`, [c.hidden]),
      plain(`blk.${i}.ffn_gate.weight`, `${p}.mlp.gate_proj.weight`, [c.intermediate, c.hidden]),
      plain(`blk.${i}.ffn_up.weight`, `${p}.mlp.up_proj.weight`, [c.intermediate, c.hidden]),
      plain(`blk.${i}.ffn_down.weight`, `${p}.mlp.down_proj.weight`, [c.hidden, c.intermediate]),
    );
  }
  out.push(plain("output_norm.weight", "model.norm.weight", [c.hidden]));
  if (!c.tied) out.push(plain("output.weight", "lm_head.weight", [c.vocabSize, c.hidden]));
  else if (weights.has("lm_head.weight")) used.add("lm_head.weight"); // a stored copy of the tie
  const extra = [...weights.keys()].filter((n) =>
    !used.has(n) && !n.endsWith("rotary_emb.inv_freq")
  );
  if (extra.length > 0) {
    throw new Error(
      `'${dir}': the weights have tensors a Llama conversion does not know: ${
        extra.slice(0, 3).join(", ")
      }${extra.length > 3 ? ` (+${extra.length - 3} more)` : ""}`,
    );
  }
  return out;
}

/** A q/k projection's rows in GGML's RoPE order, one head at a time (bounded memory). */
function* permutedChunks(
  info: SafetensorsTensorInfo,
  heads: number,
  headDim: number,
): Generator<Float32Array> {
  const cols = info.shape[1]!;
  for (let h = 0; h < heads; h++) {
    const src = readTensorRows(info, h * headDim, (h + 1) * headDim);
    const dst = new Float32Array(src.length);
    for (let r = 0; r < headDim; r++) {
      const from = ropePermutedRow(r, headDim);
      dst.set(src.subarray(from * cols, (from + 1) * cols), r * cols);
    }
    yield dst;
  }
}
