import { assert, assertEquals } from "../testing/assert.ts";
import { tinyDecoder } from "./_fixture.ts";
import { runChatBench } from "./bench.ts";
import { chatFigureSpec } from "./figure.ts";
import { summarizeChat } from "./summary.ts";
import { parseWorkload } from "./workload.ts";

const SET = parseWorkload({
  format: "turbo-inference/conversations@1",
  conversations: [
    {
      id: "a",
      type: "simple_qa",
      tags: ["rag"],
      system_tokens: 24,
      turns: [
        { kind: "normal", user_tokens: 16, reply_tokens: 4 },
        { kind: "rag_data", user_tokens: 50, reply_tokens: 3, doc: "d" },
        { kind: "rag_removal", user_tokens: 10, reply_tokens: 4, doc: "d" },
      ],
    },
    {
      id: "too-long",
      type: "long",
      tags: ["long"],
      turns: [
        { kind: "normal", user_tokens: 100, reply_tokens: 4 },
        { kind: "normal", user_tokens: 600, reply_tokens: 4 },
      ],
    },
    {
      id: "b",
      type: "simple_qa",
      tags: [],
      system_tokens: 24,
      turns: [{ kind: "normal", user_tokens: 16, reply_tokens: 4 }],
    },
  ],
}).conversations;

Deno.test("runChatBench() measures on and off on the same tokens, records a failure and goes on", async () => {
  const { rows, prefixCache } = await runChatBench(await tinyDecoder(), SET, { warmup: 0 });
  const ok = rows.filter((r) => r.status === "ok");
  // a: 3 turns × 2 passes, too-long: turn 1 × 2 then an error per pass, b: 1 × 2.
  assertEquals(ok.length, 10);
  assert(ok.every((r) => r.tokens_match === true));
  const failed = rows.filter((r) => r.status === "error");
  assertEquals(failed.map((r) => [r.conversation, r.turn, r.prefix_cache]), [
    ["too-long", 2, "on"],
    ["too-long", 2, "off"],
  ]);
  assert(failed[0]!.error!.includes("positions"), failed[0]!.error!);
  const on = ok.filter((r) => r.prefix_cache === "on");
  const off = ok.filter((r) => r.prefix_cache === "off");
  assert(off.every((r) => r.reused_tokens === 0 && r.new_tokens === r.prompt_tokens));
  // The same prompts in both passes.
  assertEquals(on.map((r) => r.prompt_tokens), off.map((r) => r.prompt_tokens));
  // b shares a's system prompt through the shared cache.
  const b = on.find((r) => r.conversation === "b")!;
  assertEquals(b.reuse_source, "shared");
  assert(b.reused_tokens! >= 24);
  // The token hit rate: the cache's counters equal the on rows' sums.
  const reused = on.reduce((s, r) => s + r.reused_tokens!, 0);
  const prompted = on.reduce((s, r) => s + r.prompt_tokens!, 0);
  assertEquals(prefixCache!.reusedTokens, reused);
  assertEquals(prefixCache!.promptTokens, prompted); // the failed turn was rejected before its lookup
  const a = on.filter((r) => r.conversation === "a");
  assertEquals(
    a.at(-1)!.cumulative_hit_rate,
    a.reduce((s, r) => s + r.reused_tokens!, 0) /
      a.reduce((s, r) => s + r.prompt_tokens!, 0),
  );
  assert(a[2]!.kind === "rag_removal" && a[2]!.cut_tokens! > 50);
  const summary = summarizeChat(rows);
  assertEquals(summary.errors.length, 2);
  assertEquals(summary.conversations.find((c) => c.conversation === "a")!.turns, 3);
  const spec = JSON.stringify(chatFigureSpec(rows));
  assert(spec.includes("RAG removed") && spec.includes("prefix reuse off"));
});
