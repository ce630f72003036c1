import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { tinyModel } from "./_fixture.ts";
import { chatPromptIds } from "./chat.ts";

Deno.test("chatPromptIds() wraps a user turn in the model's template with the generation prompt", async () => {
  const { tokenizer, config } = await tinyModel();
  const ids = chatPromptIds(tokenizer, "Explain caching.", { system: "Be brief." });
  assertEquals(ids[0], config.bosTokenId);
  const text = tokenizer.decode(ids, { skip_special_tokens: true });
  // The tiny preset's template writes `role: content` lines and opens the assistant's turn.
  assertEquals(text, "system: Be brief.\nuser: Explain caching.\nassistant: ");
});

Deno.test("chatPromptIds() without a chat template names the missing field", async () => {
  const { tokenizer } = await tinyModel();
  const bare = Object.create(tokenizer, { chat_template: { value: null } });
  const error = assertThrows(() => chatPromptIds(bare, "hi"), RangeError, "'chat_template'");
  assert(!error.message.includes("\n"));
});
