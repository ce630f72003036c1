/**
 * The attention sub-graphs of the Llama graph (llama_graph.ts): `standard` (opset-17 operators
 * with com.microsoft `RotaryEmbedding`), `in_place` (the same over a fixed-size cache the engine
 * owns) and `gqa` (com.microsoft `GroupQueryAttention`).
 *
 * @module
 */
import { float, type GraphBuilder } from "../onnx/graph.ts";
import type { LlamaConfig } from "./presets.ts";
import { ropeHalfCaches } from "./rope.ts";

/** How the Llama graph computes attention (see `WriteLlamaOnnxOptions.attention`). */
export type AttentionKind = "standard" | "gqa" | "in_place";

/** Names of the shared initializers the attention sub-graphs read (made by the graph builder). */
export interface AttentionConstants {
  /** float32 `1/√head_dim`. */
  scale: string;
  /** float32 score of masked keys. */
  maskValue: string;
  /** int64 scalar `0`. */
  zero: string;
  /** int64 scalar `1`. */
  one: string;
  /** int64 `[0]`. */
  axis0: string;
  /** int64 `[1]`. */
  axis1: string;
  /** int64 `[1, 2]`. */
  axes12: string;
  /** Reshape to `[B, S, heads, head_dim]`. */
  qShape: string;
  /** Reshape to `[B, S, kv_heads, head_dim]`. */
  kvShape: string;
  /** Reshape to `[B, kv_heads, rep·S, head_dim]`. */
  groupShape: string;
  /** Reshape scores to `[B, heads, S, T]`. */
  scoresByHead: string;
  /** Reshape scores to `[B, kv_heads, rep·S, T]`. */
  scoresByGroup: string;
  /** Reshape context to `[B, heads, S, head_dim]`. */
  ctxByHead: string;
  /** Reshape to `[B, S, heads·head_dim]`. */
  mergeShape: string;
}

/** What {@linkcode attentionBuilder} needs from the graph being built. */
export interface AttentionContext {
  /** The graph. */
  g: GraphBuilder;
  /** The configuration. */
  config: Readonly<LlamaConfig>;
  /** Adds a large float32 constant (the RoPE caches) and returns its name. */
  constant: (name: string, dims: number[], data: Float32Array) => string;
  /** Adds an int64 initializer and returns its name. */
  i64: (name: string, values: number[], dims?: number[]) => string;
  /** The shared initializers. */
  constants: AttentionConstants;
}

/** Builds layer `i`'s attention from the flat q, k, v projections; returns the merged heads. */
export type Attend = (i: number, q: string, k: string, v: string) => string;

/**
 * Makes the attention builder of one graph. Shared nodes (mask, RoPE caches, split sizes) are
 * made on first use, so nodes and initializers are added in the same order as when this code
 * lived inside the graph builder, and the graph written is the same.
 *
 * @param ctx The graph, configuration and shared initializers.
 * @param attention Which attention to write.
 * @returns The per-layer attention builder.
 * @throws {TypeError} for an unknown `attention` (when a layer is built).
 * @example
 * ```ts ignore
 * import { attentionBuilder } from "./_graph_attention.ts";
 * const attend = attentionBuilder(ctx, "standard");
 * const merged = attend(0, "q", "k", "v");
 * ```
 */
