/**
 * `deno task embed-bench`: embedding throughput of an encoder — texts/s and tokens/s, batch
 * latency p50/p95, peak memory and cosine similarity with fp32 — per dtype × device × batch size,
 * through this project's ORT loop and transformers.js's feature-extraction pipeline. Writes
 * `embeddings.csv`, `embedding_batches.csv`, the texts/s-vs-batch figure and `embeddings.md`
 * into `--output` once every cell has run; the Markdown section goes to stdout, progress to
 * stderr.
 *
 * ```
 * deno task embed-bench --model preset:minilm-l6 --dtypes fp32,fp16,q8 --devices cpu,webgpu \
 *   --batch-sizes 1,8,32,128 --seq-len 128 --texts 128 --output runs/embed
 * ```
 *
 * @module
 */
import { type Device, DEVICES, isDevice, parseDtypes } from "../dtypes.ts";
import { runEmbedBench } from "../embed/bench.ts";
import { resolveEncoder } from "../embed/model.ts";
import { embedReportMarkdown } from "../embed/report.ts";
import { writeEmbedTables } from "../embed/schema.ts";
import { boolFlag, intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE = `Usage: deno task embed-bench --model REF --output DIR [--dtypes fp32,fp16,q8]
  [--devices cpu] [--batch-sizes 1,8,32,128] [--seq-len 128] [--texts 128] [--warmup 1]
  [--min-batches 3] [--seed 42] [--threads 0] [--pipeline true]

REF: preset:minilm-l6[@seed] (or preset:minilm-tiny), a local directory in Hub layout, or a Hub
feature-extraction model id (online). devices: ${DEVICES.join(", ")}.`;

const FLAGS = {
  model: { type: "string" },
  dtypes: { type: "string", default: "fp32,fp16,q8" },
  devices: { type: "string", default: "cpu" },
  "batch-sizes": { type: "string", default: "1,8,32,128" },
  "seq-len": { type: "string" },
  texts: { type: "string" },
  warmup: { type: "string" },
  "min-batches": { type: "string" },
  seed: { type: "string" },
  threads: { type: "string" },
  pipeline: { type: "string" },
  output: { type: "string" },
} as const;

function parseDevices(text: string): Device[] {
  const out: Device[] = [];
  for (const raw of text.split(",")) {
    const name = raw.trim();
    if (!isDevice(name)) {
      throw new RangeError(
        `'--devices' has unknown device '${name}' (known: ${DEVICES.join(", ")})`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function parseBatchSizes(text: string): number[] {
  const out: number[] = [];
  for (const raw of text.split(",")) {
    const n = Number(raw.trim());
    if (raw.trim() === "" || !Number.isInteger(n) || n < 1) {
      throw new RangeError(`'--batch-sizes' must be positive integers, got '${raw.trim()}'`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out.sort((a, b) => a - b);
}

async function main(): Promise<number> {
  const { values } = parseFlags(Deno.args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.model === undefined) throw new TypeError("missing required flag --model");
  if (values.output === undefined) throw new TypeError("missing required flag --output");
  const dtypes = parseDtypes(values.dtypes, "--dtypes");
  const devices = parseDevices(values.devices);
  const batchSizes = parseBatchSizes(values["batch-sizes"]);
  const seqLen = intFlag(values["seq-len"], "--seq-len", { min: 3, fallback: 128 });
  const texts = intFlag(values.texts, "--texts", { min: 1, fallback: 128 });
  const warmup = intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 });
  const minBatches = intFlag(values["min-batches"], "--min-batches", { min: 1, fallback: 3 });
  const seed = intFlag(values.seed, "--seed", { min: 0, fallback: 42 });
  const threads = intFlag(values.threads, "--threads", { min: 0, fallback: 0 });
  const pipeline = boolFlag(values.pipeline, "--pipeline", true);
  const output = values.output;
  try {
    if (!Deno.statSync(output).isDirectory) {
      throw new RangeError(`'--output' must be a directory, got the file '${output}'`);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }

  const encoder = await resolveEncoder(values.model, dtypes);
  if (seqLen > encoder.maxPositions) {
    throw new RangeError(
      `'--seq-len' (${seqLen}) exceeds the ${encoder.maxPositions} positions of '${values.model}'`,
    );
  }
  const { rows, batches } = await runEmbedBench(encoder, {
    dtypes,
    devices,
    batchSizes,
    seqLen,
    texts,
    warmup,
    minBatches,
    seed,
    threads,
    pipeline,
    onProgress: (line) => console.error(line),
  });
  await Deno.mkdir(output, { recursive: true });
  const files = await writeEmbedTables(output, rows, batches);
  // Loaded late: the renderer's dependencies print a Node deprecation warning when imported, and
  // bad input must stay one line on stderr.
  const { writeEmbedFigure } = await import("../embed/figure.ts");
  files.push(...await writeEmbedFigure(rows, output));
  const markdown = embedReportMarkdown(rows);
  await Deno.writeTextFile(`${output}/embeddings.md`, markdown);
  files.push(`${output}/embeddings.md`);
  console.log(markdown);
  console.error(`wrote ${files.join(", ")}`);
  return 0;
}

if (import.meta.main) await runCli(main);
