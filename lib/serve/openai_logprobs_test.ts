import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { startTestServer } from "./_test_server.ts";

const TIMEOUT_MS = 120_000;

/** vLLM's extension, sent as is by the openai client. */
const IGNORE_EOS = {} as Record<string, never>;
Object.assign(IGNORE_EOS, { ignore_eos: true });

/** Fails the test after `ms` instead of letting a hung request stall the suite. */
function withTimeout<T>(work: Promise<T>, ms = TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function post(url: string, path: string, body: unknown) {
  const r = await fetch(`${url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { status: r.status, json: await r.json() };
}

Deno.test("OpenAI routes: logprobs and echo in OpenAI's wire formats, lm-evaluation-harness's request shape", async (t) => {
  const dir = await Deno.makeTempDir();
  const server = await startTestServer(join(dir, "history.sqlite"));
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: "not-needed",
    maxRetries: 0,
    timeout: TIMEOUT_MS,
  });
  const ids = [5, 17, 42, 7, 99, 3];
  try {
    await withTimeout((async () => {
      await t.step(
        "lm-eval's {prompt: [[ids]], max_tokens: 1, logprobs: 1, echo: true}",
        async () => {
          const r = await client.completions.create({
            model: "preset:tiny",
            prompt: [ids],
            max_tokens: 1,
            logprobs: 1,
            echo: true,
            temperature: 0,
          });
          const lp = r.choices[0]!.logprobs!;
          assert.equal(lp.tokens!.length, ids.length + 1);
          assert.equal(lp.token_logprobs![0], null);
          assert.equal(lp.top_logprobs![0], null);
          for (let i = 1; i < lp.tokens!.length; i++) {
            const p = lp.token_logprobs![i]!;
            assert(p <= 0 && Number.isFinite(p), `token ${i}: ${p}`);
            const top = lp.top_logprobs![i]!;
            // the top token, plus the chosen one when it is not the top
            assert(Object.keys(top).length >= 1 && Object.keys(top).length <= 2);
            assert.equal(top[lp.tokens![i]!], p);
            assert(Math.max(...Object.values(top)) >= p);
          }
          // greedy: the generated token is the most likely one
          const last = lp.top_logprobs!.at(-1)!;
          assert.equal(Math.max(...Object.values(last)), lp.token_logprobs!.at(-1));
          assert.equal(lp.text_offset![0], 0);
          lp.text_offset!.slice(1).forEach((o, i) =>
            assert.equal(o, lp.text_offset![i]! + lp.tokens![i]!.length)
          );
          assert.equal(r.choices[0]!.text, lp.tokens!.join(""));
          assert.equal(r.usage!.prompt_tokens, ids.length);
          assert.equal(r.usage!.completion_tokens, 1);
        },
      );

      await t.step(
        "echo with max_tokens 0 scores the prompt only; without echo 0 is a 400",
        async () => {
          const r = await post(server.url, "/v1/completions", {
            model: "preset:tiny",
            prompt: ids,
            max_tokens: 0,
            logprobs: 0,
            echo: true,
          });
          assert.equal(r.status, 200, JSON.stringify(r.json));
          const lp = r.json.choices[0].logprobs;
          assert.equal(lp.tokens.length, ids.length);
          assert.equal(r.json.usage.completion_tokens, 0);
          // logprobs 0: each scored position lists the chosen token only
          assert(lp.top_logprobs.slice(1).every((d: object) => Object.keys(d).length === 1));
          const echoOnly = await post(server.url, "/v1/completions", {
            model: "preset:tiny",
            prompt: "Once upon a time",
            max_tokens: 3,
            echo: true,
            temperature: 0,
          });
          assert.equal(echoOnly.json.choices[0].logprobs, null);
          assert(echoOnly.json.choices[0].text.startsWith("Once upon a time"));
          assert(echoOnly.json.choices[0].text.length > "Once upon a time".length);
          const bad = await post(server.url, "/v1/completions", {
            model: "preset:tiny",
            prompt: ids,
            max_tokens: 0,
          });
          assert.equal(bad.status, 400);
          assert.equal(bad.json.error.param, "max_tokens");
          for (const [field, value] of [["logprobs", 6], ["logprobs", true], ["echo", "yes"]]) {
            const r = await post(server.url, "/v1/completions", {
              model: "preset:tiny",
              prompt: "Hi",
              [field as string]: value,
            });
            assert.equal(r.status, 400, `${field}: ${value}`);
            assert.equal(r.json.error.param, field);
          }
        },
      );

      await t.step(
        "the echoed scores equal a plain request's: same prompt, same numbers",
        async () => {
          const echoed = await client.completions.create({
            model: "preset:tiny",
            prompt: ids,
            max_tokens: 2,
            logprobs: 5,
            echo: true,
            temperature: 0,
          });
          const plain = await client.completions.create({
            model: "preset:tiny",
            prompt: ids,
            max_tokens: 2,
            logprobs: 5,
            temperature: 0,
          });
          const e = echoed.choices[0]!.logprobs!;
          const p = plain.choices[0]!.logprobs!;
          assert.deepEqual(e.token_logprobs!.slice(ids.length), p.token_logprobs);
          assert.deepEqual(e.tokens!.slice(ids.length), p.tokens);
          // up to 5 + 1 entries (tokens that decode alike share a key)
          assert(Object.keys(p.top_logprobs![0]!).length <= 6);
          // without echo, offsets start after the prompt text
          assert(p.text_offset![0]! > 0);
          assert.equal(p.text_offset![1], p.text_offset![0]! + p.tokens![0]!.length);
        },
      );

      await t.step(
        "chat logprobs / top_logprobs: content[] {token, logprob, bytes, top_logprobs[]}",
        async () => {
          const r = await client.chat.completions.create({
            model: "preset:tiny",
            messages: [{ role: "user", content: "Explain the KV cache." }],
            max_tokens: 6,
            temperature: 0,
            logprobs: true,
            top_logprobs: 3,
            ...IGNORE_EOS,
          });
          const content = r.choices[0]!.logprobs!.content!;
          assert.equal(content.length, r.usage!.completion_tokens);
          for (const c of content) {
            assert.deepEqual(c.bytes, [...new TextEncoder().encode(c.token)]);
            assert.equal(c.top_logprobs.length, 3);
            const values = c.top_logprobs.map((x) => x.logprob);
            assert.deepEqual(values, [...values].sort((a, b) => b - a));
            assert.equal(c.logprob, values[0]); // greedy takes the most likely
            assert.equal(c.token, c.top_logprobs[0]!.token);
          }
          const stream = await client.chat.completions.create({
            model: "preset:tiny",
            messages: [{ role: "user", content: "Explain the KV cache." }],
            max_tokens: 6,
            temperature: 0,
            logprobs: true,
            stream: true,
            ...IGNORE_EOS,
          });
          const streamed = [];
          for await (const chunk of stream) {
            for (const c of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(c);
          }
          assert.deepEqual(
            streamed.map((c) => [c.token, c.logprob]),
            content.map((c) => [c.token, c.logprob]),
          );
          assert(streamed.every((c) => c.top_logprobs.length === 0));
        },
      );

      await t.step(
        "sampling: the same seed gives the same text, n answers, temperature 0 is greedy",
        async () => {
          const ask = (extra: Record<string, unknown>) =>
            post(server.url, "/v1/completions", {
              model: "preset:tiny",
              prompt: "Once upon a time",
              max_tokens: 24,
              ignore_eos: true,
              ...extra,
            });
          const a = await ask({ temperature: 1, seed: 7 });
          const b = await ask({ temperature: 1, seed: 7 });
          const c = await ask({ temperature: 1, seed: 8 });
          assert.equal(a.json.choices[0].text, b.json.choices[0].text);
          assert.notEqual(a.json.choices[0].text, c.json.choices[0].text);
          const greedy = await ask({ temperature: 0, seed: 7 });
          const greedy2 = await ask({ temperature: 0, seed: 8 });
          assert.equal(greedy.json.choices[0].text, greedy2.json.choices[0].text);
          const topK1 = await ask({ temperature: 1.5, top_k: 1, seed: 9 });
          assert.equal(topK1.json.choices[0].text, greedy.json.choices[0].text);
          const n = await ask({ temperature: 1, seed: 7, n: 3 });
          assert.deepEqual(n.json.choices.map((x: { index: number }) => x.index), [0, 1, 2]);
          assert.equal(n.json.choices[0].text, a.json.choices[0].text); // choice 0 uses the seed
          assert.equal(new Set(n.json.choices.map((x: { text: string }) => x.text)).size, 3);
          assert.equal(n.json.usage.completion_tokens, 72);
          const twoPrompts = await ask({ prompt: ["Hello", [5, 6, 7]], n: 2, temperature: 0 });
          assert.equal(twoPrompts.json.choices.length, 4);
          assert.equal(twoPrompts.json.choices[0].text, twoPrompts.json.choices[1].text);
          for (const [field, value] of [["top_p", 0], ["top_k", -2], ["seed", 1.5], ["n", 0]]) {
            const r = await ask({ [field as string]: value });
            assert.equal(r.status, 400, `${field}: ${value}`);
            assert.equal(r.json.error.param, field);
          }
        },
      );

      await t.step("a chat without max_tokens gets what the context leaves", async () => {
        const long = "word ".repeat(400); // well over 512 - 256 tokens on preset:tiny
        const r = await client.chat.completions.create({
          model: "preset:tiny",
          messages: [{ role: "user", content: long }],
          temperature: 0,
          ...IGNORE_EOS,
        });
        const u = r.usage!;
        assert(u.prompt_tokens > 256 && u.prompt_tokens < 512, `${u.prompt_tokens}`);
        assert.equal(u.prompt_tokens + u.completion_tokens, 512);
      });

      await t.step("n streamed: every choice index streams and finishes once", async () => {
        const stream = await client.completions.create({
          model: "preset:tiny",
          prompt: "Once upon a time",
          max_tokens: 5,
          n: 2,
          seed: 1,
          stream: true,
          stream_options: { include_usage: true },
        });
        const finishes = new Map<number, number>();
        let usage = null;
        for await (const chunk of stream) {
          for (const c of chunk.choices) {
            if (c.finish_reason) finishes.set(c.index, (finishes.get(c.index) ?? 0) + 1);
          }
          if (chunk.usage) usage = chunk.usage;
        }
        assert.deepEqual([...finishes.entries()].sort(), [[0, 1], [1, 1]]);
        assert(usage && usage.completion_tokens >= 2);
      });
    })());
  } finally {
    await server.stop();
  }
});
