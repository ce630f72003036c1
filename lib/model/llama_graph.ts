/**
 * The ONNX graph of a Llama causal LM in the Optimum / transformers.js decoder layout: inputs
 * `input_ids`, `attention_mask`, `position_ids`, `past_key_values.{i}.key|value`,
 * `num_logits_to_keep`; outputs
 * `logits`, `present.{i}.key|value` (`num_logits_to_keep` has the default 0 inside the graph, an
 * initializer of the same name: see input_defaults.ts). Opset-17 operators plus com.microsoft `RotaryEmbedding` (and
 * `GroupQueryAttention` with `attention: "gqa"`); every linear layer is a
 * `MatMul` whose B is an `[in, out]` initializer, so a weight-only quantizer finds it.
 *
 * @module
 */
import { ExternalDataWriter } from "../onnx/external_data.ts";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { attentionBuilder, type AttentionKind } from "./_graph_attention.ts";
import { normBuilders, type NormKind } from "./_graph_norms.ts";
import { INPUT_DEFAULTS } from "./input_defaults.ts";
import type { LlamaConfig } from "./presets.ts";
import { type ParameterSpec, parameterSpecs, weightChunks, weightValues } from "./weights.ts";

/** Symbolic dimension names, as Optimum exports name them (transformers.js resolves `batch_size`). */
export const DIMS: Readonly<{
  batch: "batch_size";
  sequence: "sequence_length";
  past: "past_sequence_length";
  total: "total_sequence_length";
  kept: "logits_sequence_length";
}> = Object.freeze(
  {
    batch: "batch_size",
    sequence: "sequence_length",
    past: "past_sequence_length",
    total: "total_sequence_length",
    kept: "logits_sequence_length",
  } as const,
);

/**
 * Name of the scalar int64 input that says how many trailing positions get logits, as Hugging
 * Face names it: `0` keeps every position (perplexity, scoring), `n > 0` the last `n` (`1` in
 * generation, so the prefill never computes nor copies `[batch, seq, vocab]`).
 */
export const NUM_LOGITS_TO_KEEP = "num_logits_to_keep";

/** Score given to masked (future or padding) keys before the softmax; representable in fp16. */
export const MASK_VALUE: number = -65504;

/** Options of {@linkcode writeLlamaOnnx}. */
export interface WriteLlamaOnnxOptions {
  /** Weight seed. */
  seed: number;
  /**
   * Stream weights to `<model>_data` (ONNX external data) instead of inlining them; needed when
   * the file would pass 2 GB. @default false
   */
  externalData?: boolean;
  /**
   * `standard`: opset-17 operators (honours left padding). `gqa`: com.microsoft
   * GroupQueryAttention with rotary inside, as onnxruntime-genai exports emit it (positions come
   * from the attention mask's row sums, so rows must not be left-padded). `in_place`: standard
   * operators over a fixed-size cache that the engine owns and never moves: `past_key_values.*`
   * is the whole cache buffer `[batch, kv_heads, max_length, head_dim]` (unfilled slots masked by
   * `attention_mask`), and the outputs are only this step's keys and values,
   * `present_new.{i}.key|value` `[batch, kv_heads, sequence_length, head_dim]`, which the engine
   * writes into the buffer (see `lib/engine/kv_cache.ts`). Not loadable by transformers.js.
   * @default "standard"
   */
  attention?: "standard" | "gqa" | "in_place";
  /**
   * Where each parameter's float32 values come from, in torch layout or (`transposed`) MatMul's
   * `[in, out]`: an imported checkpoint. @default the seeded random weights of `weights.ts`
   */
  source?: (spec: ParameterSpec, transposed: boolean) => Iterable<Float32Array>;
  /**
   * `plain`: RMSNorm as `Pow → ReduceMean → Add → Sqrt → Div → Mul` and the residual `Add`s
   * apart (ONNX Runtime fuses each norm into `SimplifiedLayerNormalization` when it loads the
   * model). `fused`: the norms written as `SimplifiedLayerNormalization`, and every residual
   * `Add` that a norm follows folded with it into com.microsoft
   * `SkipSimplifiedLayerNormalization` (whose fourth output is the sum the next residual needs),
   * so a step dispatches two fewer nodes per layer (one fewer in the last).
   * @default "plain"
   */
  norms?: NormKind;
}

export type { NormKind };

/** The norm kinds {@linkcode writeLlamaOnnx} writes. */
export const NORM_KINDS: readonly NormKind[] = Object.freeze(["plain", "fused"] as const);

/** What {@linkcode writeLlamaOnnx} wrote. */
export interface WrittenOnnx {
  /** Paths written (the model and, with external data, its data file). */
  files: string[];
  /** Bytes of all files together. */
  bytes: number;
}

/**
 * Writes the fp32 ONNX model of a configuration with deterministic weights.
 *
 * @param config The configuration (validated by the caller).
 * @param path Where the `.onnx` file goes; external data goes to `${path}_data`.
 * @param options Seed and external-data choice.
 * @returns The files written and their total size.
 * @example
 * ```ts ignore
 * import { writeLlamaOnnx } from "./llama_graph.ts";
 * import { PRESETS } from "./presets.ts";
 * await writeLlamaOnnx(PRESETS.tiny!, "/tmp/model.onnx", { seed: 42 });
 * ```
 */
