import { assertEquals, assertThrows } from "../testing/assert.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

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
  assertThrows(() => readSafetensors(path), SyntaxError, "not a safetensors file");
});
