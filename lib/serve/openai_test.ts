import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { startTestServer } from "./_test_server.ts";

Deno.test("OpenAI-compatible routes: the official openai client streams a chat completion; the wire format matches OpenAI's", async (t) => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "not-needed", maxRetries: 0 });
  const messages = [{ role: "user" as const, content: "Explain the KV cache." }];
  try {
    let streamed = "";
    await t.step("client.chat.completions.create({stream: true}) with include_usage", async () => {
      const stream = await client.chat.completions.create({
        model: "preset:tiny",
        messages,
        max_tokens: 8,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert(chunks.length >= 4, `${chunks.length} chunks`); // role, content…, finish, usage
      assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
      const finish = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean);
      assert.equal(finish.length, 1);
      assert(finish[0] === "length" || finish[0] === "stop");
      streamed = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
      const last = chunks.at(-1)!;
      assert.deepEqual(last.choices, []);
      assert(last.usage && last.usage.prompt_tokens > 0);
      assert(last.usage.completion_tokens >= 1 && last.usage.completion_tokens <= 8);
      assert.equal(
        last.usage.total_tokens,
        last.usage.prompt_tokens + last.usage.completion_tokens,
      );
      assert(chunks.slice(0, -1).every((c) => c.usage === null));
    });

    await t.step("greedy: the non-streamed answer is the streamed text", async () => {
      const answer = await client.chat.completions.create({
        model: "preset:tiny",
        messages,
        max_tokens: 8,
        temperature: 0,
      });
      assert.equal(answer.object, "chat.completion");
      assert.equal(answer.choices[0]!.message.content, streamed);
    });

    await t.step(
      "completions with ignore_eos make exactly max_tokens; the stream ends with [DONE]",
      async () => {
        const r = await fetch(`${server.url}/v1/completions`, {
          method: "POST",
          body: JSON.stringify({
            model: "preset:tiny:q4",
            prompt: "Once upon a time",
            max_tokens: 6,
            ignore_eos: true,
            stream: true,
            stream_options: { include_usage: true },
          }),
        });
        assert.equal(r.headers.get("content-type"), "text/event-stream; charset=utf-8");
        const events = (await r.text()).split("\n\n").filter(Boolean);
        assert(events.every((e) => e.startsWith("data: ")));
        assert.equal(events.at(-1), "data: [DONE]");
        const usage = JSON.parse(events.at(-2)!.slice(6));
        assert.equal(usage.object, "text_completion");
        assert.equal(usage.usage.completion_tokens, 6);
        assert.equal(usage.model, "preset:tiny:q4");
      },
    );

    await t.step("bad requests are 400 naming the parameter, as OpenAI's API answers", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ model: "preset:tiny", messages, max_tokens: 0 }, "max_tokens"],
        [{ model: "preset:tiny", messages, n: 99 }, "n"],
        [{ model: "preset:tiny", messages, presence_penalty: 0.5 }, "presence_penalty"],
        [{ model: "preset:tiny", messages, top_logprobs: 2 }, "top_logprobs"],
        [{ model: "preset:tiny", messages, logprobs: true, top_logprobs: 21 }, "top_logprobs"],
        [{ model: "preset:tiny", messages, echo: true }, "echo"],
        [{ model: "preset:tiny", messages, store: true }, "store"],
        [{ model: "preset:tiny", messages, colour: "red" }, "colour"],
        [{ model: "preset:tiny", messages: [] }, "messages"],
        [{ model: "preset:tiny", messages, max_tokens: 600 }, "max_tokens"],
        [
          { model: "preset:tiny", messages, stream_options: { include_usage: true } },
          "stream_options",
        ],
      ];
      for (const [body, param] of cases) {
        const r = await fetch(`${server.url}/v1/chat/completions`, {
          method: "POST",
          body: JSON.stringify(body),
        });
        const json = await r.json();
        assert.equal(r.status, 400, JSON.stringify(json));
        assert.equal(json.error.param, param, json.error.message);
      }
      await assert.rejects(
        client.chat.completions.create({ model: "nope", messages }),
        (e: unknown) =>
          e instanceof OpenAI.NotFoundError && e.code === "model_not_found" && e.param === "model",
      );
    });

    await t.step(
      "concurrent streams interleave and each gets the answer it would get alone",
      async () => {
        const ask = (content: string) =>
          client.chat.completions.create({
            model: "preset:tiny",
            messages: [{ role: "user", content }],
            max_tokens: 12,
            temperature: 0,
            // @ts-ignore: vLLM's extension, sent as is by the client
            ignore_eos: true,
          });
        const alone = await Promise.all(
          ["one", "two"].map(async (c) => (await ask(c)).choices[0]!.message.content),
        );
        const together = await Promise.all(
          ["one", "two", "one", "two"].map(async (c) => (await ask(c)).choices[0]!.message.content),
        );
        assert.deepEqual(together, [...alone, ...alone]);
      },
    );

    await t.step(
      "a client that goes away mid-stream does not disturb the next request",
      async () => {
        const abort = new AbortController();
        const r = await fetch(`${server.url}/v1/completions`, {
          method: "POST",
          body: JSON.stringify({
            model: "preset:tiny",
            prompt: "x",
            max_tokens: 400,
            ignore_eos: true,
            stream: true,
          }),
          signal: abort.signal,
        });
        const reader = r.body!.getReader();
        await reader.read();
        abort.abort();
        await reader.cancel().catch(() => {});
        const next = await client.completions.create({
          model: "preset:tiny",
          prompt: "x",
          max_tokens: 4,
        });
        assert(next.usage!.completion_tokens >= 1);
        const health = await (await fetch(`${server.url}/health`)).json();
        assert.equal(health.status, "ok");
      },
    );

    await t.step("GET /v1/models lists each model and model:dtype", async () => {
      const ids = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert(ids.includes("preset:tiny") && ids.includes("preset:tiny:q4"));
    });
  } finally {
    await server.stop();
  }
});
