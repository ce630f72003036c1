/**
 * Finds the MatMuls whose B is a constant 2-D float initializer and rewrites them to quantised
 * ops: 4-bit `MatMulNBits` (com.microsoft) or the 8-bit dynamic pattern of onnxruntime's
 * `quantize_dynamic` (`DynamicQuantizeLinear → MatMulInteger → Cast → Mul` by the product of the
 * activation and weight scales). Graph I/O names are unchanged.
 *
 * @module
 */
import { asFloat32, bytesOf, DT, type GraphProto, intAttr, type NodeProto } from "./_proto.ts";
import { toFloat16Bits } from "./float16.ts";
import { type LazyTensor, sharedLoad } from "./lazy_tensor.ts";
import { type Q4Weights, quantizeQ4 } from "./q4.ts";
import { type Q8Weights, quantizeQ8 } from "./q8.ts";

/** Name of the graph output the LM head produces. */
export const LOGITS_OUTPUT = "logits";

/** A MatMul that can be quantised. */
export interface QuantizableMatMul {
  /** The MatMul node (of the graph it was found in). */
  node: NodeProto;
  /** Its constant B `[K, N]`. */
  weight: LazyTensor;
  /** In-features. */
  k: number;
  /** Out-features. */
  n: number;
  /** Whether it is the LM head (produces `logits`, or is the last MatMul before it). */
  lmHead: boolean;
}

/** What a rewrite did. */
export interface RewriteStats {
  /** MatMul nodes rewritten. */
  rewritten: number;
  /** Bytes of the float weights replaced (each distinct weight once). */
  sourceWeightBytes: number;
  /** Bytes of the quantised weights, scales and zero points that replace them. */
  quantizedWeightBytes: number;
}

/**
 * The MatMuls of the main graph whose B is a constant 2-D float32 initializer.
 *
 * @param graph The graph.
 * @param tensors Its initializers by name.
 * @returns Candidates in graph order, the LM head marked.
 * @example
 * ```ts ignore
 * const found = findQuantizableMatMuls(model.graph!, tensors);
 * ```
 */
export function findQuantizableMatMuls(
  graph: GraphProto,
  tensors: ReadonlyMap<string, LazyTensor>,
): QuantizableMatMul[] {
  const found: QuantizableMatMul[] = [];
  for (const node of graph.node ?? []) {
    if (node.opType !== "MatMul" || (node.domain ?? "") !== "") continue;
    const weight = tensors.get(node.input?.[1] ?? "");
    if (!weight || weight.dims.length !== 2 || weight.dataType !== DT.FLOAT) continue;
    found.push({ node, weight, k: weight.dims[0]!, n: weight.dims[1]!, lmHead: false });
  }
  const direct = found.find((m) => m.node.output?.[0] === LOGITS_OUTPUT);
  const hasLogits = (graph.output ?? []).some((o) => o.name === LOGITS_OUTPUT);
  const head = direct ?? (hasLogits ? found[found.length - 1] : undefined);
  if (head) head.lmHead = true;
  return found;
}

/** Options of {@linkcode rewriteMatMulsQ4}. */
export interface Q4RewriteOptions {
  /** Bits per weight: 4, or 8 (weight-only 8-bit `MatMulNBits`). @default 4 */
  bits?: 4 | 8;
  /** Rows of K per block. @default 32 */
  blockSize?: number;
  /** Symmetric quantisation (no zero-point input). @default false */
  symmetric?: boolean;
  /** Float type of scales and activations. @default "float32" */
  scaleType?: "float32" | "float16";
  /**
   * `MatMulNBits` `accuracy_level` (0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute of A); left
   * out of the node when 0, as onnxruntime's quantizer does. @default 0
   */
  accuracyLevel?: number;
}

/**
 * Rewrites `matmuls` (found in `graph`) to `MatMulNBits` with 4-bit (or 8-bit) weights.
 *
 * @param graph The graph (mutated).
 * @param tensors Initializers by name (mutated: quantised tensors added, unused B removed).
 * @param matmuls The MatMuls to rewrite.
 * @param options Block size, symmetry, scale type.
 * @returns Counts and byte sizes.
 * @example
 * ```ts ignore
 * rewriteMatMulsQ4(graph, tensors, findQuantizableMatMuls(graph, tensors), { blockSize: 32 });
 * ```
 */
