import assert from "node:assert/strict";
import { mean_pooling, Tensor } from "@huggingface/transformers";
import { mulberry32 } from "../_rng.ts";
import { cosineSimilarity, l2Normalize, meanPool, sentenceEmbeddings } from "./pooling.ts";

/** A padded batch: rows of 5, 2 and 4 real tokens out of 5, hidden size 3. */
function fixture() {
  const r = mulberry32(7);
  const dims = { batch: 3, sequence: 5, hidden: 3 };
  const hidden = Float32Array.from({ length: 45 }, () => r() * 4 - 2);
  const lengths = [5, 2, 4];
  const mask = lengths.flatMap((n) => Array.from({ length: 5 }, (_, t) => (t < n ? 1 : 0)));
  return { dims, hidden, lengths, mask };
}

Deno.test("sentenceEmbeddings() equals a direct mean over real tokens, then division by the norm", () => {
  const { dims, hidden, lengths } = fixture();
  const { mask } = fixture();
  const got = sentenceEmbeddings(hidden, mask, dims);
  for (let b = 0; b < dims.batch; b++) {
    // Directly: the token vectors of row b that are not padding, averaged, then normalised.
    const tokens: number[][] = [];
    for (let t = 0; t < lengths[b]!; t++) {
      const start = (b * dims.sequence + t) * dims.hidden;
      tokens.push([...hidden.slice(start, start + dims.hidden)]);
    }
    const mean = [0, 1, 2].map((j) => tokens.reduce((s, v) => s + v[j]!, 0) / tokens.length);
    const norm = Math.hypot(...mean);
    for (let j = 0; j < dims.hidden; j++) {
      assert(Math.abs(got[b * dims.hidden + j]! - mean[j]! / norm) < 1e-6, `row ${b} dim ${j}`);
    }
  }
});

Deno.test("meanPool() ignores padding values entirely", () => {
  const { dims, hidden, mask } = fixture();
  const poisoned = Float32Array.from(hidden);
  mask.forEach((m, i) => {
    if (m === 0) poisoned.fill(1e6, i * dims.hidden, (i + 1) * dims.hidden);
  });
  assert.deepEqual(meanPool(poisoned, mask, dims), meanPool(hidden, mask, dims));
});

Deno.test("sentenceEmbeddings() matches transformers.js mean_pooling + normalize (the feature-extraction pipeline's path)", () => {
  const { dims, hidden, mask } = fixture();
  const ours = sentenceEmbeddings(hidden, mask, dims);
  const h = new Tensor("float32", hidden, [dims.batch, dims.sequence, dims.hidden]);
  const m = new Tensor("int64", BigInt64Array.from(mask.map(BigInt)), [dims.batch, dims.sequence]);
  const theirs = mean_pooling(h, m).normalize(2, -1).data as Float32Array;
  for (let i = 0; i < ours.length; i++) {
    assert(Math.abs(ours[i]! - theirs[i]!) < 1e-6, `index ${i}`);
  }
});

Deno.test("l2Normalize() leaves a zero row zero and meanPool() an all-padding row zero", () => {
  assert.deepEqual([...l2Normalize([0, 0, 3, 4], 2)], [
    0,
    0,
    0.6000000238418579,
    0.800000011920929,
  ]);
  const pooled = meanPool([5, 5], [0], { batch: 1, sequence: 1, hidden: 2 });
  assert.deepEqual([...pooled], [0, 0]);
});

Deno.test("meanPool() rejects a shape that does not match the data", () => {
  assert.throws(() => meanPool([1, 2, 3], [1], { batch: 1, sequence: 1, hidden: 2 }), /meanPool/);
  assert.throws(() => l2Normalize([1, 2, 3], 2), /width/);
});

Deno.test("cosineSimilarity() of a row with itself is 1 and with its negation -1", () => {
  const a = [0.3, -1.2, 2, 0.5, 0.5, 0.5];
  assert(Math.abs(cosineSimilarity(a, a, 3, 1) - 1) < 1e-12);
  assert(Math.abs(cosineSimilarity(a, a.map((x) => -x), 3, 0) + 1) < 1e-12);
});
