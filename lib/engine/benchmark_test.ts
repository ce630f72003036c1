import { assertEquals, assertRejects } from "../testing/assert.ts";
import { tinyModel } from "./_fixture.ts";
import { runBenchmark } from "./benchmark.ts";
import { loadDecoder } from "./decoder.ts";
import { promptIds } from "./prompts.ts";

Deno.test("runBenchmark() keeps only measured runs and summarises them", async () => {
  const resolved = await tinyModel();
  const model = await loadDecoder(resolved, { dtype: "fp32", threads: 1 });
  try {
    const progress: string[] = [];
    const r = await runBenchmark(model, [promptIds(resolved.tokenizer, "summary", 16)], {
      maxNewTokens: 4,
      warmup: 2,
      runs: 3,
      sampleGpu: false,
      onProgress: (line) => progress.push(line),
    });
    assertEquals(r.runs.length, 3);
    assertEquals(progress.filter((l) => l.startsWith("warmup")).length, 2);
    assertEquals(r.summary.prefillMs.count, 3);
    assertEquals(r.summary.tokenLatencyMs!.count, 3 * 3);
    assertEquals(r.summary.prefillMs.max, Math.max(...r.runs.map((x) => x.prefillMs)));
    assertEquals(r.memory.peakGpuUsedBytes, null);
    await assertRejects(
      () => runBenchmark(model, [[1]], { maxNewTokens: 2, runs: 0 }),
      RangeError,
      "'runs'",
    );
  } finally {
    await model.dispose();
  }
});
