import assert from "node:assert/strict";
import { generate } from "../engine/generate.ts";
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
      got.push(step.value);
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