export async function writeLlamaOnnx(
  config: Readonly<LlamaConfig>,
  path: string,
  options: WriteLlamaOnnxOptions,
): Promise<WrittenOnnx> {
  const dataPath = `${path}_data`;
  const sink = options.externalData ? new ExternalDataWriter(dataPath) : undefined;
  const std = config.initializer_range;
  const specs = new Map(parameterSpecs(config).map((s) => [s.name, s]));
  const spec = (name: string): ParameterSpec => {
    const found = specs.get(name);
    if (!found) throw new TypeError(`writeLlamaOnnx: no parameter '${name}'`);
    return found;
  };
  const g = new GraphBuilder("main_graph");
  /** Adds a weight; `transposed` turns torch `[out, in]` into MatMul's `[in, out]`. */
  const weight = (onnxName: string, p: ParameterSpec, transposed: boolean): string => {
    const dims = transposed && p.shape.length === 2 ? [p.shape[1], p.shape[0]] : [...p.shape];
    const opts = { seed: options.seed, std, transposed };
    const source = options.source;
    if (sink) {
      const chunks = source ? source(p, transposed) : weightChunks(p, opts);
      return g.externalInitializer(onnxName, "float32", dims, sink.append(chunks));
    }
    const values = source ? concat([...source(p, transposed)]) : weightValues(p, opts);
    return g.initializer(onnxName, "float32", dims, values);
  };
  /** A large constant (RoPE caches): streamed to the external-data file when there is one. */
  const constant = (name: string, dims: number[], data: Float32Array): string =>
    sink
      ? g.externalInitializer(name, "float32", dims, sink.append([data]))
      : g.initializer(name, "float32", dims, data);
  try {
    const has = (name: string) => specs.has(name);
    buildGraph(
      g,
      config,
      { weight, spec, has, constant },
      options.attention ?? "standard",
      options.norms ?? "plain",
    );
  } finally {
    sink?.close();
  }
  const encoded = g.toModelBytes({
    opset: 17,
    // RotaryEmbedding, GroupQueryAttention, SkipSimplifiedLayerNormalization
    domains: { "com.microsoft": 1 },
  });
  await writeModel(path, encoded);
  const files = sink ? [path, dataPath] : [path];
  let bytes = 0;
  for (const f of files) bytes += (await Deno.stat(f)).size;
  return { files, bytes };
}

