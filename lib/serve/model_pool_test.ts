import assert from "node:assert/strict";
import { generate } from "../engine/generate.ts";
import { createSampler, rowLogprobs } from "../engine/sampling.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { ModelPool, streamTokens } from "./model_pool.ts";

Deno.test("streamTokens() yields the engine's greedy tokens one by one (KV cache, ignoring EOS)", async () => {
  const pool = new ModelPool(1);
  try {
    const pooled = await pool.get("preset:tiny", "fp32");
    const prompt = pooled.model.resolved.tokenizer.encode("The quick brown fox");
    const expected = await generate(pooled.model, [prompt], { maxNewTokens: 10 });
    const got: number[] = [];
    const tokens = streamTokens(pooled, prompt, { maxTokens: 10, stopAtEos: false });
    let step = await tokens.next();
    while (!step.done) {
      got.push(step.value.id);
      step = await tokens.next();
    }
    assert.equal(step.value, "length");
    assert.deepEqual(got, expected.tokens[0]);
  } finally {
    await pool.close();
  }
});

Deno.test("streamTokens() stops when aborted", async () => {
  const pool = new ModelPool(1);
  try {
    const pooled = await pool.get("preset:tiny", "fp32");
    const abort = new AbortController();
    const tokens = streamTokens(pooled, [1, 2, 3], {
      maxTokens: 50,
      stopAtEos: false,
      signal: abort.signal,
    });
    await tokens.next();
    abort.abort();
    const step = await tokens.next();
    assert.deepEqual(step, { done: true, value: "aborted" });
  } finally {
    await pool.close();
  }
});

Deno.test("ModelPool keeps a model that is generating, even past its capacity, and drops idle ones", async () => {
  const pool = new ModelPool(1);
  try {
    const a = await pool.get("preset:tiny", "fp32");
    const tokens = streamTokens(a, [1, 2, 3], { maxTokens: 5, stopAtEos: false });
    await tokens.next(); // a is generating
    const b = await pool.get("preset:tiny", "q4");
    assert.notEqual(a, b);
    // a was kept: the rest of its generation still runs.
    let step = await tokens.next();
    while (!step.done) step = await tokens.next();
    assert.equal(step.value, "length");
    assert.equal(a.active, 0);
    assert.equal(await pool.get("preset:tiny", "fp32"), a, "a stayed loaded");
  } finally {
    await pool.close();
  }
});

Deno.test("streamTokens() with echo scores the prompt as a forward pass does; a seeded sampler repeats", async () => {
  const pool = new ModelPool(1);
  try {
    const pooled = await pool.get("preset:tiny", "fp32");
    const prompt = [5, 17, 42, 7, 99];
    const all = [];
    for await (const t of streamTokens(pooled, prompt, { maxTokens: 2, echo: true, logprobs: 2 })) {
      all.push(t);
    }
    assert.deepEqual(all.slice(0, 5).map((t) => [t.id, t.prompt]), prompt.map((id) => [id, true]));
    assert.equal(all[0]!.logprob, null);
    const logits = await pooled.model.forward([[...prompt, all[5]!.id]]);
    const values = toFloat32(logits as never);
    const vocab = pooled.model.vocabSize;
    const row = (i: number) => values.subarray(i * vocab, (i + 1) * vocab);
    for (let i = 1; i < 6; i++) {
      const expected = rowLogprobs(row(i - 1), all[i]!.id, 2);
      assert(Math.abs(all[i]!.logprob! - expected.logprob) < 1e-4, `position ${i}`);
      assert.deepEqual(all[i]!.top.map((t) => t.id), expected.top.map((t) => t.id));
    }
    assert.equal(all[5]!.prompt, false);

    const sampled = async (seed: number) => {
      const ids = [];
      const pick = createSampler({ temperature: 1.5, seed });
      for await (
        const t of streamTokens(pooled, prompt, { maxTokens: 12, stopAtEos: false, pick })
      ) {
        ids.push(t.id);
      }
      return ids.join();
    };
    assert.equal(await sampled(3), await sampled(3));
    assert.notEqual(await sampled(3), await sampled(4));
  } finally {
    await pool.close();
  }
});
