import { assert, assertEquals } from "../testing/assert.ts";
import { attentionMask, int64Tensor, positionIds, toFloat32 } from "../runtime/tensors.ts";
import { tinyModel } from "./_fixture.ts";
import { type DecoderModel, loadDecoder } from "./decoder.ts";
import { generate } from "./generate.ts";
import { PROMPT_FAMILIES, promptIds } from "./prompts.ts";

let loaded: Promise<DecoderModel> | undefined;
function model(): Promise<DecoderModel> {
  loaded ??= tinyModel().then((r) => loadDecoder(r, { dtype: "fp32", threads: 1 }));
  return loaded;
}

/** The same decoder as a Hub export without `num_logits_to_keep`: every run returns all rows. */
function allPositions(m: DecoderModel): DecoderModel {
  return {
    ...m,
    logitsPositions: "all",
    step: (ids, mask, positions, past, fetchPresent) =>
      m.step(ids, mask, positions, past, fetchPresent, true),
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assertEquals(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

Deno.test("loadDecoder() of a built model keeps only the last position's logits", async () => {
  const m = await model();
  assert(m.session.inputNames.includes("num_logits_to_keep"));
  assertEquals(m.logitsPositions, "last");
});

Deno.test("num_logits_to_keep = 1 gives the last row of every-position logits (left-padded batch)", async () => {
  const m = await model();
  const a = promptIds(m.resolved.tokenizer, "code", 30, 0);
  const b = [...new Array<number>(7).fill(m.config.padTokenId), ...a.slice(7)];
  const leftPad = [0, 7];
  const feeds = [
    int64Tensor([a, b]),
    attentionMask(2, 30, leftPad),
    positionIds(2, 30, 0, leftPad),
  ];
  const last = await m.step(feeds[0]!, feeds[1]!, feeds[2]!, null, false);
  const all = await m.step(feeds[0]!, feeds[1]!, feeds[2]!, null, false, true);
  const vocab = m.vocabSize;
  assertEquals(last.logits.dims.slice(), [2, 1, vocab]);
  assertEquals(all.logits.dims.slice(), [2, 30, vocab]);
  const full = toFloat32(all.logits);
  const kept = toFloat32(last.logits);
  for (let row = 0; row < 2; row++) {
    const want = full.subarray((row * 30 + 29) * vocab, (row * 30 + 30) * vocab);
    const got = kept.subarray(row * vocab, (row + 1) * vocab);
    assert(maxAbsDiff(got, want) < 1e-5, `row ${row}: ${maxAbsDiff(got, want)}`);
  }
  // forward() (perplexity) still gets every position.
  const scored = await m.forward([a]);
  assertEquals(scored.dims.slice(), [1, 30, vocab]);
});

Deno.test("generate() makes the same tokens keeping the last position or all of them", async () => {
  const m = await model();
  const hub = allPositions(m);
  for (const family of PROMPT_FAMILIES) {
    const prompt = promptIds(m.resolved.tokenizer, family, 48, 2);
    for (const useCache of [true, false]) {
      const last = await generate(m, [prompt], { maxNewTokens: 12, useCache });
      const all = await generate(hub, [prompt], { maxNewTokens: 12, useCache });
      assertEquals(last.tokens, all.tokens, `${family}, cache ${useCache}`);
      assertEquals(last.logitsPositions, "last");
      assertEquals(all.logitsPositions, "all");
    }
  }
});
