/**
 * Parsers of single fields of OpenAI generation requests (`prompt`, `messages`, `logprobs`,
 * `top_logprobs`), each a 400 naming the field when it is wrong.
 *
 * @module
 */
import { HttpError } from "./http.ts";

/**
 * Throws a 400 naming the parameter.
 *
 * @param message One line.
 * @param param The field at fault.
 */
export function fail(message: string, param: string): never {
  throw new HttpError(400, message, param);
}

/** Most answers one request may ask for (`n`). */
export const MAX_N = 16;

/** Most prompts one completions request may hold. */
export const MAX_PROMPTS = 64;

/**
 * OpenAI's `prompt`: a string, a token-id array, or a list of either (one answer set each), as
 * lm-evaluation-harness sends `[[ids]]`.
 *
 * @param prompt The field.
 * @returns The prompts.
 * @throws {HttpError} 400 naming `prompt` (or `prompt[i]`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completionPrompts } from "./openai_fields.ts";
 * assert.deepEqual(completionPrompts([[0, 35, 70]]), [[0, 35, 70]]);
 * assert.deepEqual(completionPrompts([5]), [[5]]);
 * assert.deepEqual(completionPrompts(["a", [1]]), ["a", [1]]);
 * assert.throws(() => completionPrompts(["a", []]), /'prompt\[1\]'/);
 * ```
 */
export function completionPrompts(prompt: unknown): (string | number[])[] {
  const isIds = (p: unknown) =>
    Array.isArray(p) && p.length > 0 && p.every((t) => Number.isInteger(t) && t >= 0);
  const one = (p: unknown, field: string): string | number[] => {
    if (typeof p === "string" && p.length > 0) return p;
    if (isIds(p)) return p as number[];
    return fail(`'${field}' must be a non-empty string or token-id array`, field);
  };
  if (typeof prompt === "string" || isIds(prompt)) return [one(prompt, "prompt")];
  if (Array.isArray(prompt) && prompt.length > 0) {
    if (prompt.length > MAX_PROMPTS) {
      fail(`'prompt' holds ${prompt.length} prompts; at most ${MAX_PROMPTS} per request`, "prompt");
    }
    return prompt.map((p, i) => one(p, `prompt[${i}]`));
  }
  return fail(
    "'prompt' must be a non-empty string, a token-id array, or a list of them",
    "prompt",
  );
}

/**
 * Completions' `logprobs`: an integer 0..5 (top tokens listed per position), or null.
 *
 * @param body The request.
 * @returns The count, or `null` for none.
 * @throws {HttpError} 400 naming `logprobs`.
 */
export function completionLogprobs(body: Record<string, unknown>): number | null {
  const v = body.logprobs;
  if (v === undefined || v === null) return null;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 5) {
    fail(`'logprobs' must be an integer in 0..5, got ${JSON.stringify(v)}`, "logprobs");
  }
  return v as number;
}

/**
 * Chat's `logprobs` (boolean) and `top_logprobs` (0..20, only with `logprobs: true`).
 *
 * @param body The request.
 * @returns The top count (0 without `top_logprobs`), or `null` when `logprobs` is off.
 * @throws {HttpError} 400 naming `logprobs` or `top_logprobs`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatLogprobs } from "./openai_fields.ts";
 * assert.equal(chatLogprobs({ logprobs: true, top_logprobs: 3 }), 3);
 * assert.equal(chatLogprobs({}), null);
 * assert.throws(() => chatLogprobs({ top_logprobs: 3 }), /needs 'logprobs': true/);
 * ```
 */
export function chatLogprobs(body: Record<string, unknown>): number | null {
  const on = body.logprobs;
  const top = body.top_logprobs;
  if (on !== undefined && on !== null && typeof on !== "boolean") {
    fail(`'logprobs' must be true or false, got ${JSON.stringify(on)}`, "logprobs");
  }
  if (top !== undefined && top !== null) {
    if (!Number.isInteger(top) || (top as number) < 0 || (top as number) > 20) {
      fail(
        `'top_logprobs' must be an integer in 0..20, got ${JSON.stringify(top)}`,
        "top_logprobs",
      );
    }
    if (on !== true) fail("'top_logprobs' needs 'logprobs': true", "top_logprobs");
  }
  return on === true ? (top as number | null | undefined) ?? 0 : null;
}

/** Roles a chat message may have (`developer` is read as `system`). */
const ROLES = ["system", "developer", "user", "assistant"];

/**
 * Chat `messages`: roles system, developer (as system), user, assistant; content a string or text
 * parts `{type: "text", text}` (joined). Any other key of a message or a part (`name`,
 * `tool_calls`, `tool_call_id`, …) is refused, not ignored: it would change the answer OpenAI gives.
 * A key that says nothing (`null`, or an empty `tool_calls`) is accepted, so an answer's message
 * (`{"role": "assistant", "content": …, "refusal": null}`) can be sent back as it came.
 *
 * @param messages The field.
 * @returns The messages.
 * @throws {HttpError} 400 naming the message and field (`messages[1].name`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatMessages } from "./openai_fields.ts";
 * const parts = [{ type: "text", text: "Hi " }, { type: "text", text: "there" }];
 * assert.deepEqual(chatMessages([{ role: "developer", content: "Be brief." }, { role: "user", content: parts }]), [
 *   { role: "system", content: "Be brief." },
 *   { role: "user", content: "Hi there" },
 * ]);
 * assert.throws(
 *   () => chatMessages([{ role: "user", content: "Hi" }, { role: "user", content: "x", name: "bob" }]),
 *   { status: 400, param: "messages[1].name" },
 * );
 * assert.throws(() => chatMessages([{ role: "tool", content: "4" }]), { param: "messages[0].role" });
 * assert.equal(chatMessages([{ role: "assistant", content: "4", refusal: null, tool_calls: [] }]).length, 1);
 * ```
 */
export function chatMessages(messages: unknown): { role: string; content: string }[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    fail("'messages' must be a non-empty array", "messages");
  }
  return messages.map((m, i) => {
    const field = `messages[${i}]`;
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      fail(`'${field}' must be an object`, field);
    }
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (!ROLES.includes(role as string)) {
      fail(
        `'${field}.role' must be system, developer, user or assistant, got ${
          JSON.stringify(role) ?? "nothing"
        }`,
        `${field}.role`,
      );
    }
    onlyKeys(m, ["role", "content"], field);
    let text: string;
    if (typeof content === "string") text = content;
    else if (Array.isArray(content)) {
      text = content.map((part, j) => {
        const at = `${field}.content[${j}]`;
        if (part?.type !== "text" || typeof part.text !== "string") {
          fail(`'${at}' must be a text part {"type": "text", "text": "…"}`, at);
        }
        onlyKeys(part, ["type", "text"], at);
        return part.text as string;
      }).join("");
    } else fail(`'${field}.content' must be a string or text parts`, `${field}.content`);
    return { role: role === "developer" ? "system" : role as string, content: text };
  });
}

/**
 * Throws a 400 naming `field.key` for the first key of `object` not in `allowed` that says
 * something (not `null`, not an empty list).
 */
function onlyKeys(object: object, allowed: readonly string[], field: string): void {
  for (const [key, value] of Object.entries(object)) {
    const empty = value === null || (Array.isArray(value) && value.length === 0);
    if (!allowed.includes(key) && !empty) {
      fail(
        `'${field}.${key}' is not supported by this server (only ${allowed.join(" and ")})`,
        `${field}.${key}`,
      );
    }
  }
}
