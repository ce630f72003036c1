import { assertEquals, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import {
  checkpointTensors,
  readSafetensors,
  readSafetensorsHeader,
  readTensorRows,
  tensorChunks,
  writeSafetensors,
} from "./safetensors.ts";

Deno.test("writeSafetensors() streams chunks and readSafetensors() reads them back", () => {
  const path = Deno.makeTempFileSync({ suffix: ".safetensors" });
  using _ = { [Symbol.dispose]: () => Deno.removeSync(path) };
  const bytes = writeSafetensors(path, [
    {
      name: "a",
      shape: [2, 3],
      chunks: () => [Float32Array.of(1, 2), Float32Array.of(3, 4, 5, 6)],
    },
    { name: "b", shape: [1], chunks: () => [Float32Array.of(-7.5)] },
  ]);
  assertEquals(bytes, Deno.statSync(path).size);
  const raw = Deno.readFileSync(path);
  const headerLength = Number(new DataView(raw.buffer).getBigUint64(0, true));
  assertEquals(headerLength % 8, 0, "header padded to 8 bytes");
  const header = JSON.parse(new TextDecoder().decode(raw.subarray(8, 8 + headerLength)));
  assertEquals(header.__metadata__, { format: "pt" });
  assertEquals(header.b, { dtype: "F32", shape: [1], data_offsets: [24, 28] });
  const tensors = readSafetensors(path);
  assertEquals(Array.from(tensors.get("a")!.data), [1, 2, 3, 4, 5, 6]);
  assertEquals(tensors.get("a")!.shape, [2, 3]);
  assertEquals(Array.from(tensors.get("b")!.data), [-7.5]);
});

Deno.test("writeSafetensors() rejects chunks that do not fill the shape", () => {
  const path = Deno.makeTempFileSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(path) };
  assertThrows(
    () => writeSafetensors(path, [{ name: "w", shape: [3], chunks: () => [Float32Array.of(1)] }]),
    RangeError,
    "tensor 'w' of shape [3] got 1 values, expected 3",
  );
});

Deno.test("readSafetensors() rejects a file too short to be safetensors", () => {
  const path = Deno.makeTempFileSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(path) };
  Deno.writeFileSync(path, new Uint8Array(3));
  assertThrows(() => readSafetensors(path), SyntaxError, "is not a valid safetensors file");
});

Deno.test("writeSafetensors() rounds to F16 and BF16, and the readers return exact float32", () => {
  const path = Deno.makeTempFileSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(path) };
  const values = Float32Array.of(1, -2.5, 1 / 3, 65504, 1e-3, 3.14159);
  writeSafetensors(path, [
    { name: "h", shape: [2, 3], dtype: "F16", chunks: () => [values] },
    { name: "b", shape: [2, 3], dtype: "BF16", chunks: () => [values] },
  ]);
  const header = readSafetensorsHeader(path);
  assertEquals(header.get("h")!.dtype, "F16");
  assertEquals(header.get("b")!.end - header.get("b")!.begin, 12);
  const tensors = readSafetensors(path);
  assertEquals(Array.from(tensors.get("h")!.data), Array.from(new Float16Array(values)));
  // bfloat16 keeps 8 significant bits, rounded to nearest even: 1/3 → 0.333984375.
  assertEquals(Array.from(tensors.get("b")!.data), [
    1,
    -2.5,
    0.333984375,
    65536,
    0.00099945068359375,
    3.140625,
  ]);
});

Deno.test("readSafetensorsHeader() names a truncated file, an unknown dtype and a bad span", () => {
  const dir = Deno.makeTempDirSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
  const good = join(dir, "good.safetensors");
  writeSafetensors(good, [{ name: "w", shape: [4, 4], chunks: () => [new Float32Array(16)] }]);
  const bytes = Deno.readFileSync(good);
  const truncated = join(dir, "truncated.safetensors");
  Deno.writeFileSync(truncated, bytes.subarray(0, bytes.length - 5));
  assertThrows(
    () => readSafetensorsHeader(truncated),
    SyntaxError,
    "truncated: tensor 'w' ends at byte",
  );
  const withHeader = (header: unknown) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + 64);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    const path = join(dir, `h${Math.random()}.safetensors`);
    Deno.writeFileSync(path, out);
    return path;
  };
  assertThrows(
    () =>
      readSafetensorsHeader(withHeader({ w: { dtype: "I8", shape: [2], data_offsets: [0, 2] } })),
    TypeError,
    "tensor 'w' has dtype 'I8' (supported: F32, F16, BF16)",
  );
  assertThrows(
    () =>
      readSafetensorsHeader(withHeader({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } })),
    SyntaxError,
    "tensor 'w' [3] F32 spans 8 bytes, expected 12",
  );
  assertThrows(
    () => readSafetensorsHeader(join(dir, "missing")),
    Deno.errors.NotFound,
    "does not exist",
  );
});

Deno.test("checkpointTensors() follows a sharded index and names a tensor missing from its shard", () => {
  const dir = Deno.makeTempDirSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
  const one = "model-00001-of-00002.safetensors", two = "model-00002-of-00002.safetensors";
  writeSafetensors(join(dir, one), [{
    name: "a",
    shape: [2],
    chunks: () => [Float32Array.of(1, 2)],
  }]);
  writeSafetensors(join(dir, two), [{
    name: "b",
    shape: [1],
    dtype: "BF16",
    chunks: () => [Float32Array.of(3)],
  }]);
  const index = (map: Record<string, string>) =>
    Deno.writeTextFileSync(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify({ metadata: {}, weight_map: map }),
    );
  index({ a: one, b: two });
  const tensors = checkpointTensors(dir);
  assertEquals([...tensors.keys()], ["a", "b"]);
  assertEquals(Array.from(readTensorRows(tensors.get("b")!)), [3]);
  index({ a: one, b: one });
  assertThrows(
    () => checkpointTensors(dir),
    SyntaxError,
    `puts 'b' in '${one}', which does not hold it`,
  );
  index({ a: one, c: "model-00003-of-00003.safetensors" });
  assertThrows(() => checkpointTensors(dir), Deno.errors.NotFound, "does not exist");
});

Deno.test("tensorChunks() transposes in several bounded passes, equal to one pass", () => {
  const path = Deno.makeTempFileSync();
  using _ = { [Symbol.dispose]: () => Deno.removeSync(path) };
  const rows = 7, cols = 5;
  const values = Float32Array.from({ length: rows * cols }, (_, i) => i);
  writeSafetensors(path, [{
    name: "w",
    shape: [rows, cols],
    dtype: "F16",
    chunks: () => [values],
  }]);
  const info = readSafetensorsHeader(path).get("w")!;
  const small = [...tensorChunks(info, { transposed: true, budgetBytes: rows * 4 * 2 })];
  assertEquals(small.length, 3);
  const flat = small.flatMap((c) => [...c]);
  const expected = [];
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) expected.push(r * cols + c);
  assertEquals(flat, expected);
  assertEquals([...tensorChunks(info, { budgetBytes: cols * 4 * 3 })].length, 3);
});
