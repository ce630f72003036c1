import assert from "node:assert/strict";
import { startTestServer } from "./_test_server.ts";
import { runLoad } from "../load/runner.ts";
import { summarizeLoad } from "../load/metrics.ts";
import { type PromptTokenizer, syntheticPrompts } from "../load/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";

Deno.test({
  name:
    "deno task load's generator drives this project's server on loopback: both arrival modes, exact tokens",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startTestServer(`${dir}/history.sqlite`);
    try {
      const { tokenizer } = await resolveModel("preset:tiny");
      const prompts = syntheticPrompts(7, {
        inputTokens: 32,
        outputTokens: 8,
        tokenizer: tokenizer as unknown as PromptTokenizer,
      });
      const endpoint = { baseUrl: `${server.url}/v1`, model: "preset:tiny", timeoutMs: 60_000 };
      const byConcurrency = await runLoad({
        endpoint,
        prompts: prompts.slice(0, 4),
        warmup: prompts.slice(6),
        mode: { kind: "concurrency", concurrency: 2 },
      });
      const byRate = await runLoad({
        endpoint: { ...endpoint, api: "chat" },
        prompts: prompts.slice(4, 6),
        mode: { kind: "rate", rate: 20, seed: 1 },
      });
      for (const records of [byConcurrency, byRate]) {
        const s = summarizeLoad(records);
        assert.equal(s.failed, 0, JSON.stringify(s.failures));
        assert.equal(s.outputTokensSource, "usage");
        for (const r of records.filter((x) => !x.warmup)) {
          assert.equal(r.outputTokens, 8, "ignore_eos gives exactly max_tokens");
          assert.ok(r.ttftMs! > 0 && r.e2eMs! >= r.ttftMs!);
          assert.equal(r.itlMs.length, 7);
        }
      }
      // The server's own count of the completion prompts equals the tokenizer-exact 32 tokens.
      assert.deepEqual(byConcurrency.filter((r) => !r.warmup).map((r) => r.promptTokens), [
        32,
        32,
        32,
        32,
      ]);
    } finally {
      await server.stop();
    }
  },
});
