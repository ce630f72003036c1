import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { randomValues } from "./_test_graph.ts";
import { identity, runGraph } from "./_ort_test_util.ts";
import { checkBlockSize, dequantizeQ4, q4Element, quantizeQ4 } from "./q4.ts";

Deno.test("quantizeQ4() packs element k of a block low nibble first, blocks per column", () => {
  // Column 0: 0..15 twice (scale 1, zero point 0); column 1: -8..7 twice (scale 1, zp 8).
  const k = 32;
  const w = new Float32Array(k * 2);
  for (let r = 0; r < k; r++) {
    w[r * 2] = r % 16;
    w[r * 2 + 1] = (r % 16) - 8;
  }
  const q = quantizeQ4(w, [k, 2], { blockSize: 16 });
  assertEquals(q.packed.length, 2 * 2 * 8);
  for (let col = 0; col < 2; col++) {
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < 8; i++) {
        assertEquals(q.packed[(col * 2 + b) * 8 + i], (2 * i) | ((2 * i + 1) << 4));
      }
    }
  }
  assertEquals(Array.from(q.scales), [1, 1, 1, 1]);
  // Two blocks per column → one zero-point byte per column, low nibble = block 0.
  assertEquals(Array.from(q.zeroPoints!), [0x00, 0x88]);
  assertEquals(Array.from(dequantizeQ4(q)), Array.from(w));
});

Deno.test("quantizeQ4() pads each column's zero points to whole bytes", () => {
  const k = 48; // 3 blocks of 16 → 2 zero-point bytes per column
  const w = randomValues(k * 3, 11);
  const q = quantizeQ4(w, [k, 3], { blockSize: 16 });
  assertEquals(q.zeroPoints!.length, 3 * 2);
  for (let col = 0; col < 3; col++) {
    assertEquals(q.zeroPoints![col * 2 + 1]! >> 4, 0, "padding nibble stays 0");
    for (let row = 0; row < k; row++) {
      const e = q4Element(q, row, col);
      const zb = q.zeroPoints![col * 2 + (Math.floor(row / 16) >> 1)]!;
      assertEquals(e.zeroPoint, Math.floor(row / 16) % 2 ? zb >> 4 : zb & 15);
    }
  }
});

Deno.test("dequantizeQ4() equals scale * (code - zeroPoint) for every element", () => {
  for (const symmetric of [false, true]) {
    const q = quantizeQ4(randomValues(64 * 5, 3), [64, 5], { symmetric });
    const d = dequantizeQ4(q);
    for (let row = 0; row < 64; row++) {
      for (let col = 0; col < 5; col++) {
        const e = q4Element(q, row, col);
        assertEquals(d[row * 5 + col], Math.fround(e.scale * (e.code - e.zeroPoint)));
      }
    }
  }
});

Deno.test("quantizeQ4() round trip is within scale/2 per element (asymmetric)", () => {
  const w = randomValues(128 * 16, 5, 0.3);
  const q = quantizeQ4(w, [128, 16], { blockSize: 32 });
  const d = dequantizeQ4(q);
  let worst = 0;
  for (let row = 0; row < 128; row++) {
    for (let col = 0; col < 16; col++) {
      const { scale } = q4Element(q, row, col);
      const err = Math.abs(d[row * 16 + col]! - w[row * 16 + col]!);
      assert(err <= scale / 2 + scale * 1e-5, `(${row},${col}) err ${err} > scale/2 ${scale / 2}`);
      worst = Math.max(worst, err / scale);
    }
  }
  assert(worst > 0.3, "the bound is approached, so the test can fail");
});

Deno.test("quantizeQ4() symmetric: within scale/2 except codes clamped at 15 (within scale)", () => {
  const w = randomValues(128 * 16, 6, 0.3);
  const q = quantizeQ4(w, [128, 16], { blockSize: 32, symmetric: true });
  assertEquals(q.zeroPoints, null);
  const d = dequantizeQ4(q);
  for (let row = 0; row < 128; row++) {
    for (let col = 0; col < 16; col++) {
      const { scale, code } = q4Element(q, row, col);
      const s = Math.abs(scale);
      const err = Math.abs(d[row * 16 + col]! - w[row * 16 + col]!);
      const bound = code === 15 ? s : s / 2;
      assert(err <= bound + s * 1e-5, `(${row},${col}) code ${code} err ${err} > ${bound}`);
    }
  }
});

