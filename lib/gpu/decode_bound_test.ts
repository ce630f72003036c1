import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeBytes, modelFileBytes } from "./decode_bound.ts";
import { PRESETS } from "../model/presets.ts";

Deno.test("modelFileBytes() adds a dtype's external-data chunks and ignores other dtypes", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "onnx"));
  await Deno.writeFile(join(dir, "onnx", "model_q4.onnx"), new Uint8Array(10));
  await Deno.writeFile(join(dir, "onnx", "model_q4.onnx_data"), new Uint8Array(100));
  await Deno.writeFile(join(dir, "onnx", "model_q4.onnx_data_1"), new Uint8Array(1000));
  await Deno.writeFile(join(dir, "onnx", "model.onnx"), new Uint8Array(7));
  assert.equal(modelFileBytes(dir, "q4"), 1110);
  assert.equal(modelFileBytes(dir, "fp32"), 7);
  assert.equal(modelFileBytes(dir, "fp16"), null);
});

Deno.test("decodeBytes() of llama-3.2-1b fp16 at 2048 tokens: KV is 2 × 16 × 8 × 64 × 2 B per position", () => {
  const c = PRESETS["llama-3.2-1b"]!;
  const shape = {
    layers: c.num_hidden_layers,
    kvHeads: c.num_key_value_heads,
    headDim: c.head_dim,
    hidden: c.hidden_size,
    vocab: c.vocab_size,
  };
  const b = decodeBytes(shape, { fileBytes: 3e9, dtype: "fp16", context: 2048, newTokens: 32 });
  assert.equal(b.kvBytes, 32768 * (2048 + 16.5));
  assert.equal(b.weightBytes, 3e9 - 128256 * 2048 * 2);
});
