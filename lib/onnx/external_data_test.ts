import { assertEquals } from "../testing/assert.ts";
import * as ort from "onnxruntime-node";
import { createSession } from "../runtime/session.ts";
import { EXTERNAL_DATA_ALIGNMENT, ExternalDataWriter } from "./external_data.ts";
import { GraphBuilder, writeModel } from "./graph.ts";

Deno.test("ExternalDataWriter.append() aligns each tensor and returns its location", () => {
  const dir = Deno.makeTempDirSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
  const sink = new ExternalDataWriter(`${dir}/model.onnx_data`);
  const a = sink.append([Uint8Array.of(1, 2, 3)]);
  const b = sink.append([Float32Array.of(1.5), Uint8Array.of(9)]);
  sink.close();
  assertEquals(a, { location: "model.onnx_data", offset: 0, length: 3 });
  assertEquals(b, { location: "model.onnx_data", offset: EXTERNAL_DATA_ALIGNMENT, length: 5 });
  const bytes = Deno.readFileSync(`${dir}/model.onnx_data`);
  assertEquals(bytes.length, EXTERNAL_DATA_ALIGNMENT + 5);
  assertEquals(new DataView(bytes.buffer).getFloat32(b.offset, true), 1.5);
  assertEquals(bytes[b.offset + 4], 9);
});

Deno.test("GraphBuilder.externalInitializer() points ORT at bytes streamed by ExternalDataWriter", async () => {
  const dir = Deno.makeTempDirSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
  const sink = new ExternalDataWriter(`${dir}/model.onnx_data`);
  const g = new GraphBuilder("mm");
  g.input("x", "float32", [1, 3]).output("y", "float32", [1, 2]);
  sink.append([Uint8Array.of(7)]); // something before, so the offset is not 0
  // W = [[1, 2], [3, 4], [5, 6]] streamed in two chunks.
  const ref = sink.append([Float32Array.of(1, 2, 3), Float32Array.of(4, 5, 6)]);
  sink.close();
  g.externalInitializer("W", "float32", [3, 2], ref);
  g.node("MatMul", ["x", "W"], ["y"]);
  await writeModel(`${dir}/model.onnx`, g.toModelBytes());
  const s = await createSession(`${dir}/model.onnx`);
  const out = await s.session.run({
    x: new ort.Tensor("float32", Float32Array.of(1, 1, 1), [1, 3]),
  });
  assertEquals(Array.from(out.y!.data as Float32Array), [9, 12]);
});
