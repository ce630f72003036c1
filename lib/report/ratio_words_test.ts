import { assertEquals } from "../testing/assert.ts";
import { ratioWords, SPEED_WORDS } from "./ratio_words.ts";

const MEMORY = { more: "less", less: "more", same: "the same" };

Deno.test("ratioWords() says 'slower' with the inverse factor below 1, never '0.78× faster'", () => {
  assertEquals(ratioWords(0.78, SPEED_WORDS), "1.28× slower");
  assertEquals(ratioWords(0.5, SPEED_WORDS), "2.00× slower");
  assertEquals(ratioWords(2, SPEED_WORDS), "2.00× faster");
  assertEquals(ratioWords(143.6, SPEED_WORDS, { digits: 1 }), "143.6× faster");
});

Deno.test("ratioWords() says 'the same' for a ratio that prints as 1.00 or lies within noise", () => {
  assertEquals(ratioWords(1.004, MEMORY), "the same");
  assertEquals(ratioWords(0.996, MEMORY), "the same");
  assertEquals(ratioWords(1.006, MEMORY), "1.01× less");
  assertEquals(ratioWords(0.97, SPEED_WORDS, { noise: 0.05 }), "about as fast");
  assertEquals(ratioWords(0.9, SPEED_WORDS, { noise: 0.05 }), "1.11× slower");
});

Deno.test("ratioWords() gives '—' when a side is missing or the ratio is not positive", () => {
  assertEquals(ratioWords(null, SPEED_WORDS), "—");
  assertEquals(ratioWords(Number.NaN, SPEED_WORDS), "—");
  assertEquals(ratioWords(0, SPEED_WORDS), "—");
});
