import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { byteAlphabet, SPECIAL_TOKENS, tokenizerFiles, trainTokenizer } from "./tokenizer.ts";

Deno.test("byteAlphabet() maps the 256 bytes to 256 distinct printable characters", () => {
  const alphabet = byteAlphabet();
  assertEquals(new Set(alphabet).size, 256);
  assertEquals(alphabet[10], "Ċ");
  assert(alphabet.every((c) => c.trim() === c && c.length === 1));
});

Deno.test("trainTokenizer() is deterministic and fills exactly the vocabulary size", () => {
  const a = trainTokenizer(600);
  const b = trainTokenizer(600);
  assertEquals(a.merges, b.merges);
  assertEquals(a.tokens.length, 600);
  assertEquals(a.merges.length, 600 - 258);
  assertEquals([a.tokens[a.bosTokenId], a.tokens[a.eosTokenId]], [
    SPECIAL_TOKENS.bos,
    SPECIAL_TOKENS.eos,
  ]);
  assertEquals(new Set(a.tokens).size, a.tokens.length, "tokens are unique");
  // Each merge forms the token right after the 256 bytes, in rank order.
  a.merges.forEach(([x, y], i) => assertEquals(a.tokens[256 + i], x + y));
  // Frequent English pieces are learned first.
  assert(a.tokens.slice(256, 400).includes("Ġthe"), "'Ġthe' among the first merges");
});

Deno.test("trainTokenizer() below 258 tokens throws a RangeError naming the value", () => {
  assertThrows(
    () => trainTokenizer(100),
    RangeError,
    "'vocabSize' must be an integer >= 258, got 100",
  );
});

Deno.test("tokenizerFiles() writes a ByteLevel BPE with the specials outside the model vocab", () => {
  const t = trainTokenizer(300);
  const { tokenizerJson, tokenizerConfig } = tokenizerFiles(t, { modelMaxLength: 512 });
  const model = tokenizerJson.model as { vocab: Record<string, number>; merges: unknown[] };
  assertEquals(Object.keys(model.vocab).length, 298);
  assertEquals(model.merges.length, 42);
  assertEquals((tokenizerJson.added_tokens as { id: number }[]).map((x) => x.id), [298, 299]);
  assertEquals(tokenizerConfig.bos_token, "<|begin_of_text|>");
  assertEquals(tokenizerConfig.model_max_length, 512);
});
