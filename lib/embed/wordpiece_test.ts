import assert from "node:assert/strict";
import { AutoTokenizer } from "@huggingface/transformers";
import { promptText } from "../engine/prompts.ts";
import { WORDPIECE_SPECIALS, wordPieceTokenizerFiles, wordPieceVocab } from "./wordpiece.ts";

async function tokenizerFor(size: number) {
  const dir = await Deno.makeTempDir();
  const { tokenizerJson, tokenizerConfig } = wordPieceTokenizerFiles(wordPieceVocab(size), {
    modelMaxLength: 512,
  });
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(tokenizerJson));
  await Deno.writeTextFile(`${dir}/tokenizer_config.json`, JSON.stringify(tokenizerConfig));
  return await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
}

Deno.test("wordPieceVocab() is deterministic, distinct, and has BERT's special ids", () => {
  const a = wordPieceVocab(30522);
  assert.equal(a.length, 30522);
  assert.equal(new Set(a).size, 30522);
  assert.deepEqual(a, wordPieceVocab(30522));
  assert.notDeepEqual(a, wordPieceVocab(30522, 7));
  for (const s of Object.values(WORDPIECE_SPECIALS)) assert.equal(a[s.id], s.token);
  assert.throws(() => wordPieceVocab(100), /size/);
});

Deno.test("the WordPiece tokenizer round-trips text through transformers.js (lowercased)", async () => {
  const tokenizer = await tokenizerFor(30522);
  for (const family of ["conversational", "code", "summary"] as const) {
    const text = promptText(family, 6, 3).replace(/\s+/g, " ").trim();
    const ids = tokenizer.encode(text);
    assert.equal(ids[0], WORDPIECE_SPECIALS.cls.id);
    assert.equal(ids.at(-1), WORDPIECE_SPECIALS.sep.id);
    assert(!ids.includes(WORDPIECE_SPECIALS.unk.id), `${family}: no [UNK]`);
    const words = (s: string) => s.toLowerCase().match(/[a-z0-9]+|[^\sa-z0-9]/g);
    assert.deepEqual(words(tokenizer.decode(ids, { skip_special_tokens: true })), words(text));
  }
});

Deno.test("the WordPiece tokenizer splits unknown words into ## pieces and marks segment B", async () => {
  const tokenizer = await tokenizerFor(300);
  const tokens = tokenizer.tokenize("Zyxwv");
  assert(tokens.length > 1 && tokens.slice(1).every((t: string) => t.startsWith("##")));
  assert(tokenizer.encode("é€").includes(WORDPIECE_SPECIALS.unk.id));
  const pair = tokenizer("a b", { text_pair: "c" });
  const types = Array.from(pair.token_type_ids!.data as BigInt64Array, Number);
  assert.deepEqual(types, [0, 0, 0, 0, 1, 1]);
});
