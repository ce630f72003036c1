import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { mulberry32 } from "../_rng.ts";
import { type DecoderModel, loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { ensureModel } from "../model/mod.ts";
import { generate } from "../engine/generate.ts";
import { kvLength } from "./kv.ts";
import { PrefixCache } from "./prefix_cache.ts";
import { ChatSession } from "./session.ts";
import { tinyDecoder } from "./_fixture.ts";

/** Seeded token ids below the tiny vocabulary's specials. */
function ids(count: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: count }, () => 1 + Math.floor(r() * 500));
}

/** Greedy tokens recomputing the whole sequence every step, no cache at all. */
async function reference(model: DecoderModel, prompt: readonly number[], n: number) {
  return (await generate(model, [prompt], { maxNewTokens: n, useCache: false })).tokens[0]!;
}

/**
 * The model with its `step()` recorded: past positions visible to the run (the mask's ones minus
 * the new tokens: the fed past on the copy path, the buffer's filled part in place) and new
 * tokens of every run.
 */
function recorded(model: DecoderModel): { model: DecoderModel; runs: [number, number][] } {
  const runs: [number, number][] = [];
  const step: DecoderModel["step"] = (inputIds, mask, positions, past, fetch) => {
    const visible = (mask.data as BigInt64Array).reduce((n, v) => n + Number(v), 0);
    const fresh = Number(inputIds.dims[1]);
    if (model.kvMode !== "in_place") {
      assertEquals(past === null ? 0 : kvLength(past), visible - fresh);
    }
    runs.push([visible - fresh, fresh]);
    return model.step(inputIds, mask, positions, past, fetch);
  };
  return { model: { ...model, step }, runs };
}

Deno.test("ChatSession greedy tokens equal a cache-free recompute over turns with a RAG removal", async () => {
  const model = await tinyDecoder();
  const n = 6;
  const system = ids(24, 1);
  const rag = ids(40, 2);
  const on = new ChatSession(model);
  const off = new ChatSession(model, { reuse: false });
  const turns: { prompt: number[]; removal: boolean }[] = [];
  // Turn 1: question. Turn 2: RAG block + question. Turn 3: question about it.
  // Turn 4: the RAG block removed from the history (and its answer kept), new question.
  let prompt = [...system, ...ids(10, 3)];
  for (let turn = 0; turn < 5; turn++) {
    let removal = false;
    if (turn === 1) prompt = [...prompt, ...rag, ...ids(8, 10 + turn)];
    else if (turn === 3) {
      const at = prompt.indexOf(rag[0]!, system.length);
      prompt = [...prompt.slice(0, at), ...prompt.slice(at + rag.length), ...ids(8, 10 + turn)];
      removal = true;
    } else if (turn > 0) prompt = [...prompt, ...ids(8, 10 + turn)];
    turns.push({ prompt: [...prompt], removal });
    const a = await on.turn(prompt, { maxNewTokens: n });
    const b = await off.turn(prompt, { maxNewTokens: n });
    const expected = await reference(model, prompt, n);
    assertEquals(a.tokens, expected, `turn ${turn}: reuse vs recompute`);
    assertEquals(b.tokens, expected, `turn ${turn}: no reuse vs recompute`);
    assertEquals(b.reusedTokens, 0);
    assertEquals(a.prefilledTokens + a.reusedTokens, prompt.length);
    if (turn === 0) assertEquals(a.source, "none");
    else if (removal) {
      // Reused exactly up to where the RAG block began: the system prompt and turn 1.
      const common = turns[2]!.prompt.indexOf(rag[0]!, system.length);
      assertEquals(a.reusedTokens, common);
      assert(a.cutTokens > rag.length, `cut ${a.cutTokens}`);
    } else {
      // Everything cached: the previous prompt and all generated tokens but the last.
      assertEquals(a.reusedTokens, turns[turn - 1]!.prompt.length + n - 1);
      assertEquals(a.cutTokens, 0);
    }
    prompt = [...prompt, ...a.tokens];
  }
});