export function rewriteMatMulsQ4(
  graph: GraphProto,
  tensors: Map<string, LazyTensor>,
  matmuls: readonly QuantizableMatMul[],
  options: Q4RewriteOptions = {},
): RewriteStats {
  const blockSize = options.blockSize ?? 32;
  const bits = options.bits ?? 4;
  const symmetric = options.symmetric ?? false;
  const scaleType = options.scaleType ?? "float32";
  const stats: RewriteStats = { rewritten: 0, sourceWeightBytes: 0, quantizedWeightBytes: 0 };
  const done = new Map<string, string[]>();
  const tag = bits === 4 ? "Q4" : "Q8NBits";
  for (const m of matmuls) {
    const b = m.weight.name;
    let inputs = done.get(b);
    if (!inputs) {
      const nBlocks = m.k / blockSize;
      const parts = symmetric ? 2 : 3;
      const source = m.weight;
      const get = sharedLoad<Q4Weights>(
        parts,
        async () =>
          quantizeQ4(asFloat32(await source.load()), [m.k, m.n], {
            bits,
            blockSize,
            symmetric,
            scaleType,
            name: b,
          }),
      );
      const added: LazyTensor[] = [
        lazy(
          `${b}_${tag}`,
          DT.UINT8,
          [m.n, nBlocks, bits === 4 ? blockSize / 2 : blockSize],
          async () => (await get()).packed,
        ),
        lazy(
          `${b}_scales`,
          scaleType === "float16" ? DT.FLOAT16 : DT.FLOAT,
          [m.n * nBlocks],
          async () => {
            const s = (await get()).scales;
            return scaleType === "float16" ? bytesOf(toFloat16Bits(s)) : bytesOf(s);
          },
        ),
      ];
      if (!symmetric) {
        added.push(
          lazy(
            `${b}_zero_points`,
            DT.UINT8,
            [m.n * (bits === 4 ? Math.ceil(nBlocks / 2) : nBlocks)],
            async () => (await get()).zeroPoints!,
          ),
        );
      }
      for (const t of added) tensors.set(t.name, t);
      inputs = added.map((t) => t.name);
      done.set(b, inputs);
      stats.sourceWeightBytes += source.byteLength;
      stats.quantizedWeightBytes += added.reduce((s, t) => s + t.byteLength, 0);
    }
    const node = m.node;
    node.opType = "MatMulNBits";
    node.domain = "com.microsoft";
    node.name = node.name ? `${node.name}_${tag}` : `${node.output?.[0]}_${tag}`;
    node.input = [node.input![0]!, ...inputs];
    node.attribute = [
      intAttr("K", m.k),
      intAttr("N", m.n),
      intAttr("bits", bits),
      intAttr("block_size", blockSize),
      ...(options.accuracyLevel ? [intAttr("accuracy_level", options.accuracyLevel)] : []),
    ];
    stats.rewritten++;
  }
  dropUnused(graph, tensors, [...done.keys()]);
  return stats;
}

/** Options of {@linkcode rewriteMatMulsQ8}. */
export interface Q8RewriteOptions {
  /** Symmetric int8 weights (zero point 0) instead of asymmetric uint8. @default false */
  symmetric?: boolean;
}

/**
 * Rewrites `matmuls` to the dynamic 8-bit pattern: `DynamicQuantizeLinear(A)` (shared by
 * MatMuls with the same A) → `MatMulInteger(A_q, B_q, A_zp, B_zp)` → `Cast(float)` →
 * `Mul(·, A_scale * B_scale)`, weights quantised per output channel.
 *
 * @param graph The graph (mutated).
 * @param tensors Initializers by name (mutated).
 * @param matmuls The MatMuls to rewrite.
 * @param options Symmetry.
 * @returns Counts and byte sizes.
 * @example
 * ```ts ignore
 * rewriteMatMulsQ8(graph, tensors, findQuantizableMatMuls(graph, tensors));
 * ```
 */
