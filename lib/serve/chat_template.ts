/**
 * Chat templates of the OpenAI-compatible chat route, chosen the way serving engines do:
 *
 * 1. a template given for that model (`--chat-template MODEL=FILE`),
 * 2. else the model's own (`chat_template` in its `tokenizer_config.json`),
 * 3. else the server's template for models without one (`--chat-template FILE`),
 * 4. else none: the chat route answers 400 saying so (the completions route still works).
 *
 * Templates are Jinja, rendered by transformers.js `apply_chat_template` with the tokenizer's
 * special tokens (`bos_token`, `eos_token`) and `add_generation_prompt`.
 *
 * @module
 */
import type { Tokenizer } from "../engine/resolve.ts";
import { HttpError } from "./http.ts";

/** Templates given to the server. */
export interface ChatTemplates {
  /** For models without a template of their own (`--chat-template FILE`). */
  fallback: string | null;
  /** Per model id (`--chat-template MODEL=FILE`), overriding the model's own. */
  byModel: Record<string, string>;
}

/** No templates given. */
export const NO_CHAT_TEMPLATES: ChatTemplates = Object.freeze({
  fallback: null,
  byModel: Object.freeze({}),
});

/**
 * Reads `--chat-template` values: `FILE` (for every model without a template) or `MODEL=FILE`
 * (for one model, overriding its own).
 *
 * @param specs The flag's values, in order.
 * @returns The templates.
 * @throws {RangeError} naming the flag and file: unreadable, empty, or given twice.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadChatTemplates } from "./chat_template.ts";
 * const file = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(file, "{{ messages[0]['content'] }}");
 * const t = loadChatTemplates([file, `models/x=${file}`]);
 * assert.equal(t.fallback, "{{ messages[0]['content'] }}");
 * assert.equal(t.byModel["models/x"], t.fallback);
 * assert.throws(() => loadChatTemplates(["/nonexistent.jinja"]), /'--chat-template'/);
 * ```
 */
export function loadChatTemplates(specs: readonly string[]): ChatTemplates {
  let fallback: string | null = null;
  const byModel: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const [model, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [null, spec];
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new RangeError(`'--chat-template' ${file}: cannot read it (${reason})`);
    }
    if (text.trim() === "") throw new RangeError(`'--chat-template' ${file} is empty`);
    if (model === null) {
      if (fallback !== null) {
        throw new RangeError(
          `'--chat-template' ${file}: a template for every model was already given (use MODEL=FILE for one model)`,
        );
      }
      fallback = text;
    } else {
      if (Object.hasOwn(byModel, model)) {
        throw new RangeError(`'--chat-template' ${spec}: '${model}' already has a template`);
      }
      byModel[model] = text;
    }
  }
  return { fallback, byModel };
}

/**
 * The template a model's chats use.
 *
 * @param modelId The catalogue id (`models/wikitext-llama`, `preset:tiny`), without dtype.
 * @param own The model's own template (`tokenizer.chat_template`: a string, or named templates,
 * whose `default` is used), if any.
 * @param templates The server's templates.
 * @returns The Jinja text, or `null` when there is none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatTemplateFor } from "./chat_template.ts";
 * const t = { fallback: "F", byModel: { "models/x": "X" } };
 * assert.equal(chatTemplateFor("models/x", "OWN", t), "X");
 * assert.equal(chatTemplateFor("models/y", "OWN", t), "OWN");
 * assert.equal(chatTemplateFor("models/y", null, t), "F");
 * assert.equal(chatTemplateFor("models/y", null, { fallback: null, byModel: {} }), null);
 * ```
 */
export function chatTemplateFor(
  modelId: string,
  own: unknown,
  templates: ChatTemplates,
): string | null {
  if (Object.hasOwn(templates.byModel, modelId)) return templates.byModel[modelId]!;
  if (typeof own === "string" && own !== "") return own;
  if (typeof own === "object" && own !== null) {
    const named = (own as Record<string, unknown>).default;
    if (typeof named === "string" && named !== "") return named;
  }
  return templates.fallback;
}

/**
 * The prompt ids of a chat through the model's template ({@linkcode chatTemplateFor}), as
 * `apply_chat_template(..., tokenize=True)` makes them.
 *
 * @param modelId The catalogue id.
 * @param tokenizer The model's tokenizer.
 * @param messages The conversation.
 * @param templates The server's templates.
 * @returns The ids.
 * @throws {HttpError} 400 `chat_template_missing` (param `model`) when the model has no template;
 * 400 naming `messages` when the template does not render them.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatPromptIds } from "./chat_template.ts";
 * import { resolveModel } from "../engine/resolve.ts";
 * const { tokenizer } = await resolveModel("preset:tiny");
 * const none = { fallback: null, byModel: { "preset:tiny": "{{ messages[0]['content'] }}" } };
 * const ids = chatPromptIds("preset:tiny", tokenizer, [{ role: "user", content: "Hi" }], none);
 * assert.deepEqual(ids, tokenizer.encode("Hi", { add_special_tokens: false }));
 * const bare = Object.create(tokenizer, { chat_template: { value: null } });
 * assert.throws(
 *   () => chatPromptIds("x", bare, [{ role: "user", content: "Hi" }], { fallback: null, byModel: {} }),
 *   { status: 400, code: "chat_template_missing" },
 * );
 * ```
 */
export function chatPromptIds(
  modelId: string,
  tokenizer: Tokenizer,
  messages: readonly { role: string; content: string }[],
  templates: ChatTemplates,
): number[] {
  const template = chatTemplateFor(modelId, tokenizer.chat_template, templates);
  if (template === null) {
    throw new HttpError(
      400,
      `'model': ${modelId} has no chat template (its tokenizer_config.json has no 'chat_template'); start the server with --chat-template FILE (or ${modelId}=FILE), or use /v1/completions`,
      "model",
      "chat_template_missing",
    );
  }
  try {
    return Array.from(
      tokenizer.apply_chat_template([...messages] as never, {
        chat_template: template,
        add_generation_prompt: true,
        tokenize: true,
        return_tensor: false,
        return_dict: false,
      }) as unknown as ArrayLike<number>,
      Number,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new HttpError(
      400,
      `'messages': the chat template of ${modelId} did not render them: ${reason}`,
      "messages",
    );
  }
}
