import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { assert, assertEquals } from "../testing/assert.ts";
import { createSession } from "../runtime/session.ts";
import { toFloat32 } from "../runtime/tensors.ts";
import { FIXTURE, writeFixtureModel } from "./_test_graph.ts";
import { OnnxFile } from "./onnx_file.ts";
import { quantizeModel } from "./quantize_model.ts";
import { quantizationLabel, readQuantizationMetadata } from "./quantization_metadata.ts";

const { kvHeads, headDim } = FIXTURE;

/** The fixture's outputs for fixed inputs. */
async function run(path: string) {
  const past = Float32Array.from({ length: kvHeads * 3 * headDim }, (_, i) => (i % 5) / 4 - 0.5);
  const s = await createSession(path);
  try {
    const out = await s.session.run({
      input_ids: new ort.Tensor("int64", new BigInt64Array([3n, 1n, 4n, 1n, 5n, 9n]), [1, 6]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(6).fill(1n), [1, 6]),
      "past_key_values.0.key": new ort.Tensor("float32", past, [1, kvHeads, 3, headDim]),
    });
    return { logits: toFloat32(out.logits!), present: toFloat32(out["present.0.key"]!) };
  } finally {
    await s.session.release();
  }
}

async function ops(path: string): Promise<{ op: string; name: string; inputs: string[] }[]> {
  const f = await OnnxFile.open(path);
  try {
    return (f.graph.node ?? []).map((n) => ({
      op: n.opType ?? "",
      name: n.name ?? "",
      inputs: n.input ?? [],
    }));
  } finally {
    f.close();
  }
}

Deno.test("packed MatMulNBits: fewer nodes, the same outputs bit for bit (q4, q8; acc 0 and 4; sym)", async () => {
  for (
    const [dtype, options] of [
      ["q4", { accuracyLevel: 4 }],
      ["q4", { accuracyLevel: 0 }],
      ["q4", { accuracyLevel: 4, symmetric: true }],
      ["q8", { accuracyLevel: 4 }],
    ] as const
  ) {
    const dir = await Deno.makeTempDir({ prefix: "pack-" });
    try {
      const paths = [];
      for (const packMatMuls of [false, true]) {
        await Deno.mkdir(join(dir, String(packMatMuls)));
        const fp32 = await writeFixtureModel(join(dir, String(packMatMuls)));
        const [r] = await quantizeModel(fp32, [dtype], { ...options, packMatMuls });
        paths.push(r!.path);
      }
      const [plain, packed] = paths as [string, string];
      const what = `${dtype} ${JSON.stringify(options)}`;
      // The fixture's k projection and MLP up projection read the same activation.
      const before = await ops(plain);
      const after = await ops(packed);
      const count = (list: { op: string }[], op: string) => list.filter((n) => n.op === op).length;
      assertEquals(count(before, "MatMulNBits"), 4, what);
      assertEquals(count(after, "MatMulNBits"), 3, what);
      assertEquals(count(after, "Split"), count(before, "Split") + 1, what);
      const node = after.find((n) => n.op === "MatMulNBits" && n.name.endsWith("_packed"))!;
      assertEquals(node.inputs.length, options.symmetric ? 3 : 4, what);
      const a = await run(plain);
      const b = await run(packed);
      assertEquals(b.logits, a.logits, `${what}: logits`);
      assertEquals(b.present, a.present, `${what}: present`);
      const meta = [await readQuantizationMetadata(plain), await readQuantizationMetadata(packed)];
      assertEquals(meta.map((m) => m?.packed), [false, true]);
      assert(quantizationLabel(meta[0]!).endsWith(" unpacked"), what);
      assert(!quantizationLabel(meta[1]!).includes("unpacked"), what);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("float variants are not packed and say so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pack-" });
  try {
    const fp32 = await writeFixtureModel(dir);
    const [fp16] = await quantizeModel(fp32, ["fp16"]);
    assertEquals((await readQuantizationMetadata(fp16!.path))?.packed, false);
    assert(!(await ops(fp16!.path)).some((n) => n.name.endsWith("_packed")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
