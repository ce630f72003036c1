import { assertEquals, assertThrows } from "../testing/assert.ts";
import { physicalCores, tunedSessionOptions } from "./session_options.ts";
import { createSession } from "./session.ts";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { toFloat32 } from "./tensors.ts";

async function addModel(): Promise<string> {
  const path = join(await Deno.makeTempDir(), "add.onnx");
  const g = new GraphBuilder("add");
  g.input("a", "float32", [2]).output("y", "float32", [2]);
  g.node("Add", ["a", "a"], ["y"]);
  await writeModel(path, g.toModelBytes());
  return path;
}

Deno.test("physicalCores() counts distinct (physical id, core id) pairs, hyper-threads once", () => {
  const block = (p: number, c: number) =>
    `processor\t: x\nphysical id\t: ${p}\ncore id\t\t: ${c}\n`;
  const text = [block(0, 0), block(0, 0), block(0, 1), block(0, 1), block(1, 0)].join("\n");
  assertEquals(physicalCores(text), 3);
  assertEquals(physicalCores(""), Math.max(1, navigator.hardwareConcurrency || 1));
});

Deno.test("tunedSessionOptions() tunes cpu only, keeps asked threads, and leaves ort-default and parallel alone", () => {
  assertEquals(tunedSessionOptions("cpu"), {
    intraOpNumThreads: physicalCores(),
    executionMode: "sequential",
    sessionConfig: { "intra_op.allow_spinning": "1", "inter_op.allow_spinning": "1" },
  });
  assertEquals(tunedSessionOptions("cpu", { threads: 1 }).intraOpNumThreads, 1);
  assertEquals(tunedSessionOptions("webgpu"), { sessionConfig: {} });
  assertEquals(tunedSessionOptions("cpu", { tuning: "ort-default", threads: 3 }), {
    sessionConfig: {},
    intraOpNumThreads: 3,
  });
  assertEquals(tunedSessionOptions("cpu", { interThreads: 2 }), {
    sessionConfig: {},
    interOpNumThreads: 2,
    executionMode: "parallel",
  });
  assertThrows(
    () => tunedSessionOptions("cpu", { tuning: "fast" as "decode" }),
    RangeError,
    "'tuning' must be one of decode, ort-default, got 'fast'",
  );
});

Deno.test("createSession() runs a graph with either tuning", async () => {
  const path = await addModel();
  for (const tuning of ["decode", "ort-default"] as const) {
    const s = await createSession(path, { tuning });
    const out = await s.session.run({ a: new ort.Tensor("float32", Float32Array.of(1, 2), [2]) });
    assertEquals(Array.from(toFloat32(out.y!)), [2, 4]);
    await s.session.release();
  }
});
