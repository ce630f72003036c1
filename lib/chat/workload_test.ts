import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import {
  CONVERSATION_TYPES,
  loadWorkload,
  parseWorkload,
  parseWorkloadText,
  TURN_KINDS,
} from "./workload.ts";

const DEFAULT = new URL("../../data/conversations/default.json", import.meta.url).pathname;

/** A valid set with one conversation, changed by `edit`. */
function set(edit: (c: Record<string, unknown>) => void = () => {}) {
  const conversation: Record<string, unknown> = {
    id: "c1",
    type: "simple_qa",
    tags: ["rag"],
    system_tokens: 16,
    turns: [
      { kind: "normal", user_tokens: 20, reply_tokens: 8 },
      { kind: "rag_data", user_tokens: 50, reply_tokens: 4, doc: "d" },
      { kind: "rag_query", user_tokens: 10, reply_tokens: 8 },
      { kind: "rag_removal", user_tokens: 10, reply_tokens: 8, doc: "d" },
      { kind: "continuation", reply_tokens: 8 },
    ],
  };
  edit(conversation);
  return { format: "turbo-inference/conversations@1", conversations: [conversation] };
}

/** The one-line error of `edit`, which must name `path`. */
function rejects(edit: (c: Record<string, unknown>) => void, path: string, includes = ""): void {
  const error = assertThrows(() => parseWorkload(set(edit), "x.json"), RangeError, path);
  assert(!error.message.includes("\n"), error.message);
  assert(error.message.startsWith("Invalid conversations 'x.json': "), error.message);
  assert(error.message.includes(includes), error.message);
}

const turns = (c: Record<string, unknown>) => c.turns as Record<string, unknown>[];

Deno.test("parseWorkload() reads every kind into typed turns", () => {
  const w = parseWorkload(set());
  const c = w.conversations[0]!;
  assertEquals(c.turns.map((t) => t.kind), [...TURN_KINDS]);
  assertEquals(c.turns[4], { kind: "continuation", userTokens: 0, replyTokens: 8, doc: null });
  assertEquals([c.systemTokens, c.systemId, c.seed], [16, "default", 0]);
});

Deno.test("workload schema errors name the field by its JSON path", () => {
  rejects((c) => (c.type = "chitchat"), "$.conversations[0].type", "simple_qa");
  rejects((c) => (c.colour = "red"), "$.conversations[0].colour", "not a known field");
  rejects((c) => (turns(c)[0]!.user_tokens = 0), "$.conversations[0].turns[0].user_tokens", ">= 1");
  rejects((c) => (turns(c)[0]!.reply_tokens = 2.5), "$.conversations[0].turns[0].reply_tokens");
  rejects((c) => (turns(c)[0]!.kind = "chat"), "$.conversations[0].turns[0].kind", "rag_removal");
  rejects(
    (c) => (turns(c)[3]!.doc = "other"),
    "$.conversations[0].turns[3].doc",
    "not in the history",
  );
  rejects((c) => (turns(c)[0]!.doc = "d"), "$.conversations[0].turns[0].doc", "only for rag_data");
  rejects((c) => delete turns(c)[1]!.doc, "$.conversations[0].turns[1].doc");
  rejects((c) => (c.turns = [turns(c)[2]]), "$.conversations[0].turns[0].kind", "needs a rag_data");
  rejects((c) => (c.turns = [turns(c)[4]]), "$.conversations[0].turns[0].kind", "first turn");
  rejects((c) => (turns(c)[4]!.user_tokens = 5), "$.conversations[0].turns[4].user_tokens");
  rejects((c) => (c.tags = ["has space"]), "$.conversations[0].tags[0]");
  rejects((c) => (c.system_tokens = -1), "$.conversations[0].system_tokens");
  rejects((c) => (c.turns = []), "$.conversations[0].turns", "non-empty");
  assertThrows(() => parseWorkload({ conversations: [] }), RangeError, "$.format");
  const twice = set();
  twice.conversations.push({ ...twice.conversations[0]! });
  assertThrows(() => parseWorkload(twice), RangeError, "$.conversations[1].id");
});

Deno.test("parseWorkloadText() reads JSONL and names the bad line", () => {
  const line = JSON.stringify(set().conversations[0]);
  assertEquals(parseWorkloadText(`${line}\n\n`, "a.jsonl").conversations.length, 1);
  assertThrows(() => parseWorkloadText(`${line}\n{oops\n`, "a.jsonl"), SyntaxError, "line 2");
  assertThrows(() => parseWorkloadText("{", "a.json"), SyntaxError, "'a.json': not JSON");
});

Deno.test("the shipped conversation set is valid and covers every type and kind", async () => {
  const w = await loadWorkload(DEFAULT);
  assertEquals(new Set(w.conversations.map((c) => c.type)), new Set(CONVERSATION_TYPES));
  const kinds = new Set(w.conversations.flatMap((c) => c.turns.map((t) => t.kind)));
  assertEquals(kinds, new Set(TURN_KINDS));
  for (const tag of ["rag", "code", "long"]) {
    assert(w.conversations.some((c) => c.tags.includes(tag)), tag);
  }
  await assertRejects(() => loadWorkload("/nonexistent.json"), RangeError, "does not exist");
});
