import { assert, assertEquals } from "../testing/assert.ts";
import { finalReport } from "./final_report.ts";
import { testData } from "./_test_data.ts";

// 4-bit decodes slower than fp16 and its worker peaks at 0.6 GB against 2 GB.
const slower = { fp32: 1, fp16: 1.4, q8: 2, q4: 1 };

Deno.test("only_for_memory rests on peaks from several rounds, never on one sample", () => {
  const rounds = finalReport(testData({ speed: slower })).extended["preset:tiny"]!;
  const check = rounds.checks.four_bit_verdict;
  assertEquals(check.value, "only_for_memory", check.details.reason);
  assertEquals(check.details.memory_established, true);
  assertEquals(check.details.speed_verdict, "slower");
  const entry = finalReport(testData({ speed: slower })).by_model["preset:tiny"]!["4bit"]!;
  assertEquals(entry.memory_longest.rounds, 3);
  assert(entry.memory_longest.range_gb![0] <= entry.memory_longest.median_gb!);
});

Deno.test("one sample per cell: neither the speed nor the memory difference is established", () => {
  const legacy = finalReport(testData({ speed: slower, legacy: true })).extended["preset:tiny"]!;
  const check = legacy.checks.four_bit_verdict;
  assertEquals(check.value, "within_noise", check.details.reason);
  assertEquals(check.details.memory_established, false);
  assert(check.details.memory_reason.includes("one reading per arm"), check.details.memory_reason);
  assertEquals(check.details.speed_ci95, null);
  assertEquals(check.details.speed_rounds, 1);
});

Deno.test("weights and KV-cache bytes are reported beside the peak when the model's shape is known", () => {
  const data = testData({});
  const shaped = finalReport({
    ...data,
    models: {
      "preset:tiny": { parameters: 1e6, num_hidden_layers: 2, num_key_value_heads: 2, head_dim: 8 },
    },
  }).by_model["preset:tiny"]!;
  assertEquals(shaped.fp32!.weights_gb, 0.004);
  assertEquals(shaped["4bit"]!.weights_gb, 0.001);
  // 2 × 2 layers × 2 heads × 8 dims × 4 bytes × (2048 + 16 tokens) × 1: 0.000528 GB → 0.001.
  assertEquals(shaped.fp32!.kv_cache_gb_longest, 0.001);
  assertEquals(finalReport(data).by_model["preset:tiny"]!.fp32!.weights_gb, null);
});
