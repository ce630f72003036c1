import assert from "node:assert/strict";
import {
  ENCODER_PRESETS,
  encoderParameterCount,
  encoderParameterSpecs,
  encoderPresetConfig,
} from "./presets.ts";

Deno.test("encoderPresetConfig('minilm-l6') has all-MiniLM-L6-v2's shape", () => {
  const c = encoderPresetConfig("minilm-l6");
  assert.deepEqual(
    [c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.intermediate_size, c.vocab_size],
    [6, 384, 12, 1536, 30522],
  );
  assert.equal(c.max_position_embeddings, 512);
});

Deno.test("encoderParameterSpecs() names parameters as Hugging Face BertModel does", () => {
  const names = encoderParameterSpecs(ENCODER_PRESETS["minilm-tiny"]!).map((s) => s.name);
  assert(names.includes("encoder.layer.1.attention.self.query.weight"));
  assert(names.includes("encoder.layer.1.output.LayerNorm.bias"));
  assert.equal(new Set(names).size, names.length);
  // 2 layers × 16 tensors + 5 embedding tensors.
  assert.equal(names.length, 2 * 16 + 5);
  assert(encoderParameterCount(ENCODER_PRESETS["minilm-tiny"]!) > 0);
});

Deno.test("encoderPresetConfig() names the known presets for an unknown one", () => {
  assert.throws(() => encoderPresetConfig("bert-huge"), /minilm-l6, minilm-tiny/);
  assert.throws(() => encoderPresetConfig("constructor"), /Unknown encoder preset/);
});
