import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureModel } from "../model/ensure.ts";
import { fakeLlamaCpp } from "./_fake_tools.ts";
import { parseCsv } from "./files.ts";
import { writeVersusFiles } from "./files.ts";
import { versusTable } from "./table.ts";
import { findLlamaCpp } from "./tools.ts";
import { runVersus } from "./versus.ts";
import { readGgufHeader } from "./gguf_read.ts";
import { ggufStoredWeights } from "./step_bytes.ts";
import { readStoredWeights } from "../quantize/step_bytes.ts";
import { PRESETS } from "../model/presets.ts";

Deno.test("runVersus: interleaved rounds of three arms per cell, cached GGUF, files and table", async () => {
  const fake = await fakeLlamaCpp({ tgSeconds: 0.003 });
  const cache = await Deno.makeTempDir({ prefix: "versus-cache-" });
  try {
    const modelDir = await ensureModel("tiny", {
      dtypes: ["fp32"],
      cacheDir: join(cache, "models"),
    });
    const options = {
      modelDir,
      modelName: "preset:tiny",
      tools: findLlamaCpp(fake.dir),
      dtypes: ["q4"],
      contexts: [8, 16],
      newTokens: 4,
      rounds: 2,
      warmup: 1,
      threads: 1,
      target: 0.8,
      cacheDir: cache,
      readGbS: 10,
    };
    const { turns, cells } = await runVersus(options);
    // 2 contexts × 3 rounds (1 warmup) × 3 arms.
    assert.equal(turns.length, 18);
    assert.equal(turns.filter((t) => t.warmup).length, 6);
    for (const context of [8, 16]) {
      for (const round of [1, 2, 3]) {
        const arms = turns.filter((t) => t.context === context && t.round === round);
        assert.deepEqual(
          arms.map((t) => t.contender).sort(),
          ["llama.cpp", "llama.cpp A/A", "ours"],
        );
        assert.deepEqual(arms.map((t) => t.position).sort(), [0, 1, 2]);
      }
      // The arms rotate: over 3 rounds each takes each position once.
      for (const contender of ["ours", "llama.cpp", "llama.cpp A/A"]) {
        const positions = turns.filter((t) => t.context === context && t.contender === contender)
          .map((t) => t.position).sort();
        assert.deepEqual(positions, [0, 1, 2], contender);
      }
    }
    // The fake's decode steps take 3 ms: (4 − 1) / 3 ms = 1000 tokens/s.
    for (const t of turns.filter((t) => t.contender !== "ours")) {
      assert.equal(t.decode_ms, 3);
      assert(Math.abs(t.decode_tok_s - 1000) < 1e-9);
      assert.equal(t.first_step_ms, null);
    }
    // Ours: the first decode step and the later steps' median, each inside the turn's decode time.
    for (const t of turns.filter((t) => t.contender === "ours")) {
      assert(t.first_step_ms! > 0 && t.later_step_median_ms! > 0, JSON.stringify(t));
      assert(t.first_step_ms! + 2 * t.later_step_median_ms! <= t.decode_ms + 1e-9);
    }
    assert.equal(cells.length, 2);
    for (const c of cells) {
      assert.equal(c.rounds, 2);
      assert.equal(c.llama_type, "Q4_0");
      assert.equal(c.quantization, "q4 b32 acc4");
      assert.equal(c.theirs_median, 1000);
      assert.equal(c.aa.ratio, 1);
      const ours = turns.filter((t) =>
        t.context === c.context && t.contender === "ours" && !t.warmup
      ).map((t) => t.decode_tok_s);
      const geo = Math.exp(ours.reduce((s, x) => s + Math.log(x / 1000), 0) / ours.length);
      assert(Math.abs(c.comparison.ratio! - geo) < 1e-9);
      assert.notEqual(c.target_verdict, null);
      // Each side's bytes per step: its stored weights plus the KV at the mean decode position
      // (context + ⌊4 / 2⌋), f32 on our side and f16 on llama.cpp's (the fake quantizer copies
      // the F32 GGUF, so the GGUF side is the F32 file's tensors).
      const { num_hidden_layers: layers, num_key_value_heads: kvHeads, head_dim: headDim } = PRESETS
        .tiny!;
      const kvPerElement = layers * 2 * kvHeads * headDim * (c.context + 2);
      const gguf = ggufStoredWeights(
        readGgufHeader(join(cache, "llamacpp", "tiny-s42", "Q4_0.gguf")),
      );
      assert.equal(c.llamacpp_bytes_per_token, gguf.wholeBytes + gguf.rowBytes + kvPerElement * 2);
      const onnx = await readStoredWeights(
        join(cache, "speed", "tiny-s42", "q4-b32-acc4", "onnx", "model_q4.onnx"),
      );
      assert.equal(c.ours_bytes_per_token, onnx.wholeBytes + onnx.rowBytes + kvPerElement * 4);
      assert(
        Math.abs(c.llamacpp_effective_gb_s! - c.llamacpp_bytes_per_token! * 1000 / 1e9) < 1e-12,
      );
      assert(Math.abs(c.ours_bandwidth_fraction! - c.ours_effective_gb_s! / 10) < 1e-12);
    }
    // The float32 GGUF was converted once and quantized once, then reused.
    await runVersus({ ...options, contexts: [8], rounds: 2, warmup: 0 });
    const quantized = (await Deno.readTextFile(fake.quantizeLog)).trim().split("\n");
    assert.equal(quantized.length, 1);
    assert.match(quantized[0]!, /F32\.gguf .*Q4_0\.gguf\.partial Q4_0 1/);
    // Rebuilt weights (here: a rewritten safetensors file) are converted and quantized afresh.
    const weights = join(modelDir, "model.safetensors");
    await Deno.writeFile(weights, await Deno.readFile(weights));
    await Deno.utime(weights, new Date(), new Date(Date.now() + 5000));
    await runVersus({ ...options, contexts: [8], rounds: 2, warmup: 0 });
    assert.equal(
      (await Deno.readTextFile(fake.quantizeLog)).trim().split("\n").length,
      2,
    );
    // A GGUF that cannot be sized leaves llama.cpp's bytes empty and says so; the rest still runs.
    await Deno.writeTextFile(join(cache, "llamacpp", "tiny-s42", "Q4_0.gguf"), "not a gguf");
    const said: string[] = [];
    const unsized = await runVersus({
      ...options,
      contexts: [8],
      rounds: 2,
      warmup: 0,
      onProgress: (line) => said.push(line),
    });
    assert(
      said.some((l) => /cannot size .*Q4_0\.gguf: .*bytes columns stay empty/.test(l)),
      said.join("\n"),
    );
    assert.equal(unsized.cells[0]!.llamacpp_bytes_per_token, null);
    assert.equal(unsized.cells[0]!.llamacpp_bandwidth_fraction, null);
    assert(unsized.cells[0]!.ours_bytes_per_token! > 0);
    // Written files read back into the same table.
    const out = join(cache, "out");
    await writeVersusFiles(out, { turns, cells }, { llama_cpp_version: "42 (fake)" });
    const lines = parseCsv(await Deno.readTextFile(join(out, "cells.csv")));
    assert.equal(lines.length, 2);
    assert.equal(versusTable(lines), versusTable(cells));
    assert.equal(parseCsv(await Deno.readTextFile(join(out, "turns.csv"))).length, 18);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("runVersus: a dtype without a llama.cpp type and too few rounds are refused up front", async () => {
  const fake = await fakeLlamaCpp();
  try {
    const base = {
      modelDir: "unused",
      modelName: "x",
      tools: findLlamaCpp(fake.dir),
      contexts: [8],
      threads: 1,
      cacheDir: "unused",
    };
    await assert.rejects(
      runVersus({ ...base, dtypes: ["q4f16"] }),
      /--dtypes: 'q4f16' has no llama.cpp counterpart/,
    );
    await assert.rejects(runVersus({ ...base, dtypes: ["q4"], rounds: 1 }), /--rounds must be/);
  } finally {
    await Deno.remove(fake.dir, { recursive: true });
  }
});
