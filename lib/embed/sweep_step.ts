/**
 * The sweep step of an `embeddings` block: runs the benchmark and writes its tables next to the
 * sweep's others (`benchmarks/embeddings.csv`, `benchmarks/embedding_batches.csv`), its figure
 * (`figures/embeddings_texts_per_s_vs_batch.*`) and its report section (`metrics/embeddings.md`).
 *
 * @module
 */
import { runEmbedBench } from "./bench.ts";
import { resolveEncoder } from "./model.ts";
import { embedReportMarkdown } from "./report.ts";
import { writeEmbedTables } from "./schema.ts";
import type { EmbedSweepSpec } from "./sweep_spec.ts";

/**
 * Runs a sweep's `embeddings` block and writes its tables, figure and report section under the
 * sweep's output root. A cell's failure is a row; only an unusable model reference throws.
 *
 * @param spec The validated block.
 * @param outDir The sweep's output root (`benchmarks/`, `figures/`, `metrics/` below it).
 * @param log Progress lines.
 * @returns The paths written.
 * @example
 * ```ts ignore
 * import { runEmbedSweepStep } from "./sweep_step.ts";
 * await runEmbedSweepStep(spec.embeddings!, "runs/x", console.error);
 * ```
 */
export async function runEmbedSweepStep(
  spec: EmbedSweepSpec,
  outDir: string,
  log: (line: string) => void,
): Promise<string[]> {
  const encoder = await resolveEncoder(spec.model, spec.dtypes);
  if (spec.seq_len > encoder.maxPositions) {
    throw new RangeError(
      `$.embeddings.seq_len (${spec.seq_len}) exceeds the ${encoder.maxPositions} positions of '${spec.model}'`,
    );
  }
  const { rows, batches } = await runEmbedBench(encoder, {
    dtypes: spec.dtypes,
    devices: spec.devices,
    batchSizes: spec.batch_sizes,
    seqLen: spec.seq_len,
    texts: spec.texts,
    warmup: spec.warmup,
    minBatches: spec.min_batches,
    pipeline: spec.pipeline,
    onProgress: (line) => log(`  ${line}`),
  });
  await Deno.mkdir(`${outDir}/benchmarks`, { recursive: true });
  const files = await writeEmbedTables(`${outDir}/benchmarks`, rows, batches);
  const { writeEmbedFigure } = await import("./figure.ts");
  files.push(...await writeEmbedFigure(rows, `${outDir}/figures`));
  await Deno.mkdir(`${outDir}/metrics`, { recursive: true });
  await Deno.writeTextFile(`${outDir}/metrics/embeddings.md`, embedReportMarkdown(rows));
  files.push(`${outDir}/metrics/embeddings.md`);
  return files;
}
