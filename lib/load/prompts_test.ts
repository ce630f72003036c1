import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { jsonlPrompts, syntheticPrompts } from "./prompts.ts";
import { resolveModel } from "../engine/resolve.ts";

Deno.test("syntheticPrompts() with the tiny model's tokenizer hits exact token counts, each prompt unique", async () => {
  const { tokenizer } = await resolveModel("preset:tiny");
  for (const n of [16, 64, 200]) {
    const prompts = syntheticPrompts(5, { inputTokens: n, outputTokens: 4, tokenizer });
    for (const p of prompts) {
      assertEquals(p.tokens, n);
      assertEquals(tokenizer.encode(p.text).length, n);
    }
    // Unique from the first tokens on (the request number leads): no shared cacheable prefix
    const heads = prompts.map((p) => tokenizer.encode(p.text).slice(0, 4).join(","));
    assertEquals(new Set(heads).size, 5);
  }
});

Deno.test("syntheticPrompts() and jsonlPrompts() reject bad counts and lines, naming them", () => {
  assertThrows(
    () => syntheticPrompts(1, { inputTokens: 2, outputTokens: 4 }),
    RangeError,
    "'input-tokens'",
  );
  assertThrows(
    () => syntheticPrompts(1, { inputTokens: 20, outputTokens: 0 }),
    RangeError,
    "'output-tokens'",
  );
  assertThrows(() => jsonlPrompts("nope\n", { outputTokens: 1 }), SyntaxError, "line 1");
  assertThrows(
    () => jsonlPrompts('{"prompt":"a"}\n{"text":"b"}\n', { outputTokens: 1 }),
    SyntaxError,
    "line 2: 'prompt'",
  );
  assertThrows(
    () => jsonlPrompts('{"prompt":"a","output_tokens":-1}', { outputTokens: 1 }),
    SyntaxError,
    "'output_tokens'",
  );
  assertThrows(() => jsonlPrompts("\n\n", { outputTokens: 1 }), SyntaxError, "no prompt");
  assert(jsonlPrompts('{"prompt":"a"}', { outputTokens: 2 })[0]!.tokens === null);
});
