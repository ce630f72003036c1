import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { assert, assertEquals } from "../testing/assert.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { attentionMask, emptyKv, int64Tensor, positionIds } from "../runtime/tensors.ts";
import { tempDir } from "./_testing.ts";
import { buildModel } from "./build.ts";
import { PRESETS } from "./presets.ts";

const root = await tempDir("input_defaults_test-");
const tiny = PRESETS.tiny!;
const prompt = [5, 17, 99, 3, 42, 7];

/** Feeds of a plain session: the decoder inputs it lists, nothing else. */
function plainFeeds(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64Tensor([prompt]),
    attention_mask: attentionMask(1, prompt.length),
    position_ids: positionIds(1, prompt.length, 0),
  };
  for (const name of session.inputNames.filter((n) => n.startsWith("past_key_values."))) {
    feeds[name] = emptyKv("float32", 1, tiny.num_key_value_heads, tiny.head_dim);
  }
  return feeds;
}

for (const attention of ["in_place", "standard"] as const) {
  Deno.test(`a plain onnxruntime-node session runs the ${attention} graph without num_logits_to_keep (default: every position)`, async () => {
    const out = await buildModel({ preset: "tiny", outDir: join(root, attention), attention });
    const session = await ort.InferenceSession.create(out.files[0]!.path);
    try {
      assertEquals(session.inputNames.includes("num_logits_to_keep"), false);
      const result = await session.run(plainFeeds(session));
      assertEquals(result.logits!.dims, [1, prompt.length, tiny.vocab_size]);
    } finally {
      await session.release();
    }
  });
}

Deno.test("the engine still sets num_logits_to_keep: last position in generation, every one when scoring, same logits as a plain session", async () => {
  for (const externalData of [false, true]) {
    const out = await buildModel({
      preset: "tiny",
      outDir: join(root, `engine-${externalData}`),
      externalData,
    });
    const plain = await ort.InferenceSession.create(out.files[0]!.path);
    const all = (await plain.run(plainFeeds(plain))).logits!.data as Float32Array;
    await plain.release();
    const model = await loadDecoder(await resolveModel(out.outDir), { dtype: "fp32", threads: 1 });
    try {
      assertEquals(model.logitsPositions, "last");
      // The engine's copy sits beside the file (external data resolves the same); the file as
      // built keeps its default.
      assertEquals(model.session.modelPath, out.files[0]!.path.replace(/\.onnx$/, ".engine.onnx"));
      assert(model.session.inputNames.includes("num_logits_to_keep"));
      const step = await model.step(
        int64Tensor([prompt]),
        attentionMask(1, prompt.length),
        positionIds(1, prompt.length, 0),
        null,
        false,
      );
      assertEquals(step.logits.dims, [1, 1, tiny.vocab_size]);
      const last = all.subarray((prompt.length - 1) * tiny.vocab_size);
      assertEquals(Array.from(step.logits.data as Float32Array), Array.from(last));
      const scored = await model.forward([prompt]);
      assertEquals(
        Array.from(scored.data as Float32Array),
        Array.from(all),
        `external ${externalData}`,
      );
    } finally {
      await model.dispose();
    }
  }
});
