import * as ort from "onnxruntime-node";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { randomValues } from "./_test_graph.ts";
import { runGraph } from "./_ort_test_util.ts";
import { dequantizeQ8, quantizeQ8 } from "./q8.ts";

Deno.test("quantizeQ8() asymmetric maps each column's min to 0 and max to 255", () => {
  const w = randomValues(40 * 6, 21);
  const q = quantizeQ8(w, [40, 6]);
  assert(q.data instanceof Uint8Array);
  for (let col = 0; col < 6; col++) {
    let lo = 0;
    let hi = 0;
    for (let row = 0; row < 40; row++) {
      const v = w[row * 6 + col]!;
      if (v < w[lo * 6 + col]!) lo = row;
      if (v > w[hi * 6 + col]!) hi = row;
    }
    assertEquals(q.data[lo * 6 + col], 0);
    assertEquals(q.data[hi * 6 + col], 255);
  }
});

Deno.test("quantizeQ8() symmetric is int8 in [-127, 127] with zero point 0", () => {
  const w = randomValues(40 * 6, 22);
  const q = quantizeQ8(w, [40, 6], { symmetric: true });
  assert(q.data instanceof Int8Array);
  assertEquals(Array.from(q.zeroPoints), [0, 0, 0, 0, 0, 0]);
  const codes = Array.from(q.data);
  assert(Math.min(...codes) >= -127 && Math.max(...codes) <= 127);
  assert(codes.some((c) => Math.abs(c) === 127));
});

Deno.test("quantizeQ8() round trip is within scale/2 per element", () => {
  for (const symmetric of [false, true]) {
    const w = randomValues(96 * 12, 23, 0.5);
    const q = quantizeQ8(w, [96, 12], { symmetric });
    const d = dequantizeQ8(q);
    for (let i = 0; i < w.length; i++) {
      const s = q.scales[i % 12]!;
      assert(Math.abs(d[i]! - w[i]!) <= s / 2 + s * 1e-5, `element ${i} (symmetric ${symmetric})`);
    }
  }
});

Deno.test("quantizeQ8() of an all-zero column uses scale 1 and zero point 0", () => {
  const q = quantizeQ8(new Float32Array(4), [2, 2]);
  assertEquals(Array.from(q.scales), [1, 1]);
  assertEquals(Array.from(dequantizeQ8(q)), [0, 0, 0, 0]);
  assertThrows(() => quantizeQ8(new Float32Array(3), [2, 2]), RangeError, "expected [2, 2]");
});

for (const symmetric of [false, true]) {
  Deno.test(`DequantizeLinear(axis 1) on ORT CPU equals dequantizeQ8() exactly (symmetric ${symmetric})`, async () => {
    const k = 32;
    const n = 10;
    const q = quantizeQ8(randomValues(k * n, 24), [k, n], { symmetric });
    const type = symmetric ? "int8" : "uint8";
    const y = await runGraph(
      (g) => {
        g.input("q", type, [k, n]).output("y", "float32", [k, n]);
        const s = g.initializer("s", "float32", [n], q.scales);
        const zp = g.initializer("zp", type, [n], q.zeroPoints);
        g.node("DequantizeLinear", ["q", s, zp], ["y"], { axis: 1 });
      },
      { q: new ort.Tensor(type, q.data, [k, n]) },
    );
    assertEquals(Array.from(y), Array.from(dequantizeQ8(q)));
  });
}