Deno.test("ChatSession cuts the cache back to the common prefix and never reuses past it", async () => {
  const { model, runs } = recorded(await tinyDecoder());
  const chat = new ChatSession(model);
  const first = [...ids(30, 21)];
  await chat.turn(first, { maxNewTokens: 3 });
  assertEquals(chat.cachedTokens.length, 32);
  // Diverge at position 17: only 17 positions of past may be fed.
  const edited = [...first.slice(0, 17), 499, ...first.slice(18)];
  runs.length = 0;
  const r = await chat.turn(edited, { maxNewTokens: 3 });
  assertEquals(r.reusedTokens, 17);
  assertEquals(r.cutTokens, 32 - 17);
  assertEquals(runs[0], [17, edited.length - 17]);
  assertEquals(r.tokens, await reference(model, edited, 3));
  // The same prompt again: all but its last token reused (its logits give the first new token).
  runs.length = 0;
  const again = await chat.turn(edited, { maxNewTokens: 2 });
  assertEquals(again.reusedTokens, edited.length - 1);
  assertEquals(runs[0], [edited.length - 1, 1]);
  // A shorter prompt that is a prefix of the cache: cut to its length − 1.
  const shorter = edited.slice(0, 10);
  const s = await chat.turn(shorter, { maxNewTokens: 2 });
  assertEquals(s.reusedTokens, 9);
  assertEquals(s.tokens, await reference(model, shorter, 2));
});

Deno.test("ChatSession reuses a system prompt another session put in the shared prefix cache", async () => {
  const model = await tinyDecoder();
  const cache = new PrefixCache({ capacityTokens: 400 });
  const system = ids(50, 31);
  const a = new ChatSession(model, { prefixCache: cache });
  const b = new ChatSession(model, { prefixCache: cache });
  await a.turn([...system, ...ids(12, 32)], { maxNewTokens: 4 });
  const promptB = [...system, ...ids(12, 33)];
  const r = await b.turn(promptB, { maxNewTokens: 4 });
  assertEquals(r.source, "shared");
  assert(r.reusedTokens >= system.length, `reused ${r.reusedTokens}`);
  assertEquals(r.tokens, await reference(model, promptB, 4));
  const stats = cache.stats();
  assertEquals(stats.lookups, 2);
  assertEquals(stats.hits, 1);
  assertEquals(stats.misses, 1);
  assertEquals(stats.hitRate, r.reusedTokens / (62 + promptB.length));
});

Deno.test("ChatSession.turn() rejects bad input naming the field", async () => {
  const chat = new ChatSession(await tinyDecoder());
  await assertRejects(() => chat.turn([], { maxNewTokens: 2 }), RangeError, "'prompt'");
  await assertRejects(() => chat.turn([1, 2], { maxNewTokens: 0 }), RangeError, "'maxNewTokens'");
  await assertRejects(
    () => chat.turn(ids(510, 5), { maxNewTokens: 8 }),
    RangeError,
    "512 positions",
  );
});

Deno.test("ChatSession cuts and reuses a float16 KV cache (fp16 model) with the same greedy tokens", async () => {
  const dir = await ensureModel("tiny", { dtypes: ["fp16"] });
  const model = await loadDecoder(await resolveModel(dir), { dtype: "fp16", threads: 1 });
  try {
    assertEquals(model.kvDtype, "float16");
    const chat = new ChatSession(model);
    const first = ids(40, 41);
    const a = await chat.turn(first, { maxNewTokens: 4 });
    const edited = [...first.slice(0, 25), ...ids(12, 42)];
    const b = await chat.turn([...first, ...a.tokens, ...ids(6, 43)], { maxNewTokens: 4 });
    assertEquals(b.reusedTokens, 43);
    const c = await chat.turn(edited, { maxNewTokens: 4 });
    assertEquals(c.reusedTokens, 25);
    assertEquals(c.tokens, await reference(model, edited, 4));
  } finally {
    await model.dispose();
  }
});

Deno.test("ChatSession gives the same tokens and reuse on the in-place default and the copy path", async () => {
  const inPlace = await tinyDecoder();
  assertEquals(inPlace.kvMode, "in_place");
  const copy = await loadDecoder(await resolveModel("preset:tiny+copy_kv", { dtypes: ["fp32"] }), {
    dtype: "fp32",
    threads: 1,
  });
  try {
    assertEquals(copy.kvMode, "copy");
    const results = [];
    for (const model of [inPlace, copy]) {
      const { model: spied, runs } = recorded(model);
      const cache = new PrefixCache({ capacityTokens: 400 });
      const chat = new ChatSession(spied, { prefixCache: cache });
      const first = ids(30, 51);
      const a = await chat.turn(first, { maxNewTokens: 5 });
      const b = await chat.turn([...first, ...a.tokens, ...ids(7, 52)], { maxNewTokens: 5 });
      const other = new ChatSession(spied, { prefixCache: cache });
      const c = await other.turn([...first.slice(0, 20), ...ids(5, 53)], { maxNewTokens: 3 });
      results.push({
        tokens: [a.tokens, b.tokens, c.tokens],
        reused: [b.reusedTokens, c.reusedTokens],
        runs,
      });
    }
    assertEquals(results[0], results[1]);
  } finally {
    await copy.dispose();
  }
});
