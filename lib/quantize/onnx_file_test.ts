import { join } from "node:path";
import { assertEquals, assertRejects } from "../testing/assert.ts";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { OnnxFile } from "./onnx_file.ts";
import { lazyTensor } from "./lazy_tensor.ts";
import { writeOnnxModel } from "./onnx_writer.ts";

async function twoTensorModel(dir: string, external: boolean): Promise<string> {
  const g = new GraphBuilder("g");
  g.input("x", "float32", [2, 300]).output("y", "float32", [2, 4]);
  const w = Float32Array.from({ length: 300 * 4 }, (_, i) => i / 7);
  const b = Float32Array.from({ length: 4 }, (_, i) => -i);
  g.initializer("w", "float32", [300, 4], w);
  g.initializer("b", "float32", [4], b);
  const [m] = g.node("MatMul", ["x", "w"]);
  g.node("Add", [m!, "b"], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(
    path,
    g.toModelBytes(external ? { externalDataName: "model.onnx_data" } : {}),
    join(dir, "model.onnx_data"),
  );
  return path;
}

Deno.test("OnnxFile reads external-data tensors by offset, equal to the inline ones", async () => {
  const inline = await OnnxFile.open(await twoTensorModel(await Deno.makeTempDir(), false));
  const extDir = await Deno.makeTempDir();
  const external = await OnnxFile.open(await twoTensorModel(extDir, true));
  const a = await Promise.all(inline.initializers().map((t) => t.load()));
  const b = await Promise.all(external.initializers().map((t) => t.load()));
  assertEquals(external.initializers().map((t) => [t.name, t.byteLength]), [["w", 4800], [
    "b",
    16,
  ]]);
  assertEquals(b.map((x) => Array.from(x)), a.map((x) => Array.from(x)));
  inline.close();
  external.close();
});

Deno.test("OnnxFile names a missing external-data file and a non-ONNX file", async () => {
  const dir = await Deno.makeTempDir();
  const f = await OnnxFile.open(await twoTensorModel(dir, true));
  await Deno.remove(join(dir, "model.onnx_data"));
  await assertRejects(() => f.initializers()[0]!.load(), Deno.errors.NotFound, "'model.onnx_data'");
  f.close();
  const junk = join(dir, "junk.onnx");
  await Deno.writeTextFile(junk, "not a model at all");
  await assertRejects(() => OnnxFile.open(junk), SyntaxError, "junk.onnx");
});

Deno.test("writeOnnxModel() goes external above the threshold and keeps small tensors inline", async () => {
  const dir = await Deno.makeTempDir();
  const src = await OnnxFile.open(await twoTensorModel(dir, false));
  const tensors = await Promise.all(
    src.initializers().map(async (t) => lazyTensor(t.name, t.dataType, t.dims, await t.load())),
  );
  const out = join(dir, "copy.onnx");
  const written = await writeOnnxModel(out, src.model, tensors, {
    externalDataThresholdBytes: 100,
  });
  src.close();
  assertEquals(written.externalDataPath, join(dir, "copy.onnx_data"));
  assertEquals((await Deno.stat(written.externalDataPath!)).size, 4800);
  const back = await OnnxFile.open(out);
  const [w, b] = back.graph.initializer!;
  assertEquals(w!.externalData!.map((e) => e.key), ["location", "offset", "length"]);
  assertEquals(b!.rawData!.byteLength, 16);
  assertEquals(
    Array.from(await back.initializers()[0]!.load()),
    Array.from(await tensors[0]!.load()),
  );
  back.close();
  await assertRejects(
    () => writeOnnxModel(out, back.model, [{ ...tensors[1]!, byteLength: 20 }]),
    RangeError,
    "'b' [4] produced 16 bytes, expected 20",
  );
});
