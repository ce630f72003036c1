import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import { join } from "node:path";
import { tinyModel } from "./_fixture.ts";
import { localDtypes, onnxFile, parseModelConfig, resolveModel } from "./resolve.ts";
import { withTimeout } from "../testing/timeout.ts";

/** A copy of the tiny model's directory with the given ONNX files (fp32's bytes, renamed). */
async function modelDir(files: string[]): Promise<string> {
  const tiny = await tinyModel();
  const dir = await Deno.makeTempDir();
  for (const name of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(tiny.dir, name), join(dir, name));
  }
  await Deno.mkdir(join(dir, "onnx"));
  for (const file of files) await Deno.copyFile(tiny.onnxPath("fp32"), join(dir, file));
  return dir;
}

Deno.test("resolveModel() of a local dir reads config, tokenizer and ONNX path", async () => {
  const dir = await modelDir(["onnx/model.onnx"]);
  const m = await resolveModel(dir);
  assertEquals(m.source, "local");
  assertEquals(m.dir, dir);
  const raw = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  assertEquals(m.config.vocabSize, raw.vocab_size);
  assertEquals(m.config.numLayers, raw.num_hidden_layers);
  assertEquals(m.config.eosTokenIds, [raw.eos_token_id]);
  assertEquals(m.onnxPath("fp32"), join(dir, "onnx/model.onnx"));
  assert(m.tokenizer.encode("hello world").length > 0);
});

Deno.test("resolveModel() lists the dtypes whose files exist, in DTYPES order", async () => {
  const dir = await modelDir([
    "onnx/model_q4.onnx",
    "onnx/model.onnx",
    "onnx/model_quantized.onnx",
  ]);
  await Deno.writeFile(join(dir, "onnx/model_q4.onnx_data"), new Uint8Array(8));
  const m = await resolveModel(dir);
  assertEquals(m.availableDtypes, ["fp32", "q8", "q4"]);
  assertEquals(localDtypes(dir), ["fp32", "q8", "q4"]);
  assertEquals(m.externalData("q4"), [join(dir, "onnx/model_q4.onnx_data")]);
});

Deno.test("onnxPath() of a missing dtype names it and lists the available ones", async () => {
  const dir = await modelDir(["onnx/model.onnx", "onnx/model_q4.onnx"]);
  const m = await resolveModel(dir);
  assertThrows(() => m.onnxPath("fp16"), RangeError, "no 'fp16' weights (available: fp32, q4)");
  await assertRejects(
    () => resolveModel(dir, { dtypes: ["q4f16"] }),
    RangeError,
    "(available: fp32, q4)",
  );
});

Deno.test("resolveModel() of a Hub id offline fails with one line suggesting a local dir", async () => {
  const cacheDir = await Deno.makeTempDir();
  const error = await assertRejects(
    () => resolveModel("onnx-community/Llama-3.2-1B-Instruct", { offline: true, cacheDir }),
    Error,
    "Cannot resolve model 'onnx-community/Llama-3.2-1B-Instruct'",
  );
  assert(error.message.includes("local directory"), error.message);
  assert(!error.message.includes("\n"), error.message);
});

Deno.test("resolveModel() of a Hub id with the Hub unreachable fails in one line", () =>
  withTimeout("resolveModel() against an unreachable Hub", 60_000, async () => {
    const { env } = await import("@huggingface/transformers");
    const host = env.remoteHost;
    env.remoteHost = "http://127.0.0.1:9/"; // the discard port: nothing listens
    try {
      const error = await assertRejects(
        () => resolveModel("owner/model", { offline: false, cacheDir: Deno.makeTempDirSync() }),
        Error,
        "Cannot resolve model 'owner/model'",
      );
      assert(!error.message.includes("\n") && error.message.includes("local directory"));
    } finally {
      env.remoteHost = host;
    }
  }));

