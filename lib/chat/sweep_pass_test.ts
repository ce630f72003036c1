import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import { ensureModel } from "../model/mod.ts";
import { parseSweepSpec } from "../sweep/spec.ts";
import { writeAllOutputs } from "../report/write_all_outputs.ts";
import { BENCH_FIELDS } from "../results/schema.ts";
import { runConversationPass } from "./sweep_pass.ts";

const BASE = { models: ["preset:tiny"], dtypes: ["fp32"], context_lengths: [16] };

Deno.test("a sweep spec's conversations block is optional, validated and off by default", async () => {
  assertEquals(parseSweepSpec(BASE).conversations, null);
  assertEquals(parseSweepSpec({ ...BASE, conversations: null }).conversations, null);
  const spec = parseSweepSpec({
    ...BASE,
    conversations: { dtypes: ["q4"], include_tags: ["rag"] },
  });
  assertEquals(spec.conversations?.prefix_cache, "both");
  assertEquals(spec.conversations?.include_tags, ["rag"]);
  assertThrows(
    () => parseSweepSpec({ ...BASE, conversations: { dtypes: ["q4"], prefix_cache: "maybe" } }),
    TypeError,
    "$.conversations.prefix_cache",
  );
  assertThrows(
    () => parseSweepSpec({ ...BASE, conversations: {} }),
    TypeError,
    "$.conversations.dtypes",
  );
  const committed = JSON.parse(
    await Deno.readTextFile(new URL("../../sweeps/default.json", import.meta.url)),
  );
  assertEquals(parseSweepSpec(committed).conversations, null);
});

Deno.test("runConversationPass() writes one job per model × dtype × device and logs a failing one", async () => {
  const tiny = await ensureModel("tiny", { dtypes: ["fp32"] });
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const spec = parseSweepSpec({
    ...BASE,
    models: [tiny, "/nonexistent/model"],
    conversations: { dtypes: ["fp32"], include_tags: ["rag"], max_conversations: 1, warmup: 0 },
  }).conversations!;
  const pass = await runConversationPass(spec, {
    models: [tiny, "/nonexistent/model"],
    devices: ["cpu"],
    threads: 1,
    outDir: out,
    log: (line) => lines.push(line),
  });
  assertEquals(pass.failed.length, 1);
  assert(pass.failed[0]!.includes("does not exist"), pass.failed[0]);
  const dir = join(out, "benchmarks", "conversations");
  const [job] = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    !n.includes("nonexistent")
  );
  const csv = await Deno.readTextFile(join(dir, job!, "chat_turns.csv"));
  assertEquals(csv.trim().split("\n").length, 1 + 10); // rag-short: 5 turns × on and off
  assertEquals(pass.files.length, 6);
  assert(lines.some((l) => l.includes("failed")));
  // The report picks the pass's summary up as a section.
  const results = join(out, "benchmarks", "results.csv");
  await Deno.writeTextFile(results, BENCH_FIELDS.join(",") + "\n");
  await writeAllOutputs({ resultsCsv: results, outDir: out });
  const report = await Deno.readTextFile(join(out, "metrics", "report.md"));
  assert(report.includes("## Conversations: prefix-cache reuse"));
  assert(report.includes("How much does reusing the prefix save per turn?"));
  assert(report.includes(`conversations/${job}/chat_ttft_per_turn.png`));
});
