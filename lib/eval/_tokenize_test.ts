import { assert, assertEquals } from "../testing/assert.ts";
import { resolveModel } from "../engine/mod.ts";
import { tokenizePrefix } from "./_tokenize.ts";
import { readVendoredWikitext } from "./wikitext.ts";

Deno.test("tokenizePrefix() encodes only a prefix and keeps the whole text's first ids", () => {
  const lengths: number[] = [];
  const encode = (text: string) => {
    lengths.push(text.length);
    return text.split(/(?<=\s)/).map((word) => word.length);
  };
  const text = Array.from({ length: 5000 }, (_, i) => `word${i % 97}${i % 7 ? " " : "\n"}`).join(
    "",
  );
  const whole = encode(text);
  lengths.length = 0;
  for (const n of [2, 100, 1000, 4000]) {
    assertEquals(tokenizePrefix(encode, text, n), whole.slice(0, n), `n ${n}`);
  }
  assert(lengths.slice(0, 3).every((l) => l < text.length), `encoded ${lengths}`);
  assertEquals(tokenizePrefix(encode, text, null), whole);
  assertEquals(tokenizePrefix(encode, text, 10 ** 6), whole);
});

Deno.test("tokenizePrefix() with the tiny preset's tokenizer matches tokenising all of WikiText", async () => {
  const { tokenizer } = await resolveModel("preset:tiny");
  const text = (await readVendoredWikitext()).slice(0, 60_000);
  const encode = (t: string) => tokenizer.encode(t);
  const whole = encode(text);
  for (const n of [50, 777, 3000]) {
    assertEquals(tokenizePrefix(encode, text, n), whole.slice(0, n), `n ${n}`);
  }
});
