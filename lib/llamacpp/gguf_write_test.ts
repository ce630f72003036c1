import assert from "node:assert/strict";
import { join } from "node:path";
import { readGgufHeader, readGgufTensor } from "./gguf_read.ts";
import { GGML_TYPE, GGUF_VALUE_TYPE, writeGguf } from "./gguf_write.ts";

function tempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "gguf-write-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return dir;
}

Deno.test("writeGguf round-trips every metadata type, tensor infos, alignment and data", () => {
  const path = join(tempDir(), "m.gguf");
  const a = Float32Array.from({ length: 15 }, (_, i) => i * 0.5 - 3); // [3, 5]: 60 bytes, unaligned
  const b = Float32Array.of(1.25, -2, 1e-7);
  const bytes = writeGguf(path, {
    metadata: [
      ["u", { type: "uint32", value: 4_000_000_000 }],
      ["i", { type: "int32", value: -7 }],
      ["f", { type: "float32", value: 1e-5 }],
      ["big", { type: "uint64", value: 2n ** 40n }],
      ["yes", { type: "bool", value: true }],
      ["no", { type: "bool", value: false }],
      ["s", { type: "string", value: "Ġthe ünïcode" }],
      ["ss", { type: "string[]", value: ["a b", "", "Ċ"] }],
      ["ii", { type: "int32[]", value: Int32Array.of(1, -3, 5) }],
      ["ff", { type: "float32[]", value: [0.5, -1] }],
    ],
    tensors: [
      // Two chunks for one tensor: the writer must concatenate them.
      { name: "a", shape: [3, 5], chunks: () => [a.subarray(0, 7), a.subarray(7)] },
      { name: "b", shape: [3], chunks: () => [b] },
    ],
  });
  assert.equal(bytes, Deno.statSync(path).size);
  const header = readGgufHeader(path);
  assert.equal(header.version, 3);
  const m = header.metadata;
  assert.equal(m.get("u"), 4_000_000_000);
  assert.equal(m.get("i"), -7);
  assert.equal(m.get("f"), Math.fround(1e-5));
  assert.equal(m.get("big"), 2n ** 40n);
  assert.equal(m.get("yes"), true);
  assert.equal(m.get("no"), false);
  assert.equal(m.get("s"), "Ġthe ünïcode");
  assert.deepEqual(m.get("ss"), ["a b", "", "Ċ"]);
  assert.deepEqual(m.get("ii"), [1, -3, 5]);
  assert.deepEqual(m.get("ff"), [0.5, -1]);
  assert.equal(m.get("general.alignment"), 32);
  assert.equal(header.types.get("u"), GGUF_VALUE_TYPE.uint32);
  assert.equal(header.types.get("i"), GGUF_VALUE_TYPE.int32);
  assert.equal(header.types.get("general.alignment"), GGUF_VALUE_TYPE.uint32);
  assert.equal(header.arrayTypes.get("ss"), GGUF_VALUE_TYPE.string);
  assert.equal(header.arrayTypes.get("ii"), GGUF_VALUE_TYPE.int32);
  assert.equal(header.arrayTypes.get("ff"), GGUF_VALUE_TYPE.float32);
  // GGML order: fastest dimension first.
  assert.deepEqual(header.tensors.map((t) => [t.name, t.dims, t.type]), [
    ["a", [5, 3], GGML_TYPE.F32],
    ["b", [3], GGML_TYPE.F32],
  ]);
  assert.equal(header.dataOffset % 32, 0);
  assert.equal(header.tensors[0]!.offset, 0);
  assert.equal(header.tensors[1]!.offset, 64); // 60 bytes rounded up to 32
  assert.deepEqual(readGgufTensor(path, header, "a"), a);
  assert.deepEqual(readGgufTensor(path, header, "b"), b);
  assert.equal(bytes % 32, 0);
  // The magic and version as bytes, independent of the reader.
  const head = Deno.readFileSync(path).subarray(0, 24);
  const view = new DataView(head.buffer, head.byteOffset);
  assert.equal(new TextDecoder().decode(head.subarray(0, 4)), "GGUF");
  assert.equal(view.getUint32(4, true), 3);
  assert.equal(view.getBigUint64(8, true), 2n);
  assert.equal(view.getBigUint64(16, true), 11n);
});

Deno.test("writeGguf honours another alignment", () => {
  const path = join(tempDir(), "m.gguf");
  writeGguf(path, {
    metadata: [],
    alignment: 64,
    tensors: [
      { name: "x", shape: [1], chunks: () => [Float32Array.of(3)] },
      { name: "y", shape: [2], chunks: () => [Float32Array.of(4, 5)] },
    ],
  });
  const header = readGgufHeader(path);
  assert.equal(header.alignment, 64);
  assert.equal(header.dataOffset % 64, 0);
  assert.equal(header.tensors[1]!.offset, 64);
  assert.deepEqual(readGgufTensor(path, header, "y"), Float32Array.of(4, 5));
});

Deno.test("writeGguf rejects chunks that do not fill the shape and leaves no file", () => {
  const dir = tempDir();
  const path = join(dir, "m.gguf");
  assert.throws(
    () =>
      writeGguf(path, {
        metadata: [],
        tensors: [{ name: "w", shape: [2, 2], chunks: () => [new Float32Array(3)] }],
      }),
    /'w' \[2,2\] needs 4 values, its chunks gave 3/,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  assert.throws(
    () =>
      writeGguf(path, {
        metadata: [["k", { type: "uint32", value: -1 }]],
        tensors: [],
      }),
    /'k': -1 is not a uint32 value/,
  );
  assert.throws(
    () =>
      writeGguf(path, {
        metadata: [["k", { type: "bool", value: true }], ["k", { type: "bool", value: false }]],
        tensors: [],
      }),
    /'k' appears twice/,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

Deno.test("readGgufHeader names a file that is not GGUF", () => {
  const path = join(tempDir(), "x.gguf");
  Deno.writeTextFileSync(path, "not a gguf file at all");
  assert.throws(() => readGgufHeader(path), /x\.gguf' is not a GGUF file/);
});
