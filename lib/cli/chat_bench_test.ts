import { assert, assertEquals } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";
import { CHAT_TURN_FIELDS } from "../chat/rows.ts";

const CLI = new URL("./chat_bench.ts", import.meta.url).pathname;

async function chatBench(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** The CLI failed with exit code 1 and one stderr line `error: …` containing `includes`. */
function assertOneLineError(r: { code: number; stderr: string }, includes: string): void {
  assertEquals(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("DeprecationWarning"));
  assertEquals(lines.length, 1, r.stderr);
  assert(lines[0]!.startsWith("error: ") && lines[0]!.includes(includes), r.stderr);
}

function tinyDir(): Promise<string> {
  return ensureModel("tiny", { dtypes: ["fp32"] });
}

Deno.test("chat-bench --list prints the conversations that fit the model's context", async () => {
  const r = await chatBench(["--model", await tinyDir(), "--list"]);
  assertEquals(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert(lines[0]!.startsWith("context size 512 tokens"), lines[0]);
  assert(/^rag-short .* yes$/.test(lines.find((l) => l.startsWith("rag-short"))!));
  assert(/^long-session .* no$/.test(lines.find((l) => l.startsWith("long-session"))!));
});

Deno.test("chat-bench writes per-turn CSV, JSON, a Markdown summary and the figure", async () => {
  const out = await Deno.makeTempDir();
  const r = await chatBench([
    "--model",
    await tinyDir(),
    "--include-tags",
    "rag",
    "--max-conversations",
    "1",
    "--warmup",
    "0",
    "--threads",
    "1",
    "--output",
    out,
  ]);
  assertEquals(r.code, 0, r.stderr);
  const csv = (await Deno.readTextFile(join(out, "chat_turns.csv"))).trim().split("\n");
  assertEquals(csv[0], CHAT_TURN_FIELDS.join(","));
  assertEquals(csv.length - 1, 10); // rag-short: 5 turns × prefix cache on and off
  const json = JSON.parse(await Deno.readTextFile(join(out, "chat_turns.json")));
  assertEquals(json.config.conversations, ["rag-short"]);
  assertEquals(json.rows.length, 10);
  assert(json.rows.every((r: { tokens_match: boolean }) => r.tokens_match === true));
  assert(json.prefix_cache.hitRate > 0 && json.prefix_cache.hitRate < 1);
  const md = await Deno.readTextFile(join(out, "chat_summary.md"));
  assert(md.includes("How much does reusing the prefix save per turn?"));
  assert(md.includes("What does removing RAG data cost?"));
  assertEquals(md, r.stdout.replace(/\n$/, ""));
  const png = await Deno.readFile(join(out, "chat_ttft_per_turn.png"));
  assertEquals(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]); // "PNG"
  assert((await Deno.readTextFile(join(out, "chat_ttft_per_turn.svg"))).startsWith("<svg"));
});

Deno.test("chat-bench rejects bad input in one line and writes nothing", async () => {
  const dir = await tinyDir();
  const out = join(await Deno.makeTempDir(), "never");
  assertOneLineError(await chatBench(["--model", dir, "--speed", "9"]), "--speed");
  assertOneLineError(await chatBench(["--model", dir]), "--output");
  assertOneLineError(
    await chatBench(["--model", dir, "--prefix-cache", "maybe", "--output", out]),
    "'--prefix-cache' must be on, off or both",
  );
  assertOneLineError(
    await chatBench(["--model", dir, "--context-size", "0", "--output", out]),
    "'--context-size'",
  );
  assertOneLineError(
    await chatBench(["--model", dir, "--template", "vicuna", "--output", out]),
    "Unknown chat template 'vicuna'",
  );
  assertOneLineError(
    await chatBench(["--model", dir, "--include-tags", "long", "--output", out]),
    "no conversation",
  );
  assertOneLineError(
    await chatBench(["--model", dir, "--include-tags", "nosuchtag", "--output", out]),
    "'--include-tags' nosuchtag: no conversation of",
  );
  const bad = join(await Deno.makeTempDir(), "bad.json");
  await Deno.writeTextFile(
    bad,
    JSON.stringify({
      format: "turbo-inference/conversations@1",
      conversations: [{ id: "x", type: "tiny", tags: [], turns: [] }],
    }),
  );
  assertOneLineError(
    await chatBench(["--model", dir, "--workload", bad, "--output", out]),
    "$.conversations[0].type",
  );
  let exists = true;
  await Deno.stat(out).catch(() => (exists = false));
  assert(!exists, "nothing written");
});
