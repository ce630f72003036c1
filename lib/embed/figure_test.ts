import assert from "node:assert/strict";
import { embedThroughputSpec, writeEmbedFigure } from "./figure.ts";
import type { EmbedRow } from "./schema.ts";

const base = {
  cell_id: "c",
  timestamp: "t",
  model: "preset:minilm-l6",
  execution_provider: "",
  seq_len: 128,
  texts: 8,
  batches: 3,
  tokens_per_s: 1,
  batch_mean_ms: 1,
  batch_p50_ms: 1,
  batch_p95_ms: 1,
  peak_rss_bytes: 1,
  peak_vram_bytes: null,
  cos_vs_fp32_mean: 1,
  cos_vs_fp32_min: 1,
  git_commit: "x",
  deno_version: "x",
  ort_version: "x",
  transformers_version: "x",
  device_name: "x",
} as const;

function row(
  engine: EmbedRow["engine"],
  device: string,
  dtype: string,
  batch: number,
  ok = true,
): EmbedRow {
  return {
    ...base,
    engine,
    device,
    dtype,
    batch,
    texts_per_s: ok ? batch * 10 : null,
    status: ok ? "ok" : "error",
    error: ok ? "" : "no adapter",
  };
}

Deno.test("embedThroughputSpec() plots texts/s vs batch, a colour per device × dtype, a dash per engine, errors left out", () => {
  const rows = [
    row("ort", "cpu", "fp32", 1),
    row("ort", "cpu", "fp32", 8),
    row("transformers.js", "cpu", "fp32", 8),
    row("ort", "cpu", "q8", 8),
    row("ort", "webgpu", "fp32", 8, false),
  ];
  const spec = embedThroughputSpec(rows) as unknown as {
    data: { values: { series: string; engine: string; batch: number; texts_per_s: number }[] };
    encoding: Record<string, { field: string }>;
  };
  assert.equal(spec.data.values.length, 4);
  assert.deepEqual(
    new Set(spec.data.values.map((v) => v.series)),
    new Set(["cpu · fp32", "cpu · q8"]),
  );
  assert.equal(spec.encoding.x!.field, "batch");
  assert.equal(spec.encoding.y!.field, "texts_per_s");
  assert.equal(spec.encoding.color!.field, "series");
  assert.equal(spec.encoding.strokeDash!.field, "engine");
});

Deno.test("writeEmbedFigure() renders .vl.json, .svg and .png, and says so when nothing succeeded", async () => {
  const dir = await Deno.makeTempDir();
  const files = await writeEmbedFigure([row("ort", "webgpu", "fp32", 1, false)], dir);
  assert.equal(files.length, 3);
  const svg = await Deno.readTextFile(files[1]!);
  assert(svg.includes("no successful cell"), "empty figure message");
  const png = await Deno.readFile(files[2]!);
  assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
});
