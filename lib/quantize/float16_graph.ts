/**
 * Rewrites a float32 graph to float16: float initializers, constants, activations and graph
 * inputs/outputs (logits, past/present KV) become float16; int64 paths are untouched. Ops named
 * in `keepFloat32Ops` run in float32 between Casts (as Hub fp16 exports keep ops without float16
 * kernels), and ONNX Runtime inserts its own Casts for float16 ops its CPU provider lacks.
 *
 * @module
 */
import { inferElemTypes } from "./_elem_types.ts";
import {
  asFloat32,
  bytesOf,
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
  const known = new Map([...tensors.values()].map((t) => [t.name, t.dataType]));
  for (const [name, t] of tensors) {
    if (t.dataType === DT.FLOAT) tensors.set(name, float16Lazy(t));
  }
  return convertScope(graph, known, new Map(), keep);
}

function convertScope(
  graph: GraphProto,
  known: ReadonlyMap<string, number>,
  outer: ReadonlyMap<string, number>,
  keep: ReadonlySet<string>,
): number {
  const types = inferElemTypes(graph, known, outer);
  for (
    const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]
  ) {
    if (valueInfoElemType(info) === DT.FLOAT) setValueInfoElemType(info, DT.FLOAT16);
  }
  for (const t of graph.initializer ?? []) convertInlineTensor(t);
  let casts = 0;
  const castCache = new Map<string, string>();
  const nodes: NodeProto[] = [];
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.g) casts += convertScope(a.g, new Map(), types, keep);
      for (const g of a.graphs ?? []) casts += convertScope(g, new Map(), types, keep);
    }
    const op = node.opType ?? "";
    if (keep.has(op) && (node.domain ?? "") === "") {
      node.input = (node.input ?? []).map((name) => {
        if (!name || types.get(name) !== DT.FLOAT) return name;
        let cast = castCache.get(name);
        if (!cast) {
          cast = `${name}_fp32`;
          castCache.set(name, cast);
          nodes.push(castNode(name, cast, DT.FLOAT));
          casts++;
        }
        return cast;
      });
      const after: NodeProto[] = [];
      node.output = (node.output ?? []).map((name) => {
        if (!name || types.get(name) !== DT.FLOAT) return name;
        after.push(castNode(`${name}_fp32`, name, DT.FLOAT16));
        return `${name}_fp32`;
      });
      nodes.push(node, ...after);
      casts += after.length;
      continue;
    }
    convertNodeAttributes(node);
    nodes.push(node);
  }
  graph.node = nodes;
  return casts;
}

function castNode(input: string, output: string, to: number): NodeProto {
  return {
    opType: "Cast",
    domain: "",
    name: `${output}_Cast`,
    input: [input],
    output: [output],
    attribute: [intAttr("to", to)],
  };
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
