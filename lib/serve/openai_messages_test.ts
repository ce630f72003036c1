import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { withTimeout } from "../testing/timeout.ts";
import { startTestServer } from "./_test_server.ts";

Deno.test("chat messages: a key other than role and content, or another role, is a 400 naming it (official openai client)", async () => {
  const dir = await Deno.makeTempDir();
  await withTimeout("the service's chat route", 3 * 60_000, async (signal) => {
    const server = await startTestServer(join(dir, "history.sqlite"));
    signal.addEventListener("abort", () => server.kill9());
    const client = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: "not-needed",
      maxRetries: 0,
      timeout: 60_000,
    });
    const hi = { role: "user" as const, content: "Hi" };
    // deno-lint-ignore no-explicit-any
    const refused = async (messages: any[], param: string) => {
      await assert.rejects(
        client.chat.completions.create({ model: "preset:tiny", messages, max_tokens: 2 }),
        (e: unknown) => {
          assert(e instanceof OpenAI.BadRequestError, String(e));
          assert.equal(e.status, 400);
          assert.equal(e.param, param, e.message);
          assert(e.message.includes(`'${param}'`), e.message);
          return true;
        },
      );
    };
    try {
      await refused([hi, { role: "user", content: "x", name: "bob" }], "messages[1].name");
      await refused([
        hi,
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
        },
      ], "messages[1].tool_calls");
      await refused([hi, { role: "tool", content: "4", tool_call_id: "c1" }], "messages[1].role");
      await refused([{ ...hi, tool_call_id: "c1" }], "messages[0].tool_call_id");
      await refused([{ role: "function", content: "4", name: "f" }], "messages[0].role");
      await refused(
        [{ role: "user", content: [{ type: "text", text: "Hi", cache_control: {} }] }],
        "messages[0].content[0].cache_control",
      );
      await refused(
        [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:," } }] }],
        "messages[0].content[0]",
      );
      // role and content, content as a string or text parts, are served.
      const answer = await client.chat.completions.create({
        model: "preset:tiny",
        messages: [
          { role: "system", content: [{ type: "text", text: "Be brief." }] },
          {
            role: "user",
            content: [{ type: "text", text: "Hi " }, { type: "text", text: "there" }],
          },
        ],
        max_tokens: 2,
        temperature: 0,
      });
      assert.equal(answer.object, "chat.completion");
      assert(answer.usage!.completion_tokens >= 1);
      // An answer's message goes back as it came (`refusal: null` says nothing).
      const next = await client.chat.completions.create({
        model: "preset:tiny",
        messages: [hi, answer.choices[0]!.message, { role: "user", content: "And?" }],
        max_tokens: 2,
      });
      assert.equal(next.object, "chat.completion");
      await refused([hi, { ...answer.choices[0]!.message, refusal: "no" }], "messages[1].refusal");
    } finally {
      await server.stop();
    }
  });
});
