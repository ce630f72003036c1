import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";
import { ensureModel } from "../model/mod.ts";
import { createSession, type OnnxSession } from "../runtime/session.ts";
import { attentionMask, emptyKv, int64Tensor, positionIds, toFloat32 } from "../runtime/tensors.ts";
import { OnnxFile } from "./onnx_file.ts";
import { quantizeModel } from "./quantize_model.ts";

// The variants ORT's CPU provider runs on this fixture; bf16 (no CPU kernels) and q4gptq (needs a
// decoder with config.json to calibrate) are tested in bfloat16_graph_test.ts and gptq_test.ts.
const CPU_DTYPES = ["fp16", "q8", "q4", "q4f16"] as const;

/** Feeds for a prefill of `ids` with an empty cache, shaped from the session's own metadata. */
function prefillFeeds(s: OnnxSession, ids: number[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of s.session.inputMetadata) {
    if (meta.name === "input_ids") feeds[meta.name] = int64Tensor([ids]);
    else if (meta.name === "attention_mask") feeds[meta.name] = attentionMask(1, ids.length);
    else if (meta.name === "position_ids") feeds[meta.name] = positionIds(1, ids.length, 0);
    else if (meta.name === "num_logits_to_keep") {
      feeds[meta.name] = new ort.Tensor("int64", BigInt64Array.of(0n), []);
    } else if (meta.name.startsWith("past_key_values.") && meta.isTensor) {
      const [, heads, , dim] = meta.shape as number[];
      feeds[meta.name] = emptyKv(meta.type === "float16" ? "float16" : "float32", 1, heads!, dim!);
    }
  }
  return feeds;
}

// Relative bounds (max |Δlogit| / max |logit|) on the builder's tiny random-weight decoder;
// measured figures are in the README section of lib/quantize.
const RELATIVE_BOUND = { fp16: 0.01, q8: 0.05, q4: 0.25, q4f16: 0.25 } as const;

Deno.test("quantizeModel() on the builder's tiny Llama decoder: every variant runs and stays within bounds", async () => {
  const cache = await Deno.makeTempDir();
  const built = await ensureModel("tiny", { dtypes: ["fp32"], cacheDir: cache });
  const dir = await Deno.makeTempDir();
  for (const entry of Deno.readDirSync(join(built, "onnx"))) {
    if (entry.name.startsWith("model.onnx")) {
      await Deno.copyFile(join(built, "onnx", entry.name), join(dir, entry.name));
    }
  }
  const path = join(dir, "model.onnx");
  const ids = [1, 7, 42, 3, 99, 5, 12, 8];
  const base = await createSession(path);
  const ref = await base.session.run(prefillFeeds(base, ids));
  const refLogits = toFloat32(ref.logits!);
  const scale = refLogits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const reports = await quantizeModel(path, [...CPU_DTYPES]);
  const src = await OnnxFile.open(path);
  const matmuls = (src.graph.node ?? []).filter((n) => n.opType === "MatMul").length;
  src.close();
  for (const r of reports) {
    const s = await createSession(r.path);
    assertEquals(s.inputNames, base.inputNames);
    assertEquals(s.outputNames, base.outputNames);
    const out = await s.session.run(prefillFeeds(s, ids));
    const float16 = r.dtype === "fp16" || r.dtype === "q4f16";
    assertEquals(out.logits!.type, float16 ? "float16" : "float32");
    // The default (in-place) graph returns the step's keys as present_new.*.
    assertEquals(out["present_new.0.key"]!.type, float16 ? "float16" : "float32");
    const logits = toFloat32(out.logits!);
    let worst = 0;
    for (let i = 0; i < logits.length; i++) {
      worst = Math.max(worst, Math.abs(logits[i]! - refLogits[i]!));
    }
    assert(
      worst / scale <= RELATIVE_BOUND[r.dtype as typeof CPU_DTYPES[number]],
      `${r.dtype}: ${worst / scale}`,
    );
    if (r.dtype !== "fp16") {
      assert(
        r.matmulsRewritten > 0 && r.matmulsRewritten <= matmuls,
        `${r.dtype} rewrote ${r.matmulsRewritten}`,
      );
    }
    await s.session.release();
  }
  await base.session.release();
});
