/**
 * Chat templates: the model's own `chat_template` (Jinja from `tokenizer_config.json`, rendered
 * by transformers.js `apply_chat_template`), or a built-in template for models without one —
 * Llama-3, ChatML (Qwen) and Phi-3 — written here as Jinja and rendered by the same
 * transformers.js call, so every template goes through one code path.
 *
 * Reference formats (one system, one user message, generation prompt on):
 * - `llama3`: `<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>`
 *   `<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`
 *   (contents trimmed, as Meta's template does).
 * - `chatml`: `<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n`
 *   (Qwen2's template adds a default system message when there is none; this one does not).
 * - `phi3`: `<|system|>\nS<|end|>\n<|user|>\nU<|end|>\n<|assistant|>\n` (Phi-3.5's layout).
 *
 * @module
 */
import type { Tokenizer } from "../engine/resolve.ts";

/** Template names: `model` is the tokenizer's own, `auto` the model's own else `llama3`. */
export const CHAT_TEMPLATE_NAMES = ["auto", "model", "llama3", "chatml", "phi3"] as const;

/** One of {@linkcode CHAT_TEMPLATE_NAMES}. */
export type ChatTemplateName = typeof CHAT_TEMPLATE_NAMES[number];

/** A chat message. */
export interface ChatMessage {
  /** `system`, `user` or `assistant`. */
  role: "system" | "user" | "assistant";
  /** The text. */
  content: string;
}

/** The built-in templates as Jinja (written for this project from the published formats). */
export const BUILTIN_CHAT_TEMPLATES: Readonly<Record<"llama3" | "chatml" | "phi3", string>> = Object
  .freeze({
    llama3: "{{ '<|begin_of_text|>' }}{% for message in messages %}" +
      "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + " +
      "(message['content'] | trim) + '<|eot_id|>' }}{% endfor %}" +
      "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    chatml: "{% for message in messages %}" +
      "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    phi3: "{% for message in messages %}" +
      "{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}" +
      "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
  });

/**
 * Checks a template name.
 *
 * @param name The name as given (e.g. from a flag).
 * @returns The name, typed.
 * @throws {RangeError} naming the known templates.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatTemplateName } from "./templates.ts";
 * assert.equal(chatTemplateName("chatml"), "chatml");
 * assert.throws(() => chatTemplateName("vicuna"), /known: auto, model/);
 * ```
 */
export function chatTemplateName(name: string): ChatTemplateName {
  if (!(CHAT_TEMPLATE_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(
      `Unknown chat template '${name}' (known: ${CHAT_TEMPLATE_NAMES.join(", ")})`,
    );
  }
  return name as ChatTemplateName;
}

/**
 * Which template a name means for a tokenizer: `auto` is the model's own when it has one, else
 * `llama3`.
 *
 * @param tokenizer The model's tokenizer.
 * @param name A template name.
 * @returns `model`, `llama3`, `chatml` or `phi3`.
 * @throws {RangeError} when `model` is asked for and the tokenizer has no `chat_template`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveChatTemplate } from "./templates.ts";
 * assert.equal(resolveChatTemplate({ chat_template: null }, "auto"), "llama3");
 * assert.equal(resolveChatTemplate({ chat_template: "{{ x }}" }, "auto"), "model");
 * ```
 */
export function resolveChatTemplate(
  tokenizer: Pick<Tokenizer, "chat_template">,
  name: ChatTemplateName,
): Exclude<ChatTemplateName, "auto"> {
  const own = Boolean(tokenizer.chat_template);
  if (name === "auto") return own ? "model" : "llama3";
  if (name === "model" && !own) {
    throw new RangeError(
      "Cannot apply the model's chat template: the tokenizer has none ('chat_template'); use llama3, chatml or phi3",
    );
  }
  return name;
}

/** Options of {@linkcode renderChat} and {@linkcode chatIds}. */
export interface RenderChatOptions {
  /** Template. @default "auto" */
  template?: ChatTemplateName;
  /** End with the assistant's turn opener. @default true */
  addGenerationPrompt?: boolean;
}

/**
 * Renders messages to text through a chat template (transformers.js `apply_chat_template`).
 *
 * @param tokenizer The model's tokenizer.
 * @param messages The conversation.
 * @param options Template and generation prompt.
 * @returns The prompt text.
 * @throws {RangeError} as {@linkcode resolveChatTemplate}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderChat } from "./templates.ts";
 * import { resolveModel } from "../engine/resolve.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * const text = renderChat(tokenizer, [{ role: "user", content: "Hi" }], { template: "chatml" });
 * assert.equal(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
 * ```
 */
export function renderChat(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  options: RenderChatOptions = {},
): string {
  return tokenizer.apply_chat_template([...messages], {
    ...templateOption(tokenizer, options.template ?? "auto"),
    add_generation_prompt: options.addGenerationPrompt ?? true,
    tokenize: false,
  }) as unknown as string;
}

/**
 * Token ids of messages through a chat template: the rendered text tokenized without adding
 * special tokens (the template writes them), as `apply_chat_template(..., tokenize=True)` does.
 *
 * @param tokenizer The model's tokenizer.
 * @param messages The conversation.
 * @param options Template and generation prompt.
 * @returns The ids.
 * @throws {RangeError} as {@linkcode resolveChatTemplate}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatIds, renderChat } from "./templates.ts";
 * import { resolveModel } from "../engine/resolve.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * const chat = [{ role: "user" as const, content: "Why cache?" }];
 * const text = renderChat(tokenizer, chat, { template: "phi3" });
 * assert.equal(text, "<|user|>\nWhy cache?<|end|>\n<|assistant|>\n");
 * assert.deepEqual(chatIds(tokenizer, chat, { template: "phi3" }),
 *   tokenizer.encode(text, { add_special_tokens: false }));
 * ```
 */
export function chatIds(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  options: RenderChatOptions = {},
): number[] {
  const ids = tokenizer.apply_chat_template([...messages], {
    ...templateOption(tokenizer, options.template ?? "auto"),
    add_generation_prompt: options.addGenerationPrompt ?? true,
    tokenize: true,
    return_tensor: false,
    return_dict: false,
  });
  return Array.from(ids as unknown as ArrayLike<number>, Number);
}

function templateOption(
  tokenizer: Tokenizer,
  name: ChatTemplateName,
): { chat_template?: string } {
  const resolved = resolveChatTemplate(tokenizer, name);
  return resolved === "model" ? {} : { chat_template: BUILTIN_CHAT_TEMPLATES[resolved] };
}
