import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { fakeLlamaCpp } from "./_fake_tools.ts";
import {
  findLlamaCpp,
  llamaCppVersion,
  parseBatchedBench,
  quantizeGguf,
  runBatchedBench,
} from "./tools.ts";

Deno.test("findLlamaCpp names the missing program; finds both in a folder", async () => {
  const fake = await fakeLlamaCpp();
  try {
    assert.equal(findLlamaCpp(fake.dir).batchedBench, join(fake.dir, "llama-batched-bench"));
    await Deno.remove(join(fake.dir, "llama-quantize"));
    assert.throws(() => findLlamaCpp(fake.dir), /--llama-cpp: '.*llama-quantize' does not exist/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("parseBatchedBench skips log lines and rejects output without a result", () => {
  const r = parseBatchedBench(
    'main: n_kv_max = 2048\n|    PP |\n{"n_threads": 2, "pp": 2016, "tg": 31, "pl": 1, "t_pp": 3.2, ' +
      '"speed_pp": 630, "t_tg": 0.0465, "speed_tg": 666.7}\nllama_perf_context_print: load time',
  );
  assert.deepEqual([r.pp, r.tg, r.n_threads, r.t_tg], [2016, 31, 2, 0.0465]);
  assert.throws(() => parseBatchedBench("error: failed to load model\n"), /printed no JSON result/);
  assert.throws(
    () =>
      parseBatchedBench('{"speed_tg": 1, "pp": 1, "tg": 1, "pl": 1, "n_threads": 1, "t_pp": 1}'),
    /'t_tg' missing/,
  );
});

Deno.test("runBatchedBench passes prompt, steps, threads and a context that holds both", async () => {
  const fake = await fakeLlamaCpp({ tgSeconds: 0.05 });
  try {
    const tools = findLlamaCpp(fake.dir);
    const r = await runBatchedBench(tools, {
      model: "m.gguf",
      context: 2016,
      decodeSteps: 31,
      threads: 3,
    });
    assert.deepEqual([r.pp, r.tg, r.n_threads, r.t_tg], [2016, 31, 3, 0.05]);
    const args = (await Deno.readTextFile(fake.benchLog)).trim().split(" ");
    const flag = (f: string) => args[args.indexOf(f) + 1];
    assert.equal(flag("-m"), "m.gguf");
    assert.equal(flag("-npp"), "2016");
    assert.equal(flag("-ntg"), "31");
    assert.equal(flag("-npl"), "1");
    assert.equal(flag("-t"), "3");
    assert(Number(flag("-c")) >= 2016 + 31);
    assert(Number(flag("-b")) >= 2016, "the whole prompt fits one batch");
    assert.equal(await llamaCppVersion(tools), "42 (fake)");
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("runBatchedBench: a failing program is one error with its last lines", async () => {
  const fake = await fakeLlamaCpp({ benchExit: 3 });
  try {
    await assert.rejects(
      runBatchedBench(findLlamaCpp(fake.dir), {
        model: "m.gguf",
        context: 8,
        decodeSteps: 3,
        threads: 1,
      }),
      /llama-batched-bench exited with 3/,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});

Deno.test("runBatchedBench refuses a result for other work than asked", async () => {
  const fake = await fakeLlamaCpp({ extraTg: 1 });
  try {
    await assert.rejects(
      runBatchedBench(findLlamaCpp(fake.dir), {
        model: "m.gguf",
        context: 8,
        decodeSteps: 3,
        threads: 1,
      }),
      /llama-batched-bench ran tg = 4, not 3/,
    );
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
  const zero = await fakeLlamaCpp({ tgSeconds: 0 });
  try {
    await assert.rejects(
      runBatchedBench(findLlamaCpp(zero.dir), {
        model: "m.gguf",
        context: 8,
        decodeSteps: 3,
        threads: 1,
      }),
      /t_tg = 0 s/,
    );
  } finally {
    await Deno.remove(zero.dir, { recursive: true });
  }
});

Deno.test("quantizeGguf renames into place; a failure leaves no file", async () => {
  const good = await fakeLlamaCpp();
  const bad = await fakeLlamaCpp({ quantizeFails: true });
  try {
    const f32 = join(good.dir, "F32.gguf");
    await Deno.writeTextFile(f32, "GGUF");
    const out = join(good.dir, "Q4_0.gguf");
    await quantizeGguf(findLlamaCpp(good.dir), f32, "Q4_0", out, 2);
    assert.equal(await Deno.readTextFile(out), "GGUF");
    assert.match(
      await Deno.readTextFile(good.quantizeLog),
      /F32\.gguf .*Q4_0\.gguf\.partial Q4_0 2/,
    );
    const failed = join(bad.dir, "Q8_0.gguf");
    await assert.rejects(
      quantizeGguf(findLlamaCpp(bad.dir), f32, "Q8_0", failed, 2),
      /llama-quantize Q8_0 exited with 1: llama_model_quantize: failed/,
    );
    assert(!existsSync(failed) && !existsSync(`${failed}.partial`));
  } finally {
    await Deno.remove(good.dir, { recursive: true });
    await Deno.remove(bad.dir, { recursive: true });
  }
});
