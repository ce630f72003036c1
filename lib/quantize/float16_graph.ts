/**
 * Rewrites a float32 graph to float16: float initializers, constants, activations and graph
 * inputs/outputs (logits, past/present KV) become float16; int64 paths are untouched. RMSNorm
 * statistics and ops named in `keepFloat32Ops` run in float32 between Casts (as Hub fp16 exports
 * keep them), and ONNX Runtime inserts its own Casts for float16 ops its CPU provider lacks.
 *
 * @module
 */
import { inferElemTypes } from "./_elem_types.ts";
import {
  asFloat32,
  bytesOf,
  castNode,
  DT,
  getAttribute,
  type GraphProto,
  intAttr,
  type NodeProto,
  onnx,
  setValueInfoElemType,
  tensorAttr,
  type TensorProto,
  valueInfoElemType,
} from "./_proto.ts";
import { toFloat16Bits } from "./float16.ts";
import type { LazyTensor } from "./lazy_tensor.ts";

/**
 * Ops kept in float32 by default: those onnxconverter-common's float16 converter blocks (no or
 * unreliable float16 kernels) that occur in decoder graphs.
 */
export const DEFAULT_FLOAT32_OPS: readonly string[] = Object.freeze([
  "Range",
  "CumSum",
  "TopK",
  "Resize",
  "Upsample",
  "NonMaxSuppression",
  "RoiAlign",
  "RandomNormalLike",
  "RandomUniformLike",
]);

/** Options of {@linkcode convertGraphToFloat16}. */
export interface Float16GraphOptions {
  /** Op types computed in float32 between Casts. @default DEFAULT_FLOAT32_OPS */
  keepFloat32Ops?: readonly string[];
  /** Keep RMSNorm statistics (see {@linkcode rmsNormNodes}) in float32. @default true */
  float32Norms?: boolean;
}

/**
 * Converts a graph to float16 in place. `tensors` (the main graph's initializers) is updated:
 * float32 tensors are replaced by lazily converted float16 ones.
 *
 * @param graph The graph (mutated).
 * @param tensors Initializers by name (mutated).
 * @param options Which ops stay in float32.
 * @returns The number of Cast nodes inserted around float32 ops.
 * @example
 * ```ts ignore
 * import { convertGraphToFloat16 } from "./float16_graph.ts";
 * convertGraphToFloat16(model.graph!, tensors);
 * ```
 */
export function convertGraphToFloat16(
  graph: GraphProto,
  tensors: Map<string, LazyTensor>,
  options: Float16GraphOptions = {},
): number {
  const keep = new Set(options.keepFloat32Ops ?? DEFAULT_FLOAT32_OPS);
  const norms = options.float32Norms ?? true;
  const known = new Map([...tensors.values()].map((t) => [t.name, t.dataType]));
  for (const [name, t] of tensors) {
    if (t.dataType === DT.FLOAT) tensors.set(name, float16Lazy(t));
  }
  return convertScope(graph, known, new Map(), keep, norms);
}

/**
 * The nodes of RMSNorm's statistics, `Pow → ReduceMean → Add(eps) → Sqrt → Div(x, ·)` or
 * `… → Sqrt → Reciprocal → Mul(x, ·)`: in float16, `x²` overflows (65504) for activations
 * above ~256, so these run in float32 (as Hub fp16 Llama exports do), the normalised output in
 * float16.
 *
 * @param graph A graph.
 * @returns The nodes of every RMSNorm statistics chain found.
 * @example
 * ```ts ignore
 * const nodes = rmsNormNodes(model.graph!);
 * ```
 */
export function rmsNormNodes(graph: GraphProto): Set<NodeProto> {
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const name of node.input ?? []) {
      if (name) consumers.set(name, [...(consumers.get(name) ?? []), node]);
    }
  }
  const only = (node: NodeProto, op: string): NodeProto | undefined => {
    const next = consumers.get(node.output?.[0] ?? "") ?? [];
    return next.length === 1 && next[0]!.opType === op ? next[0] : undefined;
  };
  const found = new Set<NodeProto>();
  for (const pow of graph.node ?? []) {
    if (pow.opType !== "Pow") continue;
    const mean = only(pow, "ReduceMean");
    const add = mean && only(mean, "Add");
    const sqrt = add && only(add, "Sqrt");
    if (!sqrt) continue;
    const div = only(sqrt, "Div");
    const recip = only(sqrt, "Reciprocal");
    const mul = recip && only(recip, "Mul");
    const tail = div && div.input?.[1] === sqrt.output?.[0] ? [div] : mul ? [recip!, mul] : [];
    if (tail.length === 0) continue;
    for (const n of [pow, mean, add, sqrt, ...tail]) found.add(n);
  }
  return found;
}

