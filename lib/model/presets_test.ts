import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  type LlamaConfig,
  parameterCount,
  presetConfig,
  PRESETS,
  validateConfig,
} from "./presets.ts";

Deno.test("PRESETS are frozen and every preset passes validateConfig()", () => {
  assert(Object.isFrozen(PRESETS));
  for (const [name, config] of Object.entries(PRESETS)) {
    assert(Object.isFrozen(config), name);
    validateConfig(config);
  }
});

Deno.test("PRESETS real-shape entries have the public configs' dimensions", () => {
  const dims = (c: LlamaConfig) => [
    c.hidden_size,
    c.intermediate_size,
    c.num_hidden_layers,
    c.num_attention_heads,
    c.num_key_value_heads,
    c.head_dim,
    c.vocab_size,
    c.tie_word_embeddings,
  ];
  assertEquals(dims(PRESETS["llama-3.2-1b"]!), [2048, 8192, 16, 32, 8, 64, 128256, true]);
  assertEquals(dims(PRESETS["llama-3-8b"]!), [4096, 14336, 32, 32, 8, 128, 128256, false]);
  assertEquals(dims(PRESETS["mistral-7b"]!), [4096, 14336, 32, 32, 8, 128, 32768, false]);
  assertEquals(PRESETS["mistral-7b"]!.rope_theta, 1e6);
});

Deno.test("parameterCount() matches the public sizes and keeps small in the 8–15M range", () => {
  assertEquals(parameterCount(PRESETS["llama-3.2-1b"]!), 1_235_814_400);
  assertEquals(parameterCount(PRESETS["llama-3-8b"]!), 8_030_261_248);
  assertEquals(parameterCount(PRESETS["mistral-7b"]!), 7_248_023_552);
  const small = parameterCount(PRESETS.small!);
  assert(small >= 8e6 && small <= 15e6, `${small}`);
  assert(PRESETS.small!.max_position_embeddings >= 2048 + 256);
  assert(PRESETS.tiny!.max_position_embeddings >= 256);
});

Deno.test("presetConfig() of an unknown name throws a RangeError listing the presets", () => {
  assertThrows(() => presetConfig("huge"), RangeError, "'preset' must be one of tiny, small");
  assertThrows(() => presetConfig("toString"), RangeError, "got 'toString'");
});

Deno.test("validateConfig() rejects dimensions that do not divide, naming field and value", () => {
  const tiny = PRESETS.tiny!;
  const cases: [Partial<LlamaConfig>, string][] = [
    [
      { num_attention_heads: 3 },
      "'hidden_size' (64) must be divisible by 'num_attention_heads' (3)",
    ],
    [
      { num_key_value_heads: 3 },
      "'num_attention_heads' (4) must be divisible by 'num_key_value_heads' (3)",
    ],
    [
      { intermediate_size: 100 },
      "'intermediate_size' must be divisible by 32 (q4 block size), got 100",
    ],
    [
      { hidden_size: 48, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 16 },
      "'hidden_size' must be divisible by 32",
    ],
    [{ head_dim: 15 }, "'head_dim' must be even"],
    [
      { tokenizer_vocab_size: 600 },
      "'tokenizer_vocab_size' (600) must not exceed 'vocab_size' (512)",
    ],
    [{ num_hidden_layers: 0 }, "'num_hidden_layers' must be a positive integer, got 0"],
    [{ rms_norm_eps: 0 }, "'rms_norm_eps' must be positive"],
  ];
  for (const [override, message] of cases) {
    assertThrows(() => validateConfig({ ...tiny, ...override }), RangeError, message);
  }
});
