import assert from "node:assert/strict";
import { BENCH_DEFAULTS, benchFlags, FIELDS, validateBenchmarkRequest } from "./validate.ts";
import { BENCHMARK_REQUEST_SCHEMA } from "./openapi.ts";
import { listModels } from "./models.ts";

const models = listModels({ modelCache: Deno.makeTempDirSync() });

Deno.test("validateBenchmarkRequest(): omitted keys take bench's defaults", () => {
  const r = validateBenchmarkRequest({ model: "preset:small" }, models);
  assert.deepEqual(r, { ...BENCH_DEFAULTS, model: "preset:small" });
  assert.deepEqual(
    [r.prompt_tokens, r.max_new_tokens, r.warmup, r.runs, r.batch, r.dtype, r.device, r.use_cache],
    [512, 100, 3, 10, 1, "fp32", "cpu", true],
    "bench's defaults (lib/cli/bench.ts)",
  );
});

Deno.test("benchFlags(): a prompt text replaces the synthetic prompt", () => {
  const flags = benchFlags(
    validateBenchmarkRequest({ model: "preset:tiny", prompt: "Hi there", chat: true }, models),
  );
  assert(!flags.includes("--prompt-tokens"));
  assert.deepEqual(flags.slice(flags.indexOf("--prompt"), flags.indexOf("--prompt") + 4), [
    "--prompt",
    "Hi there",
    "--chat",
    "true",
  ]);
});

Deno.test("the OpenAPI schema of POST /benchmarks has exactly the validated keys", () => {
  assert.deepEqual(
    Object.keys(BENCHMARK_REQUEST_SCHEMA.properties).sort(),
    Object.keys(FIELDS).sort(),
  );
});

Deno.test("validateBenchmarkRequest(): chat without a prompt, and a relative local path, are rejected", () => {
  assert.throws(
    () => validateBenchmarkRequest({ model: "preset:tiny", chat: true }, models),
    /'chat'/,
  );
  assert.throws(() => validateBenchmarkRequest({ model: "../etc" }, models), /'model' is unknown/);
  assert.throws(
    () => validateBenchmarkRequest({ model: "preset:tiny", runs: 1.5 }, models),
    /'runs'/,
  );
});
