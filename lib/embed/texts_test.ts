import assert from "node:assert/strict";
import { resolveEncoder } from "./model.ts";
import { embedTexts } from "./texts.ts";

const { model } = await resolveEncoder("preset:minilm-tiny", ["fp32"]);

Deno.test("embedTexts() gives distinct texts of exactly seqLen tokens, [CLS] and [SEP] included", () => {
  for (const seqLen of [3, 7, 16, 64, 128]) {
    const texts = embedTexts(model.tokenizer, { count: 6, seqLen });
    assert.equal(texts.length, 6);
    for (const t of texts) {
      assert.equal(model.tokenizer.encode(t).length, seqLen, `${seqLen}: ${t}`);
    }
    if (seqLen >= 16) assert.equal(new Set(texts).size, 6);
  }
  assert.deepEqual(
    embedTexts(model.tokenizer, { count: 2, seqLen: 32 }),
    embedTexts(model.tokenizer, { count: 2, seqLen: 32 }),
  );
  assert.notDeepEqual(
    embedTexts(model.tokenizer, { count: 2, seqLen: 32, seed: 1 }),
    embedTexts(model.tokenizer, { count: 2, seqLen: 32 }),
  );
});

Deno.test("embedTexts() rejects a bad count or length naming the field", () => {
  assert.throws(() => embedTexts(model.tokenizer, { count: 0, seqLen: 16 }), /'count'/);
  assert.throws(() => embedTexts(model.tokenizer, { count: 1, seqLen: 2 }), /'seqLen'/);
});
