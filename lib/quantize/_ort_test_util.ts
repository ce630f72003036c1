/**
 * Private test helpers: run a one-node graph on ONNX Runtime CPU through createSession.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { createSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";

/** Builds a graph with `build`, writes it to a temp dir, runs it with `feeds`, returns `y`. */
export async function runGraph(
  build: (g: GraphBuilder) => void,
  feeds: Record<string, ort.Tensor>,
  domains: Record<string, number> = {},
): Promise<Float32Array> {
  const g = new GraphBuilder("test");
  build(g);
  const dir = await Deno.makeTempDir();
  const path = join(dir, "m.onnx");
  await writeModel(path, g.toModelBytes({ domains }));
  const s = await createSession(path);
  const out = await s.session.run(feeds);
  await s.session.release();
  return toFloat32(out.y!);
}

/** A float32 identity matrix `[n, n]`. */
export function identity(n: number): ort.Tensor {
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1;
  return new ort.Tensor("float32", data, [n, n]);
}
