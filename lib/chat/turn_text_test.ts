import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { tinyDecoder } from "./_fixture.ts";
import { messageText } from "./turn_text.ts";

Deno.test("messageText() writes each role at exactly the asked token count", async () => {
  const { tokenizer } = (await tinyDecoder()).resolved;
  const encode = (text: string) => tokenizer.encode(text, { add_special_tokens: false });
  for (const role of ["system", "normal", "rag_data", "rag_query", "rag_removal"] as const) {
    for (const tokens of [1, 7, 64, 300]) {
      for (const type of ["simple_qa", "code_discussion"] as const) {
        const text = messageText(tokenizer, role, tokens, { type, doc: "manual", seed: tokens });
        assertEquals(encode(text).length, tokens, `${role} ${type} ${tokens}`);
      }
    }
  }
});

Deno.test("messageText() is a function of its seed and words code conversations as code", async () => {
  const { tokenizer } = (await tinyDecoder()).resolved;
  assertEquals(
    messageText(tokenizer, "normal", 50, { seed: 3 }),
    messageText(tokenizer, "normal", 50, { seed: 3 }),
  );
  assert(
    messageText(tokenizer, "normal", 50, { seed: 3 }) !==
      messageText(tokenizer, "normal", 50, { seed: 4 }),
  );
  assert(messageText(tokenizer, "normal", 80, { type: "code_discussion" }).includes("def "));
  assert(messageText(tokenizer, "rag_data", 30, { doc: "faq" }).startsWith("Document faq"));
  assertThrows(() => messageText(tokenizer, "normal", 0), RangeError, "'tokens'");
});