export function attentionBuilder(ctx: AttentionContext, attention: AttentionKind): Attend {
  const { g, config, constant, i64 } = ctx;
  const {
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
  } = ctx.constants;
  const { num_attention_heads: heads, num_key_value_heads: kvHeads, head_dim: headDim } = config;

  // Standard attention: RoPE (one fused RotaryEmbedding per q and k), an explicit causal + padding
  // mask, and Softmax(QKᵀ/√d)V in plain operators. Shared nodes are made on first use.
  let shared: { visible: string } | undefined;
  const standardShared = () => {
    // Mask [B, 1, S, T]: key j is visible to query i iff j <= past + i and attention_mask[b, j] = 1.
    const [maskShape] = g.node("Shape", ["attention_mask"]);
    const [totalLen] = g.node("Gather", [maskShape!, one], undefined, { axis: 0 });
    const [idsShape] = g.node("Shape", ["input_ids"]);
    const [seqLen] = g.node("Gather", [idsShape!, one], undefined, { axis: 0 });
    const [pastLen] = g.node("Sub", [totalLen!, seqLen!]);
    const [keyPos] = g.node("Range", [zero, totalLen!, one]); // [T]
    const [queryPos] = g.node("Range", [pastLen!, totalLen!, one]); // [S]
    const [keyRow] = g.node("Unsqueeze", [keyPos!, axis0]); // [1, T]
    const [queryCol] = g.node("Unsqueeze", [queryPos!, axis1]); // [S, 1]
    const [causal] = g.node("LessOrEqual", [keyRow!, queryCol!]); // [S, T]
    const [padBool] = g.node("Cast", ["attention_mask"], undefined, { to: 9 });
    const [padMask] = g.node("Unsqueeze", [padBool!, axes12]); // [B, 1, 1, T]
    const [visible] = g.node("And", [causal!, padMask!]); // [B, 1, S, T]
    return { visible: visible! };
  };
  // RoPE as com.microsoft RotaryEmbedding on [B, h, S, D] (rotate_half layout, interleaved 0):
  // the kernel gathers the half-width caches [max_positions, head_dim / 2] by position_ids
  // itself, one operator where Split → Neg → Concat → Mul, Mul → Add took six (ORT's optimiser
  // has no rotary fusion of its own). Same formula: x·cos + rotate_half(x)·sin.
  let ropeCache: { cos: string; sin: string } | undefined;
  const rope = (x: string, out?: string): string => {
    if (!ropeCache) {
      const { cos, sin } = ropeHalfCaches(config);
      const dims = [config.max_position_embeddings, headDim / 2];
      ropeCache = { cos: constant("cos_cache", dims, cos), sin: constant("sin_cache", dims, sin) };
    }
    const inputs = [x, "position_ids", ropeCache.cos, ropeCache.sin];
    return g.node(
      "RotaryEmbedding",
      inputs,
      out === undefined ? undefined : [out],
      { interleaved: 0 },
      "com.microsoft",
    )[0]!;
  };
  const standardAttention = (i: number, qFlat: string, kFlat: string, vFlat: string): string => {
    shared ??= standardShared();
    const visible = shared.visible;
    const heads4 = (t: string, shape: string) => {
      const [r] = g.node("Reshape", [t, shape]);
      return g.node("Transpose", [r!], undefined, { perm: [0, 2, 1, 3] })[0]!; // [B, h, S, D]
    };
    const q = heads4(qFlat, qShape);
    const k = heads4(kFlat, kvShape);
    const v = heads4(vFlat, kvShape);
    const [qScaled] = g.node("Mul", [rope(q), scale]);
    const pastK = `past_key_values.${i}.key`, pastV = `past_key_values.${i}.value`;
    const [presentK] = g.node("Concat", [pastK, rope(k)], [`present.${i}.key`], { axis: 2 });
    const [presentV] = g.node("Concat", [pastV, v], [`present.${i}.value`], { axis: 2 });
    // Grouped-query attention without repeating K/V: query heads h = g·rep + r share KV head g,
    // so [B, H, S, D] viewed as [B, KV, rep·S, D] lines each group up with its KV head.
    const [qGroups] = g.node("Reshape", [qScaled!, groupShape]);
    const [kT] = g.node("Transpose", [presentK!], undefined, { perm: [0, 1, 3, 2] });
    const [groupScores] = g.node("MatMul", [qGroups!, kT!]); // [B, KV, rep·S, T]
    const [scores] = g.node("Reshape", [groupScores!, scoresByHead]); // [B, H, S, T]
    const [masked] = g.node("Where", [visible!, scores!, maskValue]);
    const [probs] = g.node("Softmax", [masked!], undefined, { axis: -1 });
    const [probGroups] = g.node("Reshape", [probs!, scoresByGroup]);
    const [ctxGroups] = g.node("MatMul", [probGroups!, presentV!]); // [B, KV, rep·S, D]
    const [ctx] = g.node("Reshape", [ctxGroups!, ctxByHead]); // [B, H, S, D]
    const [ctxT] = g.node("Transpose", [ctx!], undefined, { perm: [0, 2, 1, 3] });
    return g.node("Reshape", [ctxT!, mergeShape])[0]!;
  };

  // In-place attention: the past is the engine's whole cache buffer, read where it lies. Scores
  // against the buffer and against this step's keys are computed apart and joined (a small
  // [.., S, M + S] tensor), so no node concatenates the cache; the mask hides unfilled slots
  // (attention_mask is 0 there) exactly as it hides padding. Outputs: this step's K/V only.
  //
  // Query heads are grouped 5-D, [B, KV, rep, S, D] (query head h = g·rep + r at [g, r]), against
  // K/V viewed as [B, KV, 1, M, D]: MatMul broadcasts over `rep` without copying K/V, so every
  // (kv head, query head) pair is its own product with S rows, the `rep` heads of one KV head one
  // after another (the head's keys stay in cache between them). At decode (S = 1) each is a
  // single-row product, which ONNX Runtime's CPU GEMM runs as a vector kernel streaming the cache
  // instead of first packing the whole M × D cache into panels, as a [rep·S, D] × [D, M] product
  // does on every step. Mask and softmax work on the 5-D scores directly.
  let inPlaceShared:
    | { splitSizes: string; visible5: string; axis2: string; group5: string }
    | undefined;
  const inPlaceAttention = (i: number, qFlat: string, kFlat: string, vFlat: string): string => {
    shared ??= standardShared();
    // Made once: [M, S] (the buffer's length, the same in every layer, and this step's tokens),
    // the mask as [B, 1, 1, S, T] and the 5-D query shape.
    if (!inPlaceShared) {
      const axis2 = i64("const_axes_2", [2]);
      const [pastShape] = g.node("Shape", ["past_key_values.0.key"]);
      const [pastLen] = g.node("Gather", [pastShape!, axis2], undefined, { axis: 0 });
      const [idsShape] = g.node("Shape", ["input_ids"]);
      const [seqLen] = g.node("Gather", [idsShape!, axis1], undefined, { axis: 0 });
      const splitSizes = g.node("Concat", [pastLen!, seqLen!], undefined, { axis: 0 })[0]!;
      const visible5 = g.node("Unsqueeze", [shared.visible, axis2])[0]!;
      const group5 = i64("const_group5_shape", [0, kvHeads, heads / kvHeads, -1, headDim]);
      inPlaceShared = { splitSizes, visible5, axis2, group5 };
    }
    const { splitSizes, visible5, axis2, group5 } = inPlaceShared;
    const heads4 = (t: string, shape: string, out?: string) => {
      const [r] = g.node("Reshape", [t, shape]);
      // [B, h, S, D]
      return g.node("Transpose", [r!], out === undefined ? undefined : [out], {
        perm: [0, 2, 1, 3],
      })[0]!;
    };
    const by5 = (t: string) => g.node("Unsqueeze", [t, axis2])[0]!; // [B, KV, 1, ., D]
    const q = heads4(qFlat, qShape);
    const newK = rope(heads4(kFlat, kvShape), `present_new.${i}.key`);
    const newV = heads4(vFlat, kvShape, `present_new.${i}.value`);
    const [qScaled] = g.node("Mul", [rope(q), scale]);
    const pastK = by5(`past_key_values.${i}.key`), pastV = by5(`past_key_values.${i}.value`);
    const [qGroups] = g.node("Reshape", [qScaled!, group5]); // [B, KV, rep, S, D]
    const [pastKT] = g.node("Transpose", [pastK], undefined, { perm: [0, 1, 2, 4, 3] });
    const [newKT] = g.node("Transpose", [by5(newK)], undefined, { perm: [0, 1, 2, 4, 3] });
    const [pastScores] = g.node("MatMul", [qGroups!, pastKT!]); // [B, KV, rep, S, M]
    const [newScores] = g.node("MatMul", [qGroups!, newKT!]); // [B, KV, rep, S, S]
    const [scores] = g.node("Concat", [pastScores!, newScores!], undefined, { axis: -1 });
    const [masked] = g.node("Where", [visible5, scores!, maskValue]);
    const [probs] = g.node("Softmax", [masked!], undefined, { axis: -1 });
    const [pastProbs, newProbs] = g.node(
      "Split",
      [probs!, splitSizes],
      [g.fresh("probs_past"), g.fresh("probs_new")],
      { axis: -1 },
    );
    const [pastCtx] = g.node("MatMul", [pastProbs!, pastV]); // [B, KV, rep, S, D]
    const [newCtx] = g.node("MatMul", [newProbs!, by5(newV)]);
    const [ctxGroups] = g.node("Add", [pastCtx!, newCtx!]);
    const [ctx] = g.node("Reshape", [ctxGroups!, ctxByHead]); // [B, H, S, D]
    const [ctxT] = g.node("Transpose", [ctx!], undefined, { perm: [0, 2, 1, 3] });
    return g.node("Reshape", [ctxT!, mergeShape])[0]!;
  };

  // GroupQueryAttention (com.microsoft): rotary, causal mask and KV concat in one kernel.
  let gqaShared: { seqlensK: string; totalLen: string; cos: string; sin: string } | undefined;
  const gqaAttention = (i: number, q: string, k: string, v: string): string => {
    if (!gqaShared) {
      const [rowSums] = g.node("ReduceSum", ["attention_mask", axis1], undefined, { keepdims: 0 });
      const [lastIndex] = g.node("Sub", [rowSums!, one]);
      const [seqlensK] = g.node("Cast", [lastIndex!], undefined, { to: 6 }); // int32 [B]
      const [maskShape] = g.node("Shape", ["attention_mask"]);
      const [total64] = g.node("Gather", [maskShape!, one], undefined, { axis: 0 });
      const [totalLen] = g.node("Cast", [total64!], undefined, { to: 6 }); // int32 scalar
      const { cos, sin } = ropeHalfCaches(config);
      const dims = [config.max_position_embeddings, headDim / 2];
      gqaShared = {
        seqlensK: seqlensK!,
        totalLen: totalLen!,
        cos: constant("cos_cache", dims, cos),
        sin: constant("sin_cache", dims, sin),
      };
    }
    const inputs = [
      q,
      k,
      v,
      `past_key_values.${i}.key`,
      `past_key_values.${i}.value`,
      gqaShared.seqlensK,
      gqaShared.totalLen,
      gqaShared.cos,
      gqaShared.sin,
    ];
    const [out] = g.node(
      "GroupQueryAttention",
      inputs,
      [g.fresh("gqa_out"), `present.${i}.key`, `present.${i}.value`],
      {
        num_heads: heads,
        kv_num_heads: kvHeads,
        do_rotary: 1,
        rotary_interleaved: 0,
        scale: float(1 / Math.sqrt(headDim)),
      },
      "com.microsoft",
    );
    return out!;
  };

  const attend = (i: number, q: string, k: string, v: string): string => {
    switch (attention) {
      case "standard":
        return standardAttention(i, q, k, v);
      case "gqa":
        return gqaAttention(i, q, k, v);
      case "in_place":
        return inPlaceAttention(i, q, k, v);
      default: {
        const never: never = attention;
        throw new TypeError(`writeLlamaOnnx: unknown attention '${never}'`);
      }
    }
  };

  return attend;
}
