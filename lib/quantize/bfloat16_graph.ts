/**
 * The `bf16` variant: weights, activations and the KV cache in bfloat16, computed in bfloat16 by
 * the execution provider. It is the fp16 rewrite (`float16_graph.ts`) with bfloat16 in place of
 * float16, keeping in float32 what transformers keeps in float32 in its bf16 path: RMSNorm
 * statistics and the attention softmax. Weights are rounded from the float32 originals (round to
 * nearest even), never through float16.
 *
 * onnxruntime-node's JavaScript API has no bfloat16 tensor type, so the graph's inputs and outputs
 * (past/present KV, logits) stay float32 and are cast at the boundary: a present KV cast to
 * float32 and back is unchanged, so the cache holds bfloat16 values (at float32's size). An
 * execution provider without bfloat16 kernels refuses the session with its own reason; nothing
 * falls back to another type.
 *
 * @module
 */
import {
  asFloat32,
  asUint16,
  bytesOf,
  castNode,
  DT,
  getAttribute,
  type GraphProto,
  type NodeProto,
  setValueInfoElemType,
  type TensorProto,
  valueInfoElemType,
} from "./_proto.ts";
import {
  convertGraphToFloat16,
  DEFAULT_FLOAT32_OPS,
  type Float16GraphOptions,
} from "./float16_graph.ts";
import type { LazyTensor } from "./lazy_tensor.ts";

/**
 * Rounds float32 values to bfloat16 bit patterns (nearest even; NaN stays NaN).
 *
 * @param values Float32 values.
 * @returns The bfloat16 bits.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBfloat16Bits } from "./bfloat16_graph.ts";
 * assert.deepEqual([...toBfloat16Bits(Float32Array.of(1, -2, 1 / 3))], [0x3f80, 0xc000, 0x3eab]);
 * ```
 */
export function toBfloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    const nan = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
    out[i] = nan ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Converts a float32 graph to bfloat16 in place (see the module doc); `tensors` gets bfloat16
 * initializers rounded from the float32 ones.
 *
 * @param graph The graph (mutated).
 * @param tensors Initializers by name (mutated).
 * @param options As for fp16; `Softmax` is always added to the float32 ops.
 * @example
 * ```ts ignore
 * convertGraphToBfloat16(model.graph!, tensors);
 * ```
 */
export function convertGraphToBfloat16(
  graph: GraphProto,
  tensors: Map<string, LazyTensor>,
  options: Float16GraphOptions = {},
): void {
  const originals = new Map([...tensors].filter(([, t]) => t.dataType === DT.FLOAT));
  convertGraphToFloat16(graph, tensors, {
    ...options,
    keepFloat32Ops: [...(options.keepFloat32Ops ?? DEFAULT_FLOAT32_OPS), "Softmax"],
  });
  for (const [name, t] of originals) {
    tensors.set(name, {
      name,
      dataType: DT.BFLOAT16,
      dims: t.dims,
      byteLength: t.byteLength / 2,
      load: async () => bytesOf(toBfloat16Bits(asFloat32(await t.load()))),
    });
  }
  for (const t of [...tensors.values()]) {
    if (t.dataType === DT.FLOAT16) {
      tensors.set(t.name, {
        ...t,
        dataType: DT.BFLOAT16,
        load: async () => halfBytesToBfloat16(await t.load()),
      });
    }
  }
  retype(graph);
  floatBoundary(graph);
}

/** Every float16 type, cast target and inline constant of the graph becomes bfloat16. */
function retype(graph: GraphProto): void {
  for (
    const info of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]
  ) {
    if (valueInfoElemType(info) === DT.FLOAT16) setValueInfoElemType(info, DT.BFLOAT16);
  }
  for (const t of graph.initializer ?? []) inlineToBfloat16(t);
  for (const node of graph.node ?? []) {
    if (node.opType === "Cast") {
      const to = getAttribute(node, "to");
      if (to && Number(to.i) === DT.FLOAT16) to.i = DT.BFLOAT16;
    }
    for (const a of node.attribute ?? []) {
      if (a.t) inlineToBfloat16(a.t);
      if (a.g) retype(a.g);
      for (const g of a.graphs ?? []) retype(g);
    }
  }
}

/** Graph inputs and outputs back to float32, with Casts to and from bfloat16 inside. */
function floatBoundary(graph: GraphProto): void {
  const head: NodeProto[] = [];
  const renamed = new Map<string, string>();
  for (const input of graph.input ?? []) {
    if (valueInfoElemType(input) !== DT.BFLOAT16) continue;
    const name = input.name!;
    setValueInfoElemType(input, DT.FLOAT);
    renamed.set(name, `${name}_bf16`);
    head.push(castNode(name, `${name}_bf16`, DT.BFLOAT16));
  }
  const tail: NodeProto[] = [];
  const outputs = new Map<string, string>();
  for (const output of graph.output ?? []) {
    if (valueInfoElemType(output) !== DT.BFLOAT16) continue;
    const name = output.name!;
    setValueInfoElemType(output, DT.FLOAT);
    outputs.set(name, `${name}_bf16`);
    tail.push(castNode(`${name}_bf16`, name, DT.FLOAT));
  }
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((n) => renamed.get(n) ?? outputs.get(n) ?? n);
    node.output = (node.output ?? []).map((n) => outputs.get(n) ?? n);
  }
  graph.node = [...head, ...(graph.node ?? []), ...tail];
}

function inlineToBfloat16(t: TensorProto): void {
  if (t.dataType !== DT.FLOAT16) return;
  t.rawData = halfBytesToBfloat16(t.rawData ?? new Uint8Array(0));
  t.dataType = DT.BFLOAT16;
}

function halfBytesToBfloat16(bytes: Uint8Array): Uint8Array {
  const half = asUint16(bytes);
  const values = new Float32Array(half.length);
  const f16 = new Float16Array(half.buffer, half.byteOffset, half.length);
  for (let i = 0; i < half.length; i++) values[i] = f16[i]!;
  return bytesOf(toBfloat16Bits(values));
}
