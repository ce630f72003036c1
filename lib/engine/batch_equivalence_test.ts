/**
 * The batch-scaling guarantee (docs/batching.md): greedy tokens of every sequence of a batch of
 * distinct prompts of equal token length are the tokens of that prompt run alone, with the KV
 * cache on and off, for the Optimum-layout graph and the in_place graph; a GroupQueryAttention
 * graph, which ignores left padding, refuses prompts of unequal length and decodes equal ones.
 */
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { tinyModel } from "./_fixture.ts";
import { type DecoderModel, loadDecoder } from "./decoder.ts";
import { generate } from "./generate.ts";
import { promptIds } from "./prompts.ts";
import { resolveModel } from "./resolve.ts";

let loaded: Promise<DecoderModel[]> | undefined;
function models(): Promise<DecoderModel[]> {
  loaded ??= (async () => {
    const resolved = await resolveModel("preset:tiny+copy_kv", { dtypes: ["fp32"] });
    const copy = await loadDecoder(resolved, { dtype: "fp32", threads: 1 });
    const inPlace = await loadDecoder(await tinyModel(), { dtype: "fp32", threads: 1 });
    return [copy, inPlace];
  })();
  return loaded;
}

for (const batch of [2, 4]) {
  Deno.test(`a batch of ${batch} equal-length prompts decodes each row as it decodes alone`, async () => {
    for (const m of await models()) {
      const tok = m.resolved.tokenizer;
      // Distinct prompts (the sweep's: one prompt index per row) of exactly 24 tokens.
      const prompts = Array.from(
        { length: batch },
        (_, j) => promptIds(tok, "conversational", 24, j),
      );
      assertEquals(new Set(prompts.map((p) => p.join())).size, batch);
      for (const useCache of [true, false]) {
        const batched = await generate(m, prompts, { maxNewTokens: 8, useCache });
        assertEquals(batched.promptTokens, new Array(batch).fill(24));
        for (let b = 0; b < batch; b++) {
          const alone = await generate(m, [prompts[b]!], { maxNewTokens: 8, useCache });
          assertEquals(
            batched.tokens[b],
            alone.tokens[0],
            `${m.kvMode} graph, batch ${batch}, row ${b}, cache ${useCache ? "on" : "off"}`,
          );
        }
      }
    }
  });
}

Deno.test("a GroupQueryAttention graph refuses left-padded batches (it decodes them wrongly) and runs equal ones", async () => {
  const resolved = await resolveModel("preset:tiny+gqa", { dtypes: ["fp32"] });
  const m = await loadDecoder(resolved, { dtype: "fp32", threads: 1 });
  try {
    assertEquals(m.leftPadding, false);
    const tok = m.resolved.tokenizer;
    const long = promptIds(tok, "code", 30, 2);
    const short = promptIds(tok, "code", 17, 3);
    // Why: the padded row's last logits differ from the row alone (the standard graph: 1e-7).
    const pad = m.config.padTokenId;
    const padded = [...new Array<number>(13).fill(pad), ...short];
    const batched = toFloat32(await m.forward([long, padded], { leftPad: [0, 13] }));
    const alone = toFloat32(await m.forward([short]));
    const v = m.vocabSize;
    let worst = 0;
    for (let i = 0; i < v; i++) {
      worst = Math.max(worst, Math.abs(batched[(30 + 29) * v + i]! - alone[16 * v + i]!));
    }
    assert(worst > 1e-3, `left-padded GQA row matched its alone logits (max |Δ| ${worst})`);
    await assertRejects(
      () => generate(m, [long, short], { maxNewTokens: 2 }),
      RangeError,
      "equal token length",
    );
    const equal = [promptIds(tok, "code", 24, 0), promptIds(tok, "code", 24, 1)];
    const both = await generate(m, equal, { maxNewTokens: 6 });
    for (let b = 0; b < 2; b++) {
      const one = await generate(m, [equal[b]!], { maxNewTokens: 6 });
      assertEquals(both.tokens[b], one.tokens[0], `gqa row ${b}`);
    }
  } finally {
    await m.dispose();
  }
});

Deno.test("the standard graph supports left padding", async () => {
  const [copy, inPlace] = await models();
  assertEquals([copy!.leftPadding, inPlace!.leftPadding], [true, true]);
});
