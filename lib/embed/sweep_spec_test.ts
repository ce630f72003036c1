import assert from "node:assert/strict";
import { parseSweepSpec } from "../sweep/spec.ts";
import { parseEmbedSweepBlock } from "./sweep_spec.ts";

const fail = (path: string, problem: string): never => {
  throw new TypeError(`${path} ${problem}`);
};

Deno.test("parseEmbedSweepBlock() fills defaults and is off when absent or null", () => {
  assert.equal(parseEmbedSweepBlock(undefined, fail), null);
  assert.equal(parseEmbedSweepBlock(null, fail), null);
  assert.deepEqual(parseEmbedSweepBlock({ model: "preset:minilm-l6" }, fail), {
    model: "preset:minilm-l6",
    dtypes: ["fp32", "fp16", "q8"],
    devices: ["cpu"],
    batch_sizes: [1, 8, 32],
    seq_len: 128,
    texts: 64,
    warmup: 1,
    min_batches: 3,
    pipeline: true,
  });
});

Deno.test("parseEmbedSweepBlock() names the JSON path of a bad field", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /\$\.embeddings\.model/],
    [{ model: "m", devices: ["tpu"] }, /\$\.embeddings\.devices\[0\]/],
    [{ model: "m", dtypes: ["fp32", "fp32"] }, /\$\.embeddings\.dtypes has duplicate/],
    [{ model: "m", batch_sizes: [0] }, /\$\.embeddings\.batch_sizes\[0\]/],
    [{ model: "m", seq_len: 2 }, /\$\.embeddings\.seq_len/],
    [{ model: "m", pipeline: "yes" }, /\$\.embeddings\.pipeline/],
    [{ model: "m", speed: 1 }, /\$\.embeddings\.speed is not a known field/],
  ];
  for (const [block, pattern] of cases) {
    assert.throws(() => parseEmbedSweepBlock(block, fail), pattern);
  }
  assert.throws(() => parseEmbedSweepBlock([1], fail), /\$\.embeddings must be an object/);
});

Deno.test("parseSweepSpec() accepts an embeddings block, and the default sweep has it off", async () => {
  const base = { models: ["preset:tiny"], dtypes: ["fp32"], context_lengths: [16] };
  assert.equal(parseSweepSpec(base).embeddings, null);
  const spec = parseSweepSpec({ ...base, embeddings: { model: "preset:minilm-tiny", texts: 4 } });
  assert.equal(spec.embeddings?.texts, 4);
  assert.throws(
    () => parseSweepSpec({ ...base, embeddings: { model: "m", texts: -1 } }),
    /\$\.embeddings\.texts/,
  );
  const defaults = JSON.parse(
    await Deno.readTextFile(new URL("../../sweeps/default.json", import.meta.url)),
  );
  assert.equal(parseSweepSpec(defaults).embeddings, null);
});
