/**
 * Chat prompts through the model's own chat template (transformers.js `apply_chat_template`,
 * Jinja from `tokenizer_config.json`), for instruct models run on real questions. Whole
 * conversations and the built-in Llama-3 / ChatML / Phi-3 templates for models without one are in
 * `lib/chat/templates.ts`.
 *
 * @module
 */
import type { Tokenizer } from "./resolve.ts";

/**
 * Token ids of one user turn wrapped in the model's chat template, ending with the generation
 * prompt (the assistant's turn opener).
 *
 * @param tokenizer The model's tokenizer.
 * @param text The user's message.
 * @param options `system`: an optional system message first.
 * @returns The ids, special tokens included as the template writes them.
 * @throws {RangeError} when the tokenizer has no chat template.
 * @example
 * ```ts ignore
 * import { chatPromptIds, resolveModel } from "./mod.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * console.log(tokenizer.decode(chatPromptIds(tokenizer, "Explain KV caching.")));
 * ```
 */
export function chatPromptIds(
  tokenizer: Tokenizer,
  text: string,
  options: { system?: string } = {},
): number[] {
  if (!tokenizer.chat_template) {
    throw new RangeError("Cannot apply a chat template: the tokenizer has none ('chat_template')");
  }
  const messages = [
    ...(options.system === undefined ? [] : [{ role: "system", content: options.system }]),
    { role: "user", content: text },
  ];
  const ids = tokenizer.apply_chat_template(messages, {
    add_generation_prompt: true,
    tokenize: true,
    return_tensor: false,
    return_dict: false,
  });
  return Array.from(ids as unknown as ArrayLike<number>, Number);
}