export function rewriteMatMulsQ8(
  graph: GraphProto,
  tensors: Map<string, LazyTensor>,
  matmuls: readonly QuantizableMatMul[],
  options: Q8RewriteOptions = {},
): RewriteStats {
  const symmetric = options.symmetric ?? false;
  const codeType = symmetric ? DT.INT8 : DT.UINT8;
  const stats: RewriteStats = { rewritten: 0, sourceWeightBytes: 0, quantizedWeightBytes: 0 };
  const weights = new Set<string>();
  const activations = new Set<string>();
  const replacement = new Map<NodeProto, NodeProto[]>();
  for (const m of matmuls) {
    const b = m.weight.name;
    if (!weights.has(b)) {
      weights.add(b);
      const source = m.weight;
      const get = sharedLoad<Q8Weights>(
        3,
        async () => quantizeQ8(asFloat32(await source.load()), [m.k, m.n], { symmetric, name: b }),
      );
      const added = [
        lazy(`${b}_quantized`, codeType, [m.k, m.n], async () => bytesOf((await get()).data)),
        lazy(`${b}_scale`, DT.FLOAT, [m.n], async () => bytesOf((await get()).scales)),
        lazy(`${b}_zero_point`, codeType, [m.n], async () => bytesOf((await get()).zeroPoints)),
      ];
      for (const t of added) tensors.set(t.name, t);
      stats.sourceWeightBytes += source.byteLength;
      stats.quantizedWeightBytes += added.reduce((s, t) => s + t.byteLength, 0);
    }
    const a = m.node.input![0]!;
    const y = m.node.output![0]!;
    const name = m.node.name || y;
    const nodes: NodeProto[] = [];
    if (!activations.has(a)) {
      activations.add(a);
      nodes.push(node("DynamicQuantizeLinear", `${a}_QuantizeLinear`, [a], [
        `${a}_quantized`,
        `${a}_scale`,
        `${a}_zero_point`,
      ]));
    }
    const q = `${y}_output_quantized`;
    const scalesMul = `${name}_quant_scales_mul:0`;
    nodes.push(
      node("MatMulInteger", `${name}_quant`, [
        `${a}_quantized`,
        `${b}_quantized`,
        `${a}_zero_point`,
        `${b}_zero_point`,
      ], [q]),
      node("Mul", `${name}_quant_scales_mul`, [`${a}_scale`, `${b}_scale`], [scalesMul]),
      {
        ...node("Cast", `${q}_cast`, [q], [`${q}_cast_output`]),
        attribute: [intAttr("to", DT.FLOAT)],
      },
      node("Mul", `${name}_quant_output_scale_mul`, [`${q}_cast_output`, scalesMul], [y]),
    );
    replacement.set(m.node, nodes);
    stats.rewritten++;
  }
  graph.node = (graph.node ?? []).flatMap((n) => replacement.get(n) ?? [n]);
  dropUnused(graph, tensors, [...weights]);
  return stats;
}

function node(opType: string, name: string, input: string[], output: string[]): NodeProto {
  return { opType, domain: "", name, input, output, attribute: [] };
}

function lazy(
  name: string,
  dataType: number,
  dims: number[],
  load: () => Promise<Uint8Array>,
): LazyTensor {
  const bytes = dataType === DT.FLOAT ? 4 : dataType === DT.FLOAT16 ? 2 : 1;
  return { name, dataType, dims, byteLength: dims.reduce((a, b) => a * b, 1) * bytes, load };
}

/** Removes replaced weights that nothing references any more (and their graph-input entries). */
function dropUnused(graph: GraphProto, tensors: Map<string, LazyTensor>, names: string[]): void {
  const used = new Set<string>();
  collectUses(graph, used);
  const gone = new Set(names.filter((n) => !used.has(n)));
  for (const name of gone) tensors.delete(name);
  graph.input = (graph.input ?? []).filter((i) => !gone.has(i.name ?? ""));
}

function collectUses(graph: GraphProto, used: Set<string>): void {
  for (const o of graph.output ?? []) if (o.name) used.add(o.name);
  for (const n of graph.node ?? []) {
    for (const i of n.input ?? []) used.add(i);
    for (const a of n.attribute ?? []) {
      if (a.g) collectUses(a.g, used);
      for (const g of a.graphs ?? []) collectUses(g, used);
    }
  }
}
