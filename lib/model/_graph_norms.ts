/**
 * The RMSNorm sub-graphs of the Llama graph (llama_graph.ts): plain operators, or ONNX Runtime's
 * `SimplifiedLayerNormalization` and com.microsoft `SkipSimplifiedLayerNormalization` when the
 * norms are fused.
 *
 * @module
 */
import { float, type GraphBuilder } from "../onnx/graph.ts";

/** How the Llama graph writes RMSNorm and the residual adds before it (see `writeLlamaOnnx`). */
export type NormKind = "plain" | "fused";

/** What {@linkcode normBuilders} needs from the graph being built. */
export interface NormContext {
  /** The graph. */
  g: GraphBuilder;
  /** Adds the norm weight of a parameter name and returns the initializer's name. */
  weight: (name: string) => string;
  /** `rms_norm_eps` of the configuration. */
  epsilon: number;
  /** Initializer names of the float32 scalars `2` and `epsilon` (used by plain norms). */
  constants: { two: string; eps: string };
}

/** The norm builders {@linkcode normBuilders} returns. */
export interface NormBuilders {
  /** RMSNorm of `x` with weight `weightName`; returns the normed tensor's name. */
  rmsNorm(x: string, weightName: string): string;
  /** The residual `x + y` and its RMSNorm: returns the sum and the normed sum. */
  addThenNorm(x: string, y: string, weightName: string): [sum: string, normed: string];
}

/**
 * Makes the norm builders of one graph. Nodes and initializers are added in call order, so the
 * graph written is the same as when these lived inside the graph builder.
 *
 * @param ctx The graph, weights and constants.
 * @param norms `plain`: RMSNorm as `Pow → ReduceMean → Add → Sqrt → Div → Mul` and the residual
 * `Add` apart. `fused`: `SimplifiedLayerNormalization`, and the residual add folded into
 * com.microsoft `SkipSimplifiedLayerNormalization`.
 * @returns `rmsNorm` and `addThenNorm`.
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/graph.ts";
 * import { normBuilders } from "./_graph_norms.ts";
 * const g = new GraphBuilder("norms");
 * g.input("x", "float32", [1, 4]);
 * const w = () => g.initializer("w", "float32", [4], new Float32Array(4).fill(1));
 * const { rmsNorm } = normBuilders(
 *   { g, weight: w, epsilon: 1e-5, constants: { two: "two", eps: "eps" } },
 *   "fused",
 * );
 * console.log(rmsNorm("x", "w"));
 * ```
 */
export function normBuilders(ctx: NormContext, norms: NormKind): NormBuilders {
  const { g, weight, epsilon } = ctx;
  const { two, eps } = ctx.constants;
  const rmsNorm = (x: string, weightName: string): string => {
    const w = weight(weightName);
    if (norms === "fused") {
      // ONNX Runtime's contrib schema in the default domain: y = x / sqrt(mean(x²) + eps) · w.
      return g.node("SimplifiedLayerNormalization", [x, w], undefined, {
        axis: -1,
        epsilon: float(epsilon),
        stash_type: 1,
      })[0]!;
    }
    const [sq] = g.node("Pow", [x, two]);
    const [mean] = g.node("ReduceMean", [sq!], undefined, { axes: [-1], keepdims: 1 });
    const [plus] = g.node("Add", [mean!, eps]);
    const [root] = g.node("Sqrt", [plus!]);
    const [normed] = g.node("Div", [x, root!]);
    return g.node("Mul", [normed!, w])[0]!;
  };
  /**
   * The residual `x + y` and its RMSNorm: one SkipSimplifiedLayerNormalization when fused (its
   * outputs: the normed sum, mean and inverse std (unused, left unnamed), the sum itself).
   */
  const addThenNorm = (x: string, y: string, weightName: string): [sum: string, normed: string] => {
    if (norms !== "fused") {
      const [sum] = g.node("Add", [x, y]);
      return [sum!, rmsNorm(sum!, weightName)];
    }
    const w = weight(weightName);
    const [normed, , , sum] = g.node(
      "SkipSimplifiedLayerNormalization",
      [x, y, w],
      [g.fresh("skip_norm"), "", "", g.fresh("residual")],
      { epsilon: float(epsilon) },
      "com.microsoft",
    );
    return [sum!, normed!];
  };
  return { rmsNorm, addThenNorm };
}
