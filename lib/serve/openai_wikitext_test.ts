import assert from "node:assert/strict";
import { join } from "node:path";
import OpenAI from "openai";
import { AutoTokenizer } from "@huggingface/transformers";
import { resolveModel } from "../engine/resolve.ts";
import { readVendoredWikitext } from "../eval/wikitext.ts";
import { REPO_ROOT } from "../history/record.ts";
import { startTestServer } from "./_test_server.ts";

const TIMEOUT_MS = 240_000;
const MODEL = "models/wikitext-llama";
const WINDOW = 256;

/** Fails after `ms` instead of letting a hung request stall the suite. */
function withTimeout<T>(work: Promise<T>, ms = TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `deno task ppl` as a user runs it, killed if it outlives the test's timeout. */
async function taskPpl(output: string): Promise<Record<string, unknown>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(REPO_ROOT, "lib/cli/ppl.ts"),
      "--model",
      MODEL,
      "--dtypes",
      "fp32",
      "--split",
      "test",
      "--window",
      String(WINDOW),
      "--max-tokens",
      String(WINDOW),
      "--output",
      output,
    ],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  try {
    const { code, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  } finally {
    clearTimeout(timer);
  }
  return JSON.parse(await Deno.readTextFile(output));
}

/** The first `count` ids of the vendored test split, tokenized as `deno task ppl` does. */
async function wikitextIds(count: number): Promise<number[]> {
  const text = await readVendoredWikitext();
  const tokenizer = await AutoTokenizer.from_pretrained(join(REPO_ROOT, MODEL));
  // a prefix cut at a line break well past the window tokenizes like the whole text
  const cut = text.indexOf("\n", (count + 64) * 8);
  const ids = Array.from(tokenizer.encode(text.slice(0, cut)), Number);
  assert(ids.length >= count + 64, `${ids.length} ids`);
  return ids.slice(0, count);
}

