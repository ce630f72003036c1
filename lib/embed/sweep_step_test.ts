import assert from "node:assert/strict";
import { runEmbedSweepStep } from "./sweep_step.ts";

Deno.test("runEmbedSweepStep() writes the tables, figure and report section under the sweep's folders", async () => {
  const out = await Deno.makeTempDir();
  const lines: string[] = [];
  const files = await runEmbedSweepStep(
    {
      model: "preset:minilm-tiny",
      dtypes: ["fp32"],
      devices: ["cpu"],
      batch_sizes: [2],
      seq_len: 8,
      texts: 2,
      warmup: 0,
      min_batches: 1,
      pipeline: false,
    },
    out,
    (line) => lines.push(line),
  );
  for (
    const f of [
      "benchmarks/embeddings.csv",
      "benchmarks/embedding_batches.csv",
      "figures/embeddings_texts_per_s_vs_batch.png",
      "metrics/embeddings.md",
    ]
  ) {
    assert(files.includes(`${out}/${f}`), f);
  }
  const csv = await Deno.readTextFile(`${out}/benchmarks/embeddings.csv`);
  assert.equal(csv.trim().split("\n").length, 2, csv);
  assert(lines.some((l) => l.includes("ort cpu fp32 batch 2")), lines.join("\n"));
  await assert.rejects(
    runEmbedSweepStep(
      {
        model: "preset:minilm-tiny",
        dtypes: ["fp32"],
        devices: ["cpu"],
        batch_sizes: [1],
        seq_len: 4096,
        texts: 1,
        warmup: 0,
        min_batches: 1,
        pipeline: false,
      },
      out,
      () => {},
    ),
    /\$\.embeddings\.seq_len \(4096\) exceeds the 128 positions/,
  );
});
