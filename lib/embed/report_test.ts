import assert from "node:assert/strict";
import { embedReportMarkdown, embedThroughputTable } from "./report.ts";
import type { EmbedRow } from "./schema.ts";

function row(over: Partial<EmbedRow>): EmbedRow {
  return {
    cell_id: "c",
    timestamp: "2026-01-01T00:00:00Z",
    model: "preset:minilm-tiny",
    engine: "ort",
    dtype: "fp32",
    device: "cpu",
    execution_provider: "CPUExecutionProvider",
    batch: 1,
    seq_len: 16,
    texts: 4,
    batches: 4,
    texts_per_s: 100,
    tokens_per_s: 1600,
    batch_mean_ms: 10,
    batch_p50_ms: 10,
    batch_p95_ms: 11,
    peak_rss_bytes: 5e8,
    peak_vram_bytes: null,
    cos_vs_fp32_mean: 1,
    cos_vs_fp32_min: 1,
    status: "ok",
    error: "",
    git_commit: "abc",
    deno_version: "2.9.6",
    ort_version: "1.30.0",
    transformers_version: "4.3.1",
    device_name: "CPU",
    ...over,
  };
}

const ROWS: EmbedRow[] = [
  row({}),
  row({ batch: 8, texts_per_s: 400, batch_p50_ms: 20 }),
  row({ dtype: "q8", texts_per_s: 150, cos_vs_fp32_min: 0.99998 }),
  row({ engine: "transformers.js", texts_per_s: 50 }),
  row({ device: "webgpu", status: "error", error: "no adapter", texts_per_s: null }),
  row({ device: "webgpu", batch: 8, status: "error", error: "no adapter", texts_per_s: null }),
];

Deno.test("embedThroughputTable() puts each batch size in a column and the worst 1 − cos per line", () => {
  const lines = embedThroughputTable(ROWS).split("\n");
  assert.equal(lines.length, 2 + 3); // header, separator, ort fp32, ort q8, pipeline fp32
  assert(lines[0]!.includes("texts/s @ batch 1 | texts/s @ batch 8"));
  assert.equal(lines[2], "| ORT loop | cpu | fp32 | 100.0 | 400.0 | 20.0 | 0.50 | 0 |");
  assert(lines[3]!.includes("| q8 | 150.0 | – |") && lines[3]!.endsWith("| 2.0e-5 |"), lines[3]!);
});

Deno.test("embedReportMarkdown() gives the ORT / pipeline ratio and groups failed cells by reason", () => {
  const md = embedReportMarkdown(ROWS);
  assert(md.includes("cpu fp32 @ 1: 2.00×"), md);
  assert(md.includes("- ort webgpu fp32 @ 1, 8: no adapter"), md);
  assert(md.includes("Failed cells (2)"), md);
});