function convertScope(
  graph: GraphProto,
  known: ReadonlyMap<string, number>,
  outer: ReadonlyMap<string, number>,
  keep: ReadonlySet<string>,
  norms: boolean,
): number {
  const types = inferElemTypes(graph, known, outer);
  for (
    const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]
  ) {
    if (valueInfoElemType(info) === DT.FLOAT) setValueInfoElemType(info, DT.FLOAT16);
  }
  for (const t of graph.initializer ?? []) convertInlineTensor(t);
  const fp32Nodes = norms ? rmsNormNodes(graph) : new Set<NodeProto>();
  for (const node of graph.node ?? []) {
    if (keep.has(node.opType ?? "") && (node.domain ?? "") === "") fp32Nodes.add(node);
  }
  // Tensors some float16 consumer (a non-float32 node, a subgraph or a graph output) reads.
  const readInFloat16 = new Set<string>((graph.output ?? []).map((o) => o.name ?? ""));
  for (const node of graph.node ?? []) {
    if (!fp32Nodes.has(node)) { for (const i of node.input ?? []) readInFloat16.add(i); }
    for (const a of node.attribute ?? []) {
      for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) outerReads(g, readInFloat16);
    }
  }
  let casts = 0;
  const fp32Name = new Map<string, string>();
  const nodes: NodeProto[] = [];
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.g) casts += convertScope(a.g, new Map(), types, keep, norms);
      for (const g of a.graphs ?? []) casts += convertScope(g, new Map(), types, keep, norms);
    }
    if (!fp32Nodes.has(node)) {
      convertNodeAttributes(node);
      nodes.push(node);
      continue;
    }
    node.input = (node.input ?? []).map((name) => {
      if (!name || types.get(name) !== DT.FLOAT) return name;
      let cast = fp32Name.get(name);
      if (!cast) {
        cast = `${name}_fp32`;
        fp32Name.set(name, cast);
        nodes.push(castNode(name, cast, DT.FLOAT));
        casts++;
      }
      return cast;
    });
    const after: NodeProto[] = [];
    node.output = (node.output ?? []).map((name) => {
      if (!name || types.get(name) !== DT.FLOAT) return name;
      const cast = `${name}_fp32`;
      fp32Name.set(name, cast);
      if (readInFloat16.has(name)) after.push(castNode(cast, name, DT.FLOAT16));
      return cast;
    });
    nodes.push(node, ...after);
    casts += after.length;
  }
  graph.node = nodes;
  return casts;
}

/** Adds to `names` every tensor a subgraph reads (outer-scope names included). */
function outerReads(graph: GraphProto, names: Set<string>): void {
  for (const node of graph.node ?? []) {
    for (const i of node.input ?? []) names.add(i);
    for (const a of node.attribute ?? []) {
      for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) outerReads(g, names);
    }
  }
}

function convertNodeAttributes(node: NodeProto): void {
  switch (node.opType) {
    case "Cast": {
      const to = getAttribute(node, "to");
      if (to && Number(to.i) === DT.FLOAT) to.i = DT.FLOAT16;
      return;
    }
    case "Constant": {
      const a = node.attribute?.[0];
      if (!a) return;
      if (a.t) convertInlineTensor(a.t);
      else if (a.name === "value_float") {
        node.attribute = [tensorAttr("value", float16Proto([], [a.f ?? 0]))];
      } else if (a.name === "value_floats") {
        const v = a.floats ?? [];
        node.attribute = [tensorAttr("value", float16Proto([v.length], v))];
      }
      return;
    }
    case "ConstantOfShape": {
      const a = getAttribute(node, "value");
      if (a?.t) convertInlineTensor(a.t);
      else {node.attribute = [
          ...(node.attribute ?? []),
          tensorAttr("value", float16Proto([1], [0])),
        ];}
      return;
    }
    case "RandomNormal":
    case "RandomUniform":
    case "RandomNormalLike":
    case "RandomUniformLike":
    case "EyeLike": {
      const d = getAttribute(node, "dtype");
      if (d && Number(d.i) === DT.FLOAT) d.i = DT.FLOAT16;
      else if (!d && (node.opType === "RandomNormal" || node.opType === "RandomUniform")) {
        node.attribute = [...(node.attribute ?? []), intAttr("dtype", DT.FLOAT16)];
      }
      return;
    }
  }
}

function float16Proto(dims: number[], values: number[]): TensorProto {
  return { dataType: DT.FLOAT16, dims, rawData: bytesOf(toFloat16Bits(values)) };
}

function convertInlineTensor(t: TensorProto): void {
  if (t.dataType !== DT.FLOAT) return;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new TypeError(`Tensor '${t.name}' inside a node or subgraph is external; not supported`);
  }
  const values = t.rawData && t.rawData.byteLength > 0 ? asFloat32(t.rawData) : (t.floatData ?? []);
  t.rawData = bytesOf(toFloat16Bits(values));
  t.floatData = [];
  t.dataType = DT.FLOAT16;
}

function float16Lazy(t: LazyTensor): LazyTensor {
  return {
    name: t.name,
    dataType: DT.FLOAT16,
    dims: t.dims,
    byteLength: t.byteLength / 2,
    load: async () => bytesOf(toFloat16Bits(asFloat32(await t.load()))),
  };
}
