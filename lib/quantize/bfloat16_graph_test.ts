import { join } from "node:path";
import { buildModel } from "../model/build.ts";
import { createSession } from "../runtime/session.ts";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import { DT, type NodeProto, onnx, type ValueInfoProto } from "./_proto.ts";
import { toBfloat16Bits } from "./bfloat16_graph.ts";
import { quantizeModel } from "./quantize_model.ts";

const root = await Deno.makeTempDir({ prefix: "bf16_test-" });
const built = await buildModel({ preset: "tiny", outDir: join(root, "tiny") });
const [report] = await quantizeModel(built.files[0]!.path, ["bf16"]);
const model = onnx.ModelProto.decode(await Deno.readFile(report!.path));
const graph = model.graph!;

Deno.test("bf16: every float weight is bfloat16, rounded from float32 (not through float16)", async () => {
  const fp32 = onnx.ModelProto.decode(await Deno.readFile(built.files[0]!.path)).graph!;
  const floats = (fp32.initializer ?? []).filter((t) => t.dataType === DT.FLOAT);
  const byName = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  assert(floats.length > 10);
  for (const t of floats) {
    const converted = byName.get(t.name)!;
    assertEquals(converted.dataType, DT.BFLOAT16, t.name!);
    const raw = t.rawData!;
    const values = new Float32Array(raw.slice().buffer);
    const expected = new Uint8Array(toBfloat16Bits(values).buffer);
    assertEquals(new Uint8Array(converted.rawData!), expected, t.name!);
  }
  assertEquals(report!.bytes < Deno.statSync(built.files[0]!.path).size * 0.6, true);
});

Deno.test("bf16: graph I/O stays float32 and is cast at the boundary; softmax and norms in float32", () => {
  const type = (v: ValueInfoProto) => v.type?.tensorType?.elemType;
  for (const v of [...graph.input!, ...graph.output!]) {
    if (v.name!.startsWith("past_") || v.name!.startsWith("present") || v.name === "logits") {
      assertEquals(type(v), DT.FLOAT, v.name!);
    }
  }
  const castTo = (n: NodeProto) => Number(n.attribute?.find((a) => a.name === "to")?.i);
  const casts = graph.node!.filter((n) => n.opType === "Cast");
  assert(casts.some((n) => n.input![0] === "past_key_values.0.key" && castTo(n) === DT.BFLOAT16));
  assert(casts.some((n) => n.output![0] === "logits" && castTo(n) === DT.FLOAT));
  // No float16 anywhere.
  assert(!casts.some((n) => castTo(n) === DT.FLOAT16));
  const softmax = graph.node!.filter((n) => n.opType === "Softmax");
  assert(softmax.length > 0 && softmax.every((n) => n.input![0]!.endsWith("_fp32")));
});

Deno.test("bf16 on the CPU provider: the session is refused with ORT's own reason, never run in float32", async () => {
  const error = await assertRejects(() => createSession(report!.path), Error);
  console.log(`ORT CPU on bf16: ${error.message}`);
  assert(error.message.includes("Could not find an implementation"), error.message);
});
