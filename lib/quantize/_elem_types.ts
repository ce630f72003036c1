/**
 * Private: element-type propagation through a graph (what ONNX shape inference would say about
 * element types, for the ops decoders use), so the float16 conversion knows which tensors are
 * float32.
 *
 * @module
 */
import {
  DT,
  getAttribute,
  type GraphProto,
  intAttribute,
  type NodeProto,
  valueInfoElemType,
} from "./_proto.ts";

const BOOL_OPS = new Set([
  "Equal",
  "Less",
  "Greater",
  "LessOrEqual",
  "GreaterOrEqual",
  "Not",
  "And",
  "Or",
  "Xor",
  "IsNaN",
  "IsInf",
]);
const INT64_OPS = new Set(["Shape", "Size", "NonZero", "ArgMax", "ArgMin"]);

/**
 * Element types of every tensor it can tell: seeded from graph inputs, outputs, value infos and
 * `known` (initializers), then propagated node by node (nodes are topologically sorted).
 */
export function inferElemTypes(
  graph: GraphProto,
  known: ReadonlyMap<string, number>,
  outer: ReadonlyMap<string, number> = new Map(),
): Map<string, number> {
  const types = new Map<string, number>(outer);
  for (const [name, t] of known) types.set(name, t);
  for (
    const info of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]
  ) {
    const t = valueInfoElemType(info);
    if (info.name && t) types.set(info.name, t);
  }
  for (const t of graph.initializer ?? []) if (t.name && t.dataType) types.set(t.name, t.dataType);
  for (const node of graph.node ?? []) {
    const outs = nodeOutputTypes(node, types);
    (node.output ?? []).forEach((out, i) => {
      const t = outs[i] ?? outs[outs.length - 1];
      if (out && t !== undefined && !types.has(out)) types.set(out, t);
    });
  }
  return types;
}

function nodeOutputTypes(
  node: NodeProto,
  types: ReadonlyMap<string, number>,
): (number | undefined)[] {
  const input = (i: number) => {
    const name = node.input?.[i];
    return name ? types.get(name) : undefined;
  };
  const op = node.opType ?? "";
  if (BOOL_OPS.has(op)) return [DT.BOOL];
  if (INT64_OPS.has(op)) return [DT.INT64];
  switch (op) {
    case "Cast":
      return [intAttribute(node, "to", 0) || undefined];
    case "CastLike":
      return [input(1)];
    case "Constant": {
      const a = node.attribute?.[0];
      if (!a) return [undefined];
      if (a.t) return [a.t.dataType ?? undefined];
      if (a.name === "value_float" || a.name === "value_floats") return [DT.FLOAT];
      if (a.name === "value_int" || a.name === "value_ints") return [DT.INT64];
      return [undefined];
    }
    case "ConstantOfShape":
      return [getAttribute(node, "value")?.t?.dataType ?? DT.FLOAT];
    case "RandomNormal":
    case "RandomUniform":
      return [intAttribute(node, "dtype", DT.FLOAT)];
    case "RandomNormalLike":
    case "RandomUniformLike":
    case "EyeLike":
      return [intAttribute(node, "dtype", 0) || input(0)];
    case "DynamicQuantizeLinear":
      return [DT.UINT8, DT.FLOAT, DT.UINT8];
    case "QuantizeLinear":
      return [input(2) ?? DT.UINT8];
    case "DequantizeLinear":
      return [input(1)];
    case "MatMulInteger":
    case "ConvInteger":
      return [DT.INT32];
    case "Where":
      return [input(1) ?? input(2)];
    case "TopK":
      return [input(0), DT.INT64];
    case "Unique":
      return [input(0), DT.INT64, DT.INT64, DT.INT64];
    default: {
      for (let i = 0; i < (node.input?.length ?? 0); i++) {
        const t = input(i);
        if (t !== undefined) return [t];
      }
      return [undefined];
    }
  }
}