Deno.test("resolveModel() of a Hub id fetches config, tokenizer and one dtype into the cache", () =>
  withTimeout("resolveModel() against a stand-in Hub on 127.0.0.1", 60_000, async (signal) => {
    const { env } = await import("@huggingface/transformers");
    const tiny = await tinyModel();
    const dir = await modelDir(["onnx/model.onnx", "onnx/model_q4.onnx"]);
    await Deno.writeFile(join(dir, "onnx/model_q4.onnx_data"), new Uint8Array([1, 2, 3]));
    const requests: string[] = [];
    // A stand-in for the Hub: serves `dir` at /<owner>/<name>/resolve/main/<file>.
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname;
      requests.push(`${path}|${req.headers.get("range") ?? ""}`);
      const file = /^\/test\/tiny\/resolve\/main\/(.+)$/.exec(path)?.[1];
      try {
        if (file === undefined) throw new Error("not a file URL");
        return new Response(await Deno.readFile(join(dir, file)));
      } catch {
        return new Response("Entry not found", { status: 404 });
      }
    });
    signal.addEventListener("abort", () => server.shutdown().catch(() => {}));
    const host = env.remoteHost;
    env.remoteHost = `http://127.0.0.1:${server.addr.port}/`;
    try {
      const cacheDir = await Deno.makeTempDir();
      const m = await resolveModel("test/tiny", { cacheDir, dtypes: ["q4"], offline: false });
      assertEquals(m.source, "hub");
      assertEquals(m.dir, join(cacheDir, "test/tiny"));
      assertEquals(m.availableDtypes, ["fp32", "q4"]);
      assertEquals(m.onnxPath("q4"), join(cacheDir, "test/tiny/onnx/model_q4.onnx"));
      assertEquals(m.config, tiny.config);
      // fp32 is offered but was not asked for, so it was not downloaded.
      // (transformers.js probes each dtype with a one-byte range request; no full GET of fp32).
      assert(!requests.includes("/test/tiny/resolve/main/onnx/model.onnx|"), requests.join());
      assert(requests.includes("/test/tiny/resolve/main/onnx/model_q4.onnx|"), requests.join());
      assertThrows(() => m.onnxPath("fp32"), RangeError, "offered but not local");
      // External data the config does not declare is found by probing and fetched too.
      assertEquals(m.externalData("q4"), [join(cacheDir, "test/tiny/onnx/model_q4.onnx_data")]);
      // Offline, the same cache resolves without the server.
      await server.shutdown();
      const offline = await resolveModel("test/tiny", { cacheDir, dtypes: ["q4"], offline: true });
      assertEquals(offline.availableDtypes, ["q4"]);
    } finally {
      env.remoteHost = host;
      await server.shutdown().catch(() => {});
    }
  }));

Deno.test("resolveModel() rejects a missing directory and a malformed reference", async () => {
  await assertRejects(() => resolveModel("/nonexistent/model"), RangeError, "does not exist");
  await assertRejects(() => resolveModel("not a model id"), RangeError, "neither a directory");
  await assertRejects(() => resolveModel("preset:tiny@x"), RangeError, "preset:NAME[@SEED]");
  await assertRejects(() => resolveModel("preset:tiny+flash"), RangeError, "[+ATTENTION]");
});

Deno.test("parseModelConfig() maps HF and GPT-2 names and derives head_dim", () => {
  const llama = parseModelConfig({
    model_type: "llama",
    vocab_size: 100,
    num_hidden_layers: 3,
    num_attention_heads: 8,
    num_key_value_heads: 2,
    hidden_size: 256,
    max_position_embeddings: 1024,
    bos_token_id: 1,
    eos_token_id: [2, 3],
  });
  assertEquals(llama, {
    modelType: "llama",
    vocabSize: 100,
    numLayers: 3,
    numHeads: 8,
    numKvHeads: 2,
    headDim: 32,
    maxPositions: 1024,
    bosTokenId: 1,
    eosTokenIds: [2, 3],
    padTokenId: 2,
  });
  const gpt2 = parseModelConfig({
    model_type: "gpt2",
    vocab_size: 50257,
    n_layer: 12,
    n_head: 12,
    n_embd: 768,
    n_positions: 1024,
    eos_token_id: 50256,
  });
  assertEquals([gpt2.numLayers, gpt2.numKvHeads, gpt2.headDim, gpt2.maxPositions], [
    12,
    12,
    64,
    1024,
  ]);
  assertThrows(() => parseModelConfig({ vocab_size: 1 }), RangeError, "'num_attention_heads'");
  assertThrows(
    () => parseModelConfig({ num_attention_heads: 2, hidden_size: 8, vocab_size: -1 }),
    RangeError,
    "'vocab_size' must be a positive integer, got -1",
  );
  assertEquals(onnxFile("q4f16"), "onnx/model_q4f16.onnx");
});

Deno.test("resolveModel() reads the weights' origin from config.json, not from the reference", async () => {
  assertEquals((await tinyModel()).weights, "random");
  // The same files as a local directory are still random: the config says so.
  const dir = await modelDir(["onnx/model.onnx"]);
  assertEquals((await resolveModel(dir)).weights, "random");
  // An imported checkpoint's config (turbo_inference.weights: "imported") is trained.
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  config.turbo_inference = { weights: "imported", source: "checkpoint" };
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  assertEquals((await resolveModel(dir)).weights, "trained");
});