Deno.test("OpenAI routes on the default model: perplexity from echoed logprobs equals `deno task ppl`; chat templates; conventions", async (t) => {
  const dir = await Deno.makeTempDir();
  // A Hub-cache model without a chat template: the tiny preset's files, template removed.
  const tiny = await resolveModel("preset:tiny");
  const hfHome = join(dir, "hf");
  const noTemplate = join(hfHome, "transformers.js", "local", "no-template");
  await Deno.mkdir(noTemplate, { recursive: true });
  for (const entry of Deno.readDirSync(tiny.dir)) {
    if (entry.isFile) await Deno.copyFile(join(tiny.dir, entry.name), join(noTemplate, entry.name));
  }
  await Deno.mkdir(join(noTemplate, "onnx"));
  for (const entry of Deno.readDirSync(join(tiny.dir, "onnx"))) {
    await Deno.copyFile(join(tiny.dir, "onnx", entry.name), join(noTemplate, "onnx", entry.name));
  }
  const config = JSON.parse(await Deno.readTextFile(join(noTemplate, "tokenizer_config.json")));
  delete config.chat_template;
  await Deno.writeTextFile(join(noTemplate, "tokenizer_config.json"), JSON.stringify(config));
  const templateFile = join(dir, "tiny.jinja");
  await Deno.writeTextFile(templateFile, "T:{{ messages[0]['content'] }}");

  const server = await startTestServer(join(dir, "history.sqlite"), {
    args: ["--chat-template", `preset:tiny=${templateFile}`],
    env: { HF_HOME: hfHome },
  });
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: "not-needed",
    maxRetries: 0,
    timeout: TIMEOUT_MS,
  });
  try {
    await withTimeout((async () => {
      await t.step(
        "perplexity from lm-eval-style echoed logprobs equals deno task ppl",
        async () => {
          const report = await taskPpl(join(dir, "ppl.json"));
          const result = (report.results as { ppl: number; scored_tokens: number }[])[0]!;
          const ids = await wikitextIds(WINDOW);
          const r = await client.completions.create({
            model: MODEL,
            prompt: [ids],
            max_tokens: 1,
            logprobs: 1,
            echo: true,
            temperature: 0,
          });
          const scored = r.choices[0]!.logprobs!.token_logprobs!.slice(1, WINDOW) as number[];
          assert.equal(scored.length, result.scored_tokens);
          const ppl = Math.exp(-scored.reduce((a, b) => a + b, 0) / scored.length);
          assert(
            Math.abs(ppl / result.ppl - 1) < 1e-6,
            `service ${ppl} vs deno task ppl ${result.ppl}`,
          );
        },
      );

      await t.step("chat on the default model uses its template", async () => {
        const messages = [{ role: "user" as const, content: "Explain the KV cache." }];
        const r = await client.chat.completions.create({
          model: MODEL,
          messages,
          max_tokens: 4,
          temperature: 0,
        });
        assert.equal(r.object, "chat.completion");
        const tokenizer = await AutoTokenizer.from_pretrained(join(REPO_ROOT, MODEL));
        const text = tokenizer.apply_chat_template(messages, {
          add_generation_prompt: true,
          tokenize: false,
        }) as unknown as string;
        assert.equal(text, "<|begin_of_text|>User: Explain the KV cache.\nAssistant:");
        const ids = tokenizer.encode(text, { add_special_tokens: false });
        assert.equal(r.usage!.prompt_tokens, ids.length);
      });

      await t.step("--chat-template MODEL=FILE replaces a model's template", async () => {
        const r = await client.chat.completions.create({
          model: "preset:tiny",
          messages: [{ role: "user", content: "Hi there" }],
          max_tokens: 1,
        });
        const ids = tiny.tokenizer.encode("T:Hi there", { add_special_tokens: false });
        assert.equal(r.usage!.prompt_tokens, ids.length);
      });

      await t.step("a model without a chat template: chat is a 400 saying so", async () => {
        const models = [];
        for await (const m of client.models.list()) models.push(m.id);
        assert(models.includes("local/no-template"), models.join());
        await assert.rejects(
          client.chat.completions.create({
            model: "local/no-template",
            messages: [{ role: "user", content: "Hi" }],
          }),
          (e: unknown) =>
            e instanceof OpenAI.BadRequestError && /no chat template/.test(e.message) &&
            /--chat-template/.test(e.message),
        );
        const completion = await client.completions.create({
          model: "local/no-template",
          prompt: "Hi",
          max_tokens: 2,
        });
        assert(completion.usage!.completion_tokens >= 1);
      });

      await t.step("the context-length error states the model's trained context", async () => {
        const listed = await client.models.retrieve(MODEL);
        assert.equal(listed.id, MODEL);
        const limit = (listed as unknown as { max_model_len: number }).max_model_len;
        assert.equal(limit, 2048);
        const over = Array.from({ length: limit - 10 }, (_, i) => 2 + (i % 4000));
        await assert.rejects(
          client.completions.create({ model: MODEL, prompt: over, max_tokens: 11 }),
          (e: unknown) =>
            e instanceof OpenAI.BadRequestError && e.code === "context_length_exceeded" &&
            e.message.includes(`maximum context length is ${limit} tokens`) &&
            e.message.includes(`requested ${limit + 1} tokens`),
        );
        const fits = await client.completions.create({ model: MODEL, prompt: over, max_tokens: 1 });
        assert.equal(fits.usage!.prompt_tokens, limit - 10);
      });

      await t.step("models: no cache paths listed or served; GET /v1/models/{model}", async () => {
        const ids = [];
        for await (const m of client.models.list()) ids.push(m.id);
        assert(ids.length > 0 && ids.every((id) => !id.startsWith("/")), ids.join());
        const cache = join(REPO_ROOT, ".cache", "models");
        const imported = [...Deno.readDirSync(cache)].find((e) => e.name.startsWith("import-"));
        assert(imported, "the default model was converted into the model cache");
        await assert.rejects(
          client.completions.create({ model: `${join(cache, imported.name)}:fp32`, prompt: "x" }),
          (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found",
        );
        const encoded = await fetch(`${server.url}/v1/models/${encodeURIComponent(`${MODEL}:q4`)}`);
        assert.equal((await encoded.json()).id, `${MODEL}:q4`);
        const missing = await fetch(`${server.url}/v1/models/gpt-4`);
        assert.equal(missing.status, 404);
        assert.equal((await missing.json()).error.code, "model_not_found");
      });

      await t.step("an oversized body is 413; openapi.json describes the requests", async () => {
        const big = await fetch(`${server.url}/v1/completions`, {
          method: "POST",
          body: JSON.stringify({ model: MODEL, prompt: "x".repeat(100_000) }),
        });
        assert.equal(big.status, 413);
        assert.equal((await big.json()).error.param, "body");
        const doc = await (await fetch(`${server.url}/openapi.json`)).json();
        const schemas = doc.components.schemas;
        for (const key of ["prompt", "logprobs", "echo", "temperature", "seed", "n", "top_k"]) {
          assert(key in schemas.CompletionRequest.properties, key);
        }
        for (const key of ["messages", "logprobs", "top_logprobs", "max_completion_tokens"]) {
          assert(key in schemas.ChatCompletionRequest.properties, key);
        }
        const post = doc.paths["/v1/completions"].post.responses;
        for (const status of ["200", "400", "404", "405", "413", "500"]) assert(status in post);
        assert("/v1/models/{model}" in doc.paths);
      });
    })());
  } finally {
    await server.stop();
  }
});
