import { assert, assertEquals } from "../testing/assert.ts";
import { generate } from "../engine/generate.ts";
import { tinyDecoder } from "./_fixture.ts";
import { playConversation, type PlayedTurn } from "./conversation.ts";
import { commonPrefixLength } from "./kv.ts";
import { ChatSession } from "./session.ts";
import { parseWorkload } from "./workload.ts";

const RAG = parseWorkload({
  format: "turbo-inference/conversations@1",
  conversations: [{
    id: "rag",
    type: "simple_qa",
    tags: ["rag"],
    system_tokens: 20,
    turns: [
      { kind: "normal", user_tokens: 12, reply_tokens: 5 },
      { kind: "rag_data", user_tokens: 60, reply_tokens: 4, doc: "faq" },
      { kind: "rag_query", user_tokens: 10, reply_tokens: 5 },
      { kind: "rag_removal", user_tokens: 10, reply_tokens: 5, doc: "faq" },
      { kind: "continuation", reply_tokens: 4 },
    ],
  }],
}).conversations[0]!;

Deno.test("playConversation() injects and removes RAG data; reuse is cut back to where it began", async () => {
  const model = await tinyDecoder();
  const { tokenizer } = model.resolved;
  const chat = new ChatSession(model);
  const played: PlayedTurn[] = await playConversation(
    tokenizer,
    RAG,
    (prompt, n) => chat.turn(prompt, { maxNewTokens: n }),
    { template: "chatml" },
  );
  assertEquals(played.map((t) => t.kind), RAG.turns.map((t) => t.kind));
  const text = played.map((t) => tokenizer.decode(t.prompt));
  assert(text[1]!.includes("Document faq") && text[2]!.includes("Document faq"));
  assert(!text[3]!.includes("Document faq"), "the document is gone after its removal");
  assert(text[3]!.startsWith("<|im_start|>system\n"));
  // The removal turn reuses exactly the prompt up to where the document began.
  const removal = played[3]!;
  const common = commonPrefixLength(played[2]!.prompt, removal.prompt);
  assertEquals(removal.result.reusedTokens, common);
  assert(removal.result.cutTokens >= 60, `cut ${removal.result.cutTokens}`);
  // Continuation: the previous prompt plus its reply, all but one token reused.
  assertEquals(played[4]!.prompt, [...removal.prompt, ...removal.result.tokens]);
  assertEquals(played[4]!.result.reusedTokens, played[4]!.prompt.length - 1);
  // Every turn's tokens equal a cache-free recompute.
  for (const t of played) {
    const ref = await generate(model, [t.prompt], {
      maxNewTokens: t.result.tokens.length,
      useCache: false,
    });
    assertEquals(t.result.tokens, ref.tokens[0], `turn ${t.turn}`);
  }
});
