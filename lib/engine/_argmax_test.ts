import * as ort from "onnxruntime-node";
import { assertEquals, assertThrows } from "../testing/assert.ts";
import { argmaxLastPosition } from "./_argmax.ts";

Deno.test("argmaxLastPosition() reads only the last position of each row", () => {
  // [batch 2, seq 2, vocab 3]: the first position of each row holds a decoy maximum.
  const data = new Float32Array([9, 0, 0, 0, 1, 0.5, 0, 0, 9, 2, -1, 3]);
  const logits = new ort.Tensor("float32", data, [2, 2, 3]);
  assertEquals(argmaxLastPosition(logits, []), [1, 2]);
});

Deno.test("argmaxLastPosition() decodes half bits and keeps the lowest id on ties", () => {
  // 1.0, 2.0, 2.0, -2.0 as IEEE half bits.
  const logits = new ort.Tensor("float16", new Uint16Array([0x3c00, 0x4000, 0x4000, 0xc000]), [
    1,
    1,
    4,
  ]);
  const view = { dims: logits.dims, data: new Uint16Array([0x3c00, 0x4000, 0x4000, 0xc000]) };
  assertEquals(argmaxLastPosition(view as unknown as ort.Tensor, [0]), [1]);
  assertEquals(argmaxLastPosition(logits, [0]), [1]);
});

Deno.test("argmaxLastPosition() rejects an all-NaN row instead of returning id 0", () => {
  const logits = new ort.Tensor("float32", new Float32Array([0, 1, NaN, NaN]), [2, 1, 2]);
  assertThrows(() => argmaxLastPosition(logits, []), RangeError, "row 1");
  const half = new ort.Tensor("float16", new Uint16Array([0x7e00, 0x7e00]), [1, 1, 2]);
  assertThrows(() => argmaxLastPosition(half, []), RangeError, "NaN");
});
