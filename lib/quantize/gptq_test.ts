import { join } from "node:path";
import { mulberry32 } from "../_rng.ts";
import { evaluatePerplexity } from "../eval/perplexity_report.ts";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { quantizeQ4Gptq } from "./gptq.ts";
import { dequantizeQ4, quantizeQ4 } from "./q4.ts";

/** Correlated inputs X [tokens, k]: a few shared factors plus noise, some features large. */
function correlatedInputs(tokens: number, k: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  const factors = 4;
  const loading = Array.from({ length: factors * k }, normal);
  const x = new Float64Array(tokens * k);
  for (let t = 0; t < tokens; t++) {
    const z = Array.from({ length: factors }, normal);
    for (let i = 0; i < k; i++) {
      let v = 0.3 * normal();
      for (let f = 0; f < factors; f++) v += z[f]! * loading[f * k + i]!;
      x[t * k + i] = v * (i % 7 === 0 ? 4 : 1);
    }
  }
  return x;
}

function gram(x: Float64Array, tokens: number, k: number): Float64Array {
  const h = new Float64Array(k * k);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < k; i++) {
      const a = x[t * k + i]!;
      for (let j = 0; j < k; j++) h[i * k + j]! += a * x[t * k + j]!;
    }
  }
  return h;
}

/** Σ over tokens and outputs of (X·(W − Ŵ))². */
function outputError(
  x: Float64Array,
  w: Float32Array,
  q: Float32Array,
  tokens: number,
  k: number,
  n: number,
) {
  let sum = 0;
  for (let t = 0; t < tokens; t++) {
    for (let c = 0; c < n; c++) {
      let d = 0;
      for (let i = 0; i < k; i++) d += x[t * k + i]! * (w[i * n + c]! - q[i * n + c]!);
      sum += d * d;
    }
  }
  return sum;
}

Deno.test("quantizeQ4Gptq() cuts the layer's output error on correlated inputs well below RTN's", () => {
  const k = 128, n = 24, tokens = 512;
  const rng = mulberry32(7);
  const w = Float32Array.from({ length: k * n }, () => (rng() - 0.5) * 0.2);
  const x = correlatedInputs(tokens, k, 11);
  const h = gram(x, tokens, k);
  const rtn = dequantizeQ4(quantizeQ4(w, [k, n]));
  const gptq = quantizeQ4Gptq(w, h, [k, n]);
  const errRtn = outputError(x, w, rtn, tokens, k, n);
  const errGptq = outputError(x, w, dequantizeQ4(gptq), tokens, k, n);
  console.log(`output error: RTN ${errRtn.toExponential(3)}, GPTQ ${errGptq.toExponential(3)}`);
  assert(errGptq < 0.7 * errRtn, `GPTQ ${errGptq} vs RTN ${errRtn}`);
  // Same format: one scale and zero point per (column, block of 32), codes 0..15.
  assertEquals(gptq.scales.length, n * (k / 32));
  assertEquals(gptq.packed.length, n * k / 2);
});

Deno.test("quantizeQ4Gptq() equals RTN for a diagonal Hessian and zeroes inputs that never fire", () => {
  const k = 64, n = 5;
  const w = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 1.3) * 0.1);
  const diagonal = new Float64Array(k * k).map((_, i) => (i % (k + 1) === 0 ? 1 + (i % 3) : 0));
  assertEquals(quantizeQ4Gptq(w, diagonal, [k, n]).packed, quantizeQ4(w, [k, n]).packed);
  const dead = diagonal.slice();
  dead[5 * k + 5] = 0;
  const q = dequantizeQ4(quantizeQ4Gptq(w, dead, [k, n]));
  for (let c = 0; c < n; c++) assert(Math.abs(q[5 * n + c]!) <= 0.1 / 15 + 1e-6);
  assertThrows(() => quantizeQ4Gptq(w, diagonal, [k, n + 1]), RangeError, "do not fit");
});

Deno.test("q4gptq beats q4 (RTN) on the trained wikitext-llama: lower KL, higher top-1, same tokens", async () => {
  const model = join(new URL("../../models/wikitext-llama", import.meta.url).pathname);
  const result = await evaluatePerplexity({
    model,
    dtypes: ["fp32", "q4", "q4gptq"],
    maxTokens: 4096,
    window: 512,
    stride: 256,
  });
  const by = new Map(result.results.map((r) => [r.dtype, r]));
  const rtn = by.get("q4")!, gptq = by.get("q4gptq")!;
  console.log(
    `4,096 test tokens: q4 KL ${rtn.kl?.toFixed(5)} top-1 ${rtn.top1_agreement?.toFixed(2)} %, ` +
      `q4gptq KL ${gptq.kl?.toFixed(5)} top-1 ${gptq.top1_agreement?.toFixed(2)} %`,
  );
  assertEquals(rtn.scored_tokens, gptq.scored_tokens);
  // A model that has learned English: perplexity far below the 4,096-token vocabulary.
  const fp32 = by.get("fp32")!;
  assert(fp32.ppl! > 1 && fp32.ppl! < 1000 && fp32.bits_per_byte! < 4, `fp32 ppl ${fp32.ppl}`);
  assert(gptq.kl! < 0.7 * rtn.kl!, `KL ${gptq.kl} vs ${rtn.kl}`);
  assert(gptq.top1_agreement! > rtn.top1_agreement!);
});
