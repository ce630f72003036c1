import assert from "node:assert/strict";
import { cellResults, comparePerplexity, renderCheckMarkdown } from "./report.ts";
import { benchRowFixture, checkReportFixture } from "./_fixture.ts";

const BW = { method: "m", device_name: "d", bytes_per_s: 1e6, seconds: [], bytes_moved: 0 };

Deno.test("cellResults() says whether the KV cache stayed on the device and bounds only cache-on cells", () => {
  const off = "preset:tiny|fp32|webgpu|false|32|conversational|1";
  const rows = [
    benchRowFixture({ kv_mode: "device" }),
    benchRowFixture({ cell_id: off, use_cache: false, kv_mode: "" }),
    benchRowFixture({
      cell_id: "c3",
      kv_mode: "copy",
      status: "error",
      error: "boom",
      decode_tokens_per_s: null,
    }),
  ];
  const cells = cellResults(rows, () => ({ weightBytes: 1000, kvBytes: 0 }), BW);
  assert.equal(cells.length, 3);
  assert.equal(cells[0]!.kv_on_device, true);
  assert.equal(cells[0]!.fraction_of_bandwidth, 0.1); // 1000 B × 100 tok/s ÷ 1e6 B/s
  assert.equal(cells[1]!.kv_on_device, null);
  assert.equal(cells[1]!.fraction_of_bandwidth, null);
  assert.equal(cells[2]!.kv_on_device, false);
  assert.equal(cells[2]!.status, "error");
  assert.equal(cells[2]!.error, "boom");
  assert.equal(cells[2]!.fraction_of_bandwidth, null);
});

Deno.test("cellResults() leaves the fraction null without a bandwidth or model bytes", () => {
  const rows = [benchRowFixture()];
  assert.equal(cellResults(rows, () => null, BW)[0]!.fraction_of_bandwidth, null);
  assert.equal(
    cellResults(rows, () => ({ weightBytes: 1, kvBytes: 1 }), null)[0]!.fraction_of_bandwidth,
    null,
  );
});

Deno.test("comparePerplexity() passes at the tolerance and fails just past it", () => {
  assert.equal(comparePerplexity("m", 100, { ppl: 100.1, provider: "" }, 1e-3).pass, true);
  assert.equal(comparePerplexity("m", 100, { ppl: 100.11, provider: "" }, 1e-3).pass, false);
});

Deno.test("renderCheckMarkdown() renders every cell and step of the report", () => {
  const md = renderCheckMarkdown(checkReportFixture());
  assert.match(
    md,
    /\| fp32 \| on \| 128 \| ok \| WebGpuExecutionProvider \| 3 \| yes \| 100\.0 \|/,
  );
  assert.match(md, /20\.0 %/);
  assert.match(md, /2000\.0 GB\/s/);
  assert.match(md, /\| sweep \| ok \| 200\.0 \|/);
  assert.match(md, /: pass\./);
});