function buildGraph(
  g: GraphBuilder,
  config: Readonly<LlamaConfig>,
  sources: {
    weight: (onnxName: string, p: ParameterSpec, transposed: boolean) => string;
    spec: (name: string) => ParameterSpec;
    has: (name: string) => boolean;
    constant: (name: string, dims: number[], data: Float32Array) => string;
  },
  attention: AttentionKind,
  norms: NormKind,
): void {
  const { weight, spec, has, constant } = sources;
  const {
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    vocab_size: vocab,
  } = config;
  const layers = config.num_hidden_layers;
  const { batch, sequence, past, total } = DIMS;

  g.input("input_ids", "int64", [batch, sequence]);
  g.input("attention_mask", "int64", [batch, total]);
  g.input("position_ids", "int64", [batch, sequence]);
  for (let i = 0; i < layers; i++) {
    g.input(`past_key_values.${i}.key`, "float32", [batch, kvHeads, past, headDim]);
    g.input(`past_key_values.${i}.value`, "float32", [batch, kvHeads, past, headDim]);
  }
  g.input(NUM_LOGITS_TO_KEEP, "int64", []);
  // Its default (0: every position), so callers that do not know the input run the graph.
  g.initializer(
    NUM_LOGITS_TO_KEEP,
    "int64",
    [],
    BigInt64Array.of(BigInt(INPUT_DEFAULTS[NUM_LOGITS_TO_KEEP]!)),
  );
  g.output("logits", "float32", [batch, DIMS.kept, vocab]);
  // in_place: only this step's keys/values come back (the cache itself is an input only).
  const [presentPrefix, presentLen] = attention === "in_place"
    ? ["present_new", sequence]
    : ["present", total];
  for (let i = 0; i < layers; i++) {
    g.output(`${presentPrefix}.${i}.key`, "float32", [batch, kvHeads, presentLen, headDim]);
    g.output(`${presentPrefix}.${i}.value`, "float32", [batch, kvHeads, presentLen, headDim]);
  }

  // Constants.
  const i64 = (name: string, values: number[], dims: number[] = [values.length]) =>
    g.initializer(name, "int64", dims, BigInt64Array.from(values.map(BigInt)));
  const f32 = (name: string, value: number) =>
    g.initializer(name, "float32", [], Float32Array.of(value));
  const two = f32("const_two", 2);
  const eps = f32("const_rms_eps", config.rms_norm_eps);
  const scale = f32("const_attn_scale", 1 / Math.sqrt(headDim));
  const maskValue = f32("const_mask_value", MASK_VALUE);
  const zero = i64("const_zero", [0], []);
  const one = i64("const_one", [1], []);
  const axis0 = i64("const_axes_0", [0]);
  const axis1 = i64("const_axes_1", [1]);
  const axes12 = i64("const_axes_1_2", [1, 2]);
  const qShape = i64("const_q_shape", [0, 0, heads, headDim]);
  const kvShape = i64("const_kv_shape", [0, 0, kvHeads, headDim]);
  // The 4-D grouping shapes only the standard attention reads (in_place groups 5-D, gqa in-kernel).
  const standardOnly = (name: string, values: number[]) =>
    attention === "standard" ? i64(name, values) : "";
  const groupShape = standardOnly("const_group_shape", [0, kvHeads, -1, headDim]);
  const scoresByHead = standardOnly("const_scores_heads", [0, heads, -1, 0]);
  const scoresByGroup = standardOnly("const_scores_groups", [0, kvHeads, -1, 0]);
  const ctxByHead = i64("const_ctx_heads", [0, heads, -1, headDim]);
  const mergeShape = i64("const_merge_shape", [0, 0, heads * headDim]);

  const { rmsNorm, addThenNorm } = normBuilders({
    g,
    weight: (name) => weight(name, spec(name), false),
    epsilon: config.rms_norm_eps,
    constants: { two, eps },
  }, norms);
  const linear = (x: string, hfName: string): string => {
    const onnxName = hfName.replace(/\.weight$/, ".MatMul.weight");
    const [y] = g.node("MatMul", [x, weight(onnxName, spec(hfName), true)]);
    const bias = hfName.replace(/\.weight$/, ".bias"); // Qwen2's q/k/v, Llama's attention_bias
    return has(bias) ? g.node("Add", [y!, weight(bias, spec(bias), false)])[0]! : y!;
  };
  const attend = attentionBuilder({
    g,
    config,
    constant,
    i64,
    constants: {
      scale,
      maskValue,
      zero,
      one,
      axis0,
      axis1,
      axes12,
      qShape,
      kvShape,
      groupShape,
      scoresByHead,
      scoresByGroup,
      ctxByHead,
      mergeShape,
    },
  }, attention);

  const embed = weight("model.embed_tokens.weight", spec("model.embed_tokens.weight"), false);
  let x = g.node("Gather", [embed, "input_ids"], undefined, { axis: 0 })[0]!;
  // The first layer's input norm; each later one is folded with the residual add before it.
  let h = rmsNorm(x, "model.layers.0.input_layernorm.weight");
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}`;
    const q = linear(h, `${p}.self_attn.q_proj.weight`);
    const k = linear(h, `${p}.self_attn.k_proj.weight`);
    const v = linear(h, `${p}.self_attn.v_proj.weight`);
    const merged = attend(i, q, k, v);
    const attnOut = linear(merged, `${p}.self_attn.o_proj.weight`);
    const [afterAttn, h2] = addThenNorm(x, attnOut, `${p}.post_attention_layernorm.weight`);
    const gate = linear(h2, `${p}.mlp.gate_proj.weight`);
    const up = linear(h2, `${p}.mlp.up_proj.weight`);
    const [sig] = g.node("Sigmoid", [gate]);
    const [silu] = g.node("Mul", [gate, sig!]);
    const [act] = g.node("Mul", [silu!, up]);
    const down = linear(act!, `${p}.mlp.down_proj.weight`);
    if (i + 1 < layers) {
      [x, h] = addThenNorm(afterAttn, down, `model.layers.${i + 1}.input_layernorm.weight`);
    } else {
      // The final norm comes after the num_logits_to_keep slice, so this add stays apart.
      x = g.node("Add", [afterAttn, down])[0]!;
    }
  }
  // num_logits_to_keep: slice the hidden states before the norm and the head, so positions that
  // are not kept cost neither compute nor a copy. start = n == 0 ? 0 : max(seq - n, 0).
  const [hiddenShape] = g.node("Shape", [x]);
  const [seqLen] = g.node("Gather", [hiddenShape!, one], undefined, { axis: 0 });
  const [fromEnd] = g.node("Sub", [seqLen!, NUM_LOGITS_TO_KEEP]);
  const [clamped] = g.node("Max", [fromEnd!, zero]);
  const [keepAll] = g.node("Equal", [NUM_LOGITS_TO_KEEP, zero]);
  const [start] = g.node("Where", [keepAll!, zero, clamped!]);
  const [starts] = g.node("Unsqueeze", [start!, i64("const_logits_axes", [0])]);
  const [kept] = g.node("Slice", [
    x,
    starts!,
    i64("const_int64_max", [Number.MAX_SAFE_INTEGER]),
    i64("const_sequence_axis", [1]),
  ]);
  const final = rmsNorm(kept!, "model.norm.weight");
  // A tied head still needs a MatMul with an initializer B: a transposed copy of the embedding.
  const headSpec = config.tie_word_embeddings
    ? spec("model.embed_tokens.weight")
    : spec("lm_head.weight");
  g.node("MatMul", [final, weight("lm_head.MatMul.weight", headSpec, true)], ["logits"]);
}

function concat(chunks: Float32Array[]): Float32Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
