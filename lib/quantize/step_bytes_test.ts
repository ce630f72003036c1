import { join } from "node:path";
import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { ensureModel, parameterSpecs, PRESETS } from "../model/mod.ts";
import { decodeStepBytes, meanDecodePositions, readStoredWeights } from "./step_bytes.ts";

const tiny = PRESETS.tiny!;
const linear = (name: string) => /(proj)\.weight$/.test(name);
/** Small graph constants (scalars, shape vectors): below this, never a weight. */
const CONSTANTS_SLACK = 1024;

/** The tiny model's parameters as the config implies them: [K (in), N (out)] of each linear. */
function linears(): [number, number][] {
  const out: [number, number][] = parameterSpecs(tiny)
    .filter((s) => linear(s.name))
    .map((s) => [s.shape[1]!, s.shape[0]!]);
  out.push([tiny.hidden_size, tiny.vocab_size]); // the tied head: a transposed copy
  return out;
}
const norms = parameterSpecs(tiny).filter((s) => s.shape.length === 1)
  .reduce((n, s) => n + s.shape[0]!, 0);
/** One row of the embedding table and of the cos and sin caches, float32. */
const rowBytes = tiny.hidden_size * 4 + 2 * (tiny.head_dim / 2) * 4;

Deno.test("storedWeights() of the tiny fp32 model: every linear and norm whole, the embedding and RoPE caches by row", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp32", "q4"] });
  const w = await readStoredWeights(join(dir, "onnx", "model.onnx"));
  const expected = (linears().reduce((n, [k, m]) => n + k * m, 0) + norms) * 4;
  assertEquals(w.rowBytes, rowBytes);
  assert(
    w.wholeBytes >= expected && w.wholeBytes < expected + CONSTANTS_SLACK,
    `whole ${w.wholeBytes}, config implies ${expected} + constants`,
  );
  const table = tiny.vocab_size * tiny.hidden_size * 4 +
    2 * tiny.max_position_embeddings * (tiny.head_dim / 2) * 4;
  assertEquals(w.storedBytes, w.wholeBytes + table);
});

Deno.test("storedWeights() of the tiny q4 model counts packed codes, scales and zero points as stored", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp32", "q4"] });
  const w = await readStoredWeights(join(dir, "onnx", "model_q4.onnx"));
  // MatMulNBits, block 32 asymmetric (the default): codes N × K/32 × 16 bytes, float32 scales
  // N × K/32, 4-bit zero points N × ceil(K/32 / 2) bytes.
  const blocks = ([k, n]: [number, number]) => n * k / 32;
  const codes = linears().reduce((s, l) => s + blocks(l) * 16 + blocks(l) * 4, 0);
  const zeros = linears().reduce((s, [k, n]) => s + n * Math.ceil(k / 32 / 2), 0);
  const rest = norms * 4;
  const fits = (bytes: number) =>
    w.wholeBytes >= bytes + rest && w.wholeBytes < bytes + rest + CONSTANTS_SLACK;
  assert(
    fits(codes + zeros),
    `whole ${w.wholeBytes}: codes+scales ${codes}, zero points ${zeros}, norms ${rest}`,
  );
  assertEquals(w.rowBytes, rowBytes, "the embedding stays a float32 Gather table");
});

Deno.test("decodeStepBytes() reads the weights once per batch and the KV cache per sequence", () => {
  const kv = { layers: 2, kvHeads: 2, headDim: 16, elementBytes: 2 };
  const weights = { wholeBytes: 5000, rowBytes: 100, storedBytes: 9000 };
  const one = decodeStepBytes(weights, { batch: 1, positions: 10, kv });
  const four = decodeStepBytes(weights, { batch: 4, positions: 10, kv });
  assertEquals(one.kvBytes, 2 * 2 * 2 * 16 * 2 * 10);
  assertEquals(four.kvBytes, 4 * one.kvBytes);
  assertEquals(four.weightBytes, 5000 + 4 * 100);
  assertEquals(meanDecodePositions(2016, 32), 2032);
  assertThrows(
    () => decodeStepBytes(weights, { batch: 0, positions: 1, kv }),
    RangeError,
    "'batch'",
  );
});
