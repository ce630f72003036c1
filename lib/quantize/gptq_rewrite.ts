/**
 * The `q4gptq` variant: the graph rewrite of `q4` (`MatMulNBits`, same block size, scales and
 * zero points in the same layout), with every weight's codes chosen by GPTQ from input Hessians
 * measured on self-generated calibration text (see `calibration.ts`).
 *
 * @module
 */
import { asFloat32, type GraphProto } from "./_proto.ts";
import { type CalibrationOptions, calibrationTokens, collectHessians } from "./calibration.ts";
import { quantizeQ4Gptq } from "./gptq.ts";
import { type LazyTensor, sharedLoad } from "./lazy_tensor.ts";
import { type QuantizableMatMul, rewriteMatMulsQ4, type RewriteStats } from "./matmul_rewrite.ts";
import type { Q4Weights } from "./q4.ts";

/** Options of {@linkcode rewriteMatMulsQ4Gptq}. */
export interface GptqRewriteOptions {
  /** Rows of K per block. @default 32 */
  blockSize?: number;
  /** `MatMulNBits` `accuracy_level` (0 leaves it unset). @default 0 */
  accuracyLevel?: number;
  /** Calibration set. @default DEFAULT_CALIBRATION */
  calibration?: CalibrationOptions;
}

/**
 * Rewrites `matmuls` to 4-bit `MatMulNBits` whose codes GPTQ chose (asymmetric, float32 scales).
 *
 * @param fp32OnnxPath The float32 model the graph was read from (run for calibration).
 * @param graph The graph (mutated).
 * @param tensors Initializers by name (mutated).
 * @param matmuls The MatMuls to rewrite.
 * @param options Block size, accuracy level, calibration set.
 * @returns Counts and byte sizes, as {@linkcode rewriteMatMulsQ4}.
 * @example
 * ```ts ignore
 * await rewriteMatMulsQ4Gptq("m/onnx/model.onnx", graph, tensors, matmuls, { blockSize: 32 });
 * ```
 */
export async function rewriteMatMulsQ4Gptq(
  fp32OnnxPath: string,
  graph: GraphProto,
  tensors: Map<string, LazyTensor>,
  matmuls: readonly QuantizableMatMul[],
  options: GptqRewriteOptions = {},
): Promise<RewriteStats> {
  const blockSize = options.blockSize ?? 32;
  const inputs = new Map<string, number>();
  const sources = new Map<string, { weight: LazyTensor; input: string; k: number; n: number }>();
  for (const m of matmuls) {
    const input = m.node.input![0]!;
    inputs.set(input, m.k);
    if (!sources.has(m.weight.name)) {
      sources.set(m.weight.name, { weight: m.weight, input, k: m.k, n: m.n });
    }
  }
  const rows = await calibrationTokens(fp32OnnxPath, options.calibration ?? {});
  const hessians = await collectHessians(fp32OnnxPath, inputs, rows);
  const stats = rewriteMatMulsQ4(graph, tensors, matmuls, {
    blockSize,
    symmetric: false,
    accuracyLevel: options.accuracyLevel ?? 0,
  });
  for (const [b, source] of sources) {
    const get = sharedLoad<Q4Weights>(3, async () =>
      quantizeQ4Gptq(
        asFloat32(await source.weight.load()),
        hessians.get(source.input)!,
        [source.k, source.n],
        { blockSize, name: b },
      ));
    const replace = (name: string, pick: (q: Q4Weights) => Uint8Array) => {
      const t = tensors.get(name);
      if (!t) throw new TypeError(`rewriteMatMulsQ4Gptq: the q4 rewrite wrote no '${name}'`);
      tensors.set(name, { ...t, load: async () => pick(await get()) });
    };
    replace(`${b}_Q4`, (q) => q.packed);
    replace(`${b}_scales`, (q) => new Uint8Array(q.scales.buffer));
    replace(`${b}_zero_points`, (q) => q.zeroPoints!);
  }
  return stats;
}