Deno.test("quantizeQ4() with float16 scales stores float16-representable scales", () => {
  const q = quantizeQ4(randomValues(64 * 4, 8), [64, 4], { scaleType: "float16" });
  const f16 = new Float16Array(q.scales);
  assertEquals(Array.from(f16, Number), Array.from(q.scales));
});

Deno.test("quantizeQ4() rejects in-features not divisible by the block size, naming tensor and dims", () => {
  assertThrows(
    () => quantizeQ4(new Float32Array(48 * 2), [48, 2], { blockSize: 32, name: "w.up" }),
    RangeError,
    "'w.up' [48, 2]",
  );
  assertThrows(() => quantizeQ4(new Float32Array(3), [2, 2]), RangeError, "expected [2, 2]");
  assertThrows(
    () => checkBlockSize(24),
    RangeError,
    "'blockSize' must be a power of two >= 16, got 24",
  );
  assertThrows(() => checkBlockSize(8), RangeError, "got 8");
});

for (const symmetric of [false, true]) {
  Deno.test(`MatMulNBits on ORT CPU dequantises exactly like dequantizeQ4() (symmetric ${symmetric})`, async () => {
    const k = 64;
    const n = 24;
    const q = quantizeQ4(randomValues(k * n, 9), [k, n], { blockSize: 32, symmetric });
    const y = await runGraph(
      (g) => {
        g.input("a", "float32", [k, k]).output("y", "float32", [k, n]);
        const inputs = [
          "a",
          g.initializer("b", "uint8", [n, k / 32, 16], q.packed),
          g.initializer("s", "float32", [n * (k / 32)], q.scales),
        ];
        if (q.zeroPoints) {
          inputs.push(g.initializer("zp", "uint8", [q.zeroPoints.length], q.zeroPoints));
        }
        g.node(
          "MatMulNBits",
          inputs,
          ["y"],
          { K: k, N: n, bits: 4, block_size: 32 },
          "com.microsoft",
        );
      },
      { a: identity(k) },
      { "com.microsoft": 1 },
    );
    // + 0 folds -0 into 0 (a negative scale times code 8 - 8).
    assertEquals(Array.from(y, (v) => v + 0), Array.from(dequantizeQ4(q), (v) => v + 0));
  });
}

for (const symmetric of [false, true]) {
  Deno.test(`MatMulNBits bits 8 on ORT CPU dequantises exactly like dequantizeQ4() (symmetric ${symmetric})`, async () => {
    const k = 64;
    const n = 24;
    const q = quantizeQ4(randomValues(k * n, 19), [k, n], { bits: 8, blockSize: 32, symmetric });
    assertEquals(q.packed.length, n * k);
    const y = await runGraph(
      (g) => {
        g.input("a", "float32", [k, k]).output("y", "float32", [k, n]);
        const inputs = [
          "a",
          g.initializer("b", "uint8", [n, k / 32, 32], q.packed),
          g.initializer("s", "float32", [n * (k / 32)], q.scales),
        ];
        if (q.zeroPoints) {
          assertEquals(q.zeroPoints.length, n * (k / 32));
          inputs.push(g.initializer("zp", "uint8", [q.zeroPoints.length], q.zeroPoints));
        }
        g.node(
          "MatMulNBits",
          inputs,
          ["y"],
          { K: k, N: n, bits: 8, block_size: 32 },
          "com.microsoft",
        );
      },
      { a: identity(k) },
      { "com.microsoft": 1 },
    );
    assertEquals(Array.from(y, (v) => v + 0), Array.from(dequantizeQ4(q), (v) => v + 0));
  });
}

Deno.test("quantizeQ4() with 8 bits is within scale/2 per element and uses the full code range", () => {
  const w = randomValues(64 * 8, 29, 0.5);
  const q = quantizeQ4(w, [64, 8], { bits: 8, blockSize: 32 });
  const d = dequantizeQ4(q);
  let top = 0;
  for (let i = 0; i < w.length; i++) {
    const row = Math.floor(i / 8);
    const { code, scale } = q4Element(q, row, i % 8);
    top = Math.max(top, code);
    assert(Math.abs(d[i]! - w[i]!) <= scale / 2 + 1e-6, `element ${i}`);
  }
  assertEquals(top, 255);
  assertThrows(() => quantizeQ4(w, [64, 8], { bits: 3 as 4 }), RangeError, "'bits' must be 4 or 8");
});
