/**
 * What ONNX Runtime's optimiser makes of the Llama graph: the optimised model is dumped
 * (`optimizedModelFilePath`) and its op types counted, so a change that stops a fusion fails here.
 */
import { join } from "node:path";
import { assertEquals } from "../testing/assert.ts";
import { OnnxFile } from "../quantize/onnx_file.ts";
import { createSession } from "../runtime/session.ts";
import { ensureModel } from "./ensure.ts";
import { PRESETS } from "./presets.ts";

async function optimizedOpCounts(model: string, out: string): Promise<Record<string, number>> {
  const s = await createSession(model, { optimizedModelFilePath: out });
  await s.session.release();
  const f = await OnnxFile.open(out);
  const counts: Record<string, number> = {};
  for (const n of f.graph.node ?? []) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
  f.close();
  return counts;
}

Deno.test("the optimised graph has one RotaryEmbedding per q and k; ORT fuses every RMSNorm of the fp32, q4 and q8 graphs into SimplifiedLayerNormalization; q4 and q8 MatMulNBits stay", async () => {
  const cacheDir = await Deno.makeTempDir();
  const dir = await ensureModel("tiny", { dtypes: ["fp32", "q4", "q8"], cacheDir });
  const layers = PRESETS.tiny!.num_hidden_layers;
  for (const [dtype, file] of [["fp32", "model"], ["q4", "model_q4"], ["q8", "model_quantized"]]) {
    const counts = await optimizedOpCounts(
      join(dir, "onnx", `${file}.onnx`),
      join(cacheDir, `${dtype}.opt.onnx`),
    );
    console.log(`${dtype}: ${JSON.stringify(counts)}`);
    assertEquals(counts.SimplifiedLayerNormalization, 2 * layers + 1, `${dtype} norms`);
    assertEquals(counts.RotaryEmbedding, 2 * layers, `${dtype} rotary (q and k per layer)`);
    for (const op of ["Pow", "Sqrt", "ReduceMean", "Div", "Neg"]) {
      assertEquals(counts[op], undefined, op);
    }
    // No rotate_half Split left; the in-place attention splits its probabilities once per layer,
    // and the quantised graphs split each layer's packed q|k|v and gate|up products.
    assertEquals(counts.Split, dtype === "fp32" ? layers : 3 * layers, "Split");
    if (dtype !== "fp32") assertEquals(counts.MatMulNBits, 4 * layers + 1, `${dtype} MatMulNBits`);
  }
});
