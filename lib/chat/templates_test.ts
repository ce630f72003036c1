import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { tinyDecoder } from "./_fixture.ts";
import { chatIds, type ChatMessage, renderChat } from "./templates.ts";

const CHAT: ChatMessage[] = [
  { role: "system", content: "You are brief." },
  { role: "user", content: "What is a KV cache?" },
  { role: "assistant", content: "Stored keys and values." },
  { role: "user", content: "Why reuse it?" },
];

// The published formats, written out by hand.
const REFERENCE = {
  llama3: "<|begin_of_text|>" +
    "<|start_header_id|>system<|end_header_id|>\n\nYou are brief.<|eot_id|>" +
    "<|start_header_id|>user<|end_header_id|>\n\nWhat is a KV cache?<|eot_id|>" +
    "<|start_header_id|>assistant<|end_header_id|>\n\nStored keys and values.<|eot_id|>" +
    "<|start_header_id|>user<|end_header_id|>\n\nWhy reuse it?<|eot_id|>" +
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
  chatml: "<|im_start|>system\nYou are brief.<|im_end|>\n" +
    "<|im_start|>user\nWhat is a KV cache?<|im_end|>\n" +
    "<|im_start|>assistant\nStored keys and values.<|im_end|>\n" +
    "<|im_start|>user\nWhy reuse it?<|im_end|>\n" +
    "<|im_start|>assistant\n",
  phi3: "<|system|>\nYou are brief.<|end|>\n" +
    "<|user|>\nWhat is a KV cache?<|end|>\n" +
    "<|assistant|>\nStored keys and values.<|end|>\n" +
    "<|user|>\nWhy reuse it?<|end|>\n" +
    "<|assistant|>\n",
} as const;

Deno.test("renderChat() built-in templates equal the Llama-3, ChatML and Phi-3 reference formats", async () => {
  const { tokenizer } = (await tinyDecoder()).resolved;
  for (const [name, expected] of Object.entries(REFERENCE)) {
    const template = name as keyof typeof REFERENCE;
    assertEquals(renderChat(tokenizer, CHAT, { template }), expected, name);
    // Without the generation prompt the text ends after the last user message.
    const closed = renderChat(tokenizer, CHAT, { template, addGenerationPrompt: false });
    assert(expected.startsWith(closed) && closed.length < expected.length, name);
  }
  // Llama-3 trims contents, as Meta's template does.
  assertEquals(
    renderChat(tokenizer, [{ role: "user", content: "  hi \n" }], { template: "llama3" }),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
  );
});

Deno.test("renderChat() applies the model's own chat_template through transformers.js", async () => {
  const { tokenizer } = (await tinyDecoder()).resolved;
  // The tiny preset's template: BOS, then `role: content` lines, then `assistant: `.
  const expected = "<|begin_of_text|>system: You are brief.\nuser: What is a KV cache?\n" +
    "assistant: Stored keys and values.\nuser: Why reuse it?\nassistant: ";
  assertEquals(renderChat(tokenizer, CHAT, { template: "model" }), expected);
  assertEquals(renderChat(tokenizer, CHAT), expected); // auto = the model's own
  const ids = chatIds(tokenizer, CHAT);
  assertEquals(ids[0], tokenizer.bos_token_id); // the template's BOS is one special token
  assertEquals(ids, tokenizer.encode(expected, { add_special_tokens: false }));
});

Deno.test("a model without chat_template gets llama3 on auto and a named error on model", async () => {
  const { tokenizer } = (await tinyDecoder()).resolved;
  const bare = Object.create(tokenizer, { chat_template: { value: null } });
  assertEquals(renderChat(bare, CHAT), REFERENCE.llama3);
  assertThrows(() => renderChat(bare, CHAT, { template: "model" }), RangeError, "'chat_template'");
});
