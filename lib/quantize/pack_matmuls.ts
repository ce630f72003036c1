/**
 * Packs the `MatMulNBits` nodes that read the same activation (a layer's q, k and v projections;
 * its gate and up projections) into one node with the weights side by side, followed by a
 * `Split` that hands each consumer its original output.
 *
 * Why: at batch-1 decode a `MatMulNBits` on the CPU costs a fixed amount per call (quantising the
 * activation to int8 per block at accuracy level 4, the thread-pool hand-off) on top of streaming
 * its weights, and on small models that fixed part is most of it. One call over `[q | k | v]`
 * pays it once instead of three times and gives the threads one larger product to share.
 *
 * What it computes is unchanged: every output column of `MatMulNBits` depends only on its own
 * column of packed codes, scales and zero points (stored column-major, `[N, blocks, bytes]`), and
 * the activation is quantised along K, the same for any N; so the packed node's columns are the
 * original nodes' columns, concatenated. The packed tensors are concatenations of the original
 * ones along N, made lazily when the model is written.
 *
 * @module
 */
import { DT, type GraphProto, intAttr, type NodeProto } from "./_proto.ts";
import type { LazyTensor } from "./lazy_tensor.ts";

/** What {@linkcode packMatMulNBits} did. */
export interface PackStats {
  /** Packed nodes written. */
  packed: number;
  /** `MatMulNBits` nodes they replaced. */
  replaced: number;
}

/**
 * Packs every group of two or more `MatMulNBits` nodes with the same activation input and the
 * same attributes (other than `N`), whose weights no other node reads.
 *
 * @param graph The graph (mutated: nodes replaced in place, order kept valid).
 * @param tensors Initializers by name (mutated: packed tensors added, the originals removed).
 * @returns How many nodes were packed.
 * @example
 * ```ts ignore
 * rewriteMatMulsQ4(graph, tensors, matmuls, { blockSize: 32 });
 * packMatMulNBits(graph, tensors);
 * ```
 */
export function packMatMulNBits(graph: GraphProto, tensors: Map<string, LazyTensor>): PackStats {
  const nodes = graph.node ?? [];
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.input ?? []) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) {
    readers.set(o.name ?? "", (readers.get(o.name ?? "") ?? 0) + 1);
  }
  const groups = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    if (n.opType !== "MatMulNBits" || n.domain !== "com.microsoft") continue;
    const inputs = n.input ?? [];
    // Weights (B, scales, zero points, …) must be initializers only this node reads.
    const weights = inputs.slice(1).filter((i) => i !== "");
    // A, B, scales and optionally zero points: inputs past those (g_idx, bias) are not per column.
    if (inputs.length < 3 || inputs.length > 4 || (n.output ?? []).length !== 1) continue;
    if (!weights.every((w) => tensors.has(w) && readers.get(w) === 1)) continue;
    const shape = inputs.map((i, j) => j === 0 ? "" : i === "" ? "-" : "x").join("");
    const attrs = (n.attribute ?? []).filter((a) => a.name !== "N")
      .map((a) => `${a.name}=${Number(a.i ?? 0)}`).sort().join(",");
    const key = `${inputs[0]}|${shape}|${attrs}`;
    const group = groups.get(key);
    if (group) group.push(n);
    else groups.set(key, [n]);
  }
  const replace = new Map<NodeProto, NodeProto[]>();
  const drop = new Set<NodeProto>();
  let packed = 0, replaced = 0;
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const first = group[0]!;
    const base = `${first.name || first.output![0]}_packed`;
    const widths = group.map((n) => attrN(n));
    const inputs = [first.input![0]!];
    for (let j = 1; j < first.input!.length; j++) {
      if (first.input![j] === "") {
        inputs.push("");
        continue;
      }
      const parts = group.map((n) => tensors.get(n.input![j]!)!);
      const t = concatAlongN(`${base}_input${j}`, parts, widths);
      tensors.set(t.name, t);
      inputs.push(t.name);
      for (const p of parts) tensors.delete(p.name);
    }
    const total = widths.reduce((a, b) => a + b, 0);
    const sizes = `${base}_split`;
    tensors.set(sizes, int64Tensor(sizes, widths));
    const joined = `${base}_output`;
    replace.set(first, [
      {
        opType: "MatMulNBits",
        domain: "com.microsoft",
        name: base,
        input: inputs,
        output: [joined],
        attribute: (first.attribute ?? []).map((a) => a.name === "N" ? intAttr("N", total) : a),
      },
      {
        opType: "Split",
        domain: "",
        name: `${base}_split`,
        input: [joined, sizes],
        output: group.map((n) => n.output![0]!),
        attribute: [intAttr("axis", -1)],
      },
    ]);
    for (const n of group.slice(1)) drop.add(n);
    packed++;
    replaced += group.length;
  }
  if (packed > 0) {
    graph.node = nodes.flatMap((n) => replace.get(n) ?? (drop.has(n) ? [] : [n]));
    const gone = new Set([...groups.values()].flat().flatMap((n) => n.input!.slice(1)));
    graph.input = (graph.input ?? []).filter((i) =>
      !gone.has(i.name ?? "") || tensors.has(i.name!)
    );
  }
  return { packed, replaced };
}

function attrN(node: NodeProto): number {
  const a = (node.attribute ?? []).find((x) => x.name === "N");
  const n = Number(a?.i ?? NaN);
  if (!Number.isInteger(n) || n <= 0) {
    throw new RangeError(`MatMulNBits '${node.name}' has no valid N attribute`);
  }
  return n;
}

/**
 * The tensors of several nodes side by side along N: each is `N_i` equal rows (its first dimension
 * or, flattened, `byteLength / N_i` bytes per column), so the concatenation of their bytes is the
 * packed tensor.
 */
function concatAlongN(name: string, parts: LazyTensor[], widths: number[]): LazyTensor {
  const t0 = parts[0]!;
  for (const [i, p] of parts.entries()) {
    if (p.dataType !== t0.dataType || p.dims.length !== t0.dims.length) {
      throw new RangeError(`cannot pack '${p.name}' with '${t0.name}': types or ranks differ`);
    }
    if (
      p.byteLength % widths[i]! !== 0 || p.byteLength / widths[i]! !== t0.byteLength / widths[0]!
    ) {
      throw new RangeError(`cannot pack '${p.name}' with '${t0.name}': per-column sizes differ`);
    }
  }
  const total = widths.reduce((a, b) => a + b, 0);
  const dims = [...t0.dims];
  dims[0] = t0.dims.length === 1 ? parts.reduce((s, p) => s + p.dims[0]!, 0) : total;
  const byteLength = parts.reduce((s, p) => s + p.byteLength, 0);
  return {
    name,
    dataType: t0.dataType,
    dims,
    byteLength,
    load: async () => {
      const out = new Uint8Array(byteLength);
      let offset = 0;
      for (const p of parts) {
        const bytes = await p.load();
        out.set(bytes, offset);
        offset += bytes.byteLength;
      }
      return out;
    },
  };
}

function int64Tensor(name: string, values: number[]): LazyTensor {
  const data = BigInt64Array.from(values.map(BigInt));
  return {
    name,
    dataType: DT.INT64,
    dims: [values.length],
    byteLength: data.byteLength,
    load: () => Promise.resolve(new Uint8Array(data.buffer)),
  };
}
