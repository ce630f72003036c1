import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { tinyModel } from "./_fixture.ts";
import { PROMPT_FAMILIES, type PromptFamily, promptIds, promptText } from "./prompts.ts";

Deno.test("promptIds() returns exactly the requested number of tokens", async () => {
  const { tokenizer } = await tinyModel();
  for (const family of PROMPT_FAMILIES) {
    for (const tokens of [1, 7, 128, 256, 511]) {
      assertEquals(promptIds(tokenizer, family, tokens, 3).length, tokens, `${family} ${tokens}`);
    }
  }
});

Deno.test("promptIds() keeps the family's tail so the model is asked to answer", async () => {
  const { tokenizer } = await tinyModel();
  const text = tokenizer.decode(promptIds(tokenizer, "conversational", 128), {
    skip_special_tokens: true,
  });
  assert(text.startsWith("User: Explain") && text.endsWith("Assistant:"), text);
});

Deno.test("promptIds() is deterministic per seed and index, and differs across them", async () => {
  const { tokenizer } = await tinyModel();
  const a = promptIds(tokenizer, "summary", 64, 0);
  assertEquals(promptIds(tokenizer, "summary", 64, 0), a);
  assert(promptIds(tokenizer, "summary", 64, 1).join() !== a.join());
  assert(promptIds(tokenizer, "summary", 64, 0, 7).join() !== a.join());
});

Deno.test("promptText() follows the brief's three templates", () => {
  assert(promptText("conversational", 2).startsWith("User: Explain"));
  assert(promptText("code", 2).startsWith("def quicksort"));
  assert(promptText("summary", 2).startsWith("Summarize the following article"));
});

Deno.test("promptIds() rejects an unknown family and a bad length", async () => {
  const { tokenizer } = await tinyModel();
  assertThrows(
    () => promptIds(tokenizer, "poetry" as PromptFamily, 10),
    RangeError,
    "Unknown prompt family 'poetry'",
  );
  assertThrows(() => promptIds(tokenizer, "code", 0), RangeError, "'tokens'");
});
