import assert from "node:assert/strict";
import { loadDecoder } from "./decoder.ts";
import { generate } from "./generate.ts";
import { resolveModel } from "./resolve.ts";
import { createSampler, greedyPick, rowLogprobs, samplePick } from "./sampling.ts";

const probs = [0.5, 0.25, 0.15, 0.1];
const row = new Float32Array(probs.map(Math.log));

Deno.test("sampling at temperature 1 draws each token about as often as its probability", () => {
  const pick = createSampler({ temperature: 1, seed: 42 });
  const counts = [0, 0, 0, 0];
  const draws = 20_000;
  for (let i = 0; i < draws; i++) counts[pick(row)]!++;
  counts.forEach((c, id) => {
    assert(Math.abs(c / draws - probs[id]!) < 0.02, `token ${id}: ${c / draws} vs ${probs[id]}`);
  });
});

Deno.test("the same seed gives the same draws; another seed other draws", () => {
  const run = (seed: number) => {
    const pick = createSampler({ temperature: 1, seed });
    return Array.from({ length: 64 }, () => pick(row)).join();
  };
  assert.equal(run(1), run(1));
  assert.notEqual(run(1), run(2));
});

Deno.test("top-k and top-p keep only the most likely tokens; temperature 0 is greedy", () => {
  const seen = (params: Parameters<typeof createSampler>[0]) => {
    const pick = createSampler(params);
    return new Set(Array.from({ length: 2000 }, () => pick(row)));
  };
  assert.deepEqual([...seen({ temperature: 1, topK: 2, seed: 3 })].sort(), [0, 1]);
  // top-p 0.7: 0.5 < 0.7 ≤ 0.5 + 0.25, so tokens 0 and 1
  assert.deepEqual([...seen({ temperature: 1, topP: 0.7, seed: 3 })].sort(), [0, 1]);
  assert.deepEqual([...seen({ temperature: 0, seed: 3 })], [0]);
  // a low temperature sharpens: token 0 nearly always
  const sharp = createSampler({ temperature: 0.1, seed: 5 });
  const zeros = Array.from({ length: 1000 }, () => sharp(row)).filter((id) => id === 0).length;
  assert(zeros > 990, `${zeros}`);
  assert.equal(samplePick(row, 1, 1, 0, 0), 0);
  assert.equal(samplePick(row, 1, 1, 0, 0.999), 3);
  assert.equal(greedyPick(row), 0);
});

Deno.test("bad settings are refused naming them", () => {
  assert.throws(() => createSampler({ temperature: -1 }), /'temperature'/);
  assert.throws(() => createSampler({ topP: 0 }), /'topP'/);
  assert.throws(() => createSampler({ topK: 1.5 }), /'topK'/);
});

Deno.test("log-probabilities are the log-softmax of the raw logits", () => {
  const r = rowLogprobs(row, 2, 3);
  assert(Math.abs(r.logprob - Math.log(0.15)) < 1e-6);
  assert.deepEqual(r.top.map((t) => t.id), [0, 1, 2]);
  r.top.forEach((t) => assert(Math.abs(t.logprob - Math.log(probs[t.id]!)) < 1e-6));
  assert.deepEqual(rowLogprobs([1, 1], 0, 2).top.map((t) => t.id), [0, 1]); // ties: lowest id
});

Deno.test("generate() with a picker: greedyPick gives the default tokens; a seeded sampler repeats", async () => {
  const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32" });
  try {
    const prompt = [[5, 17, 42, 7]];
    const options = { maxNewTokens: 8 };
    const greedy = await generate(model, prompt, options);
    assert.deepEqual(
      (await generate(model, prompt, { ...options, pick: greedyPick })).tokens,
      greedy.tokens,
    );
    const sampled = async (seed: number) =>
      (await generate(model, prompt, { ...options, pick: createSampler({ temperature: 2, seed }) }))
        .tokens[0]!.join();
    assert.equal(await sampled(11), await sampled(11));
    assert.notEqual(await sampled(11), await sampled(12));
  } finally {
    await model.dispose();
  }
});
