import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";
import { createSession, deviceUnavailableReason, externalDataNextTo } from "./session.ts";
import { skipIf } from "../testing/skip.ts";
import { ExecutionProviderUnavailableError } from "./errors.ts";
import { toFloat32 } from "./tensors.ts";

async function addModel(dir: string, type: "float32" | "float16", external = false) {
  const g = new GraphBuilder("add");
  g.input("x", type, ["n"]).output("y", type, ["n"]);
  g.node("Add", ["x", "x"], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(path, g.toModelBytes(), external ? join(dir, "model.onnx_data") : undefined);
  return path;
}

/** x · W with W = [[1,2],[3,4], …] stored as external data. */
async function matmulModel(dir: string, rows: number): Promise<string> {
  const g = new GraphBuilder("mm");
  g.input("x", "float32", [1, rows]).output("y", "float32", [1, 2]);
  const w = Float32Array.from({ length: rows * 2 }, (_, i) => i + 1);
  g.initializer("W", "float32", [rows, 2], w);
  g.node("MatMul", ["x", "W"], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(
    path,
    g.toModelBytes({ externalDataName: "model.onnx_data", externalThresholdBytes: 16 }),
    join(dir, "model.onnx_data"),
  );
  return path;
}

Deno.test("createSession() on cpu runs a graph whose nodes ORT placed on the CPU provider", async () => {
  const dir = await Deno.makeTempDir();
  const s = await createSession(await addModel(dir, "float32"), {
    device: "cpu",
    profilePlacement: true,
  });
  const out = await s.session.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });
  assertEquals(Array.from(out.y!.data as Float32Array), [2, 4]);
  // Read from ORT's profile, not from the device → provider table.
  const placement = await s.placement();
  assertEquals(Object.keys(placement.byProvider), [s.executionProvider]);
  assertEquals(placement.offProvider, 0);
});

Deno.test("createSession() round-trips float16 tensors under Deno (Float16Array fix)", async () => {
  const dir = await Deno.makeTempDir();
  const s = await createSession(await addModel(dir, "float16"));
  // 1.0, 2.0, -0.5 in IEEE half.
  const x = new ort.Tensor("float16", new Uint16Array([0x3c00, 0x4000, 0xb800]), [3]);
  const first = await s.session.run({ x });
  assertEquals(Array.from(toFloat32(first.y!)), [2, 4, -1]);
  // Feed the output (a Float16Array-backed tensor) straight back, as a KV cache is.
  const second = await s.session.run({ x: first.y! });
  assertEquals(Array.from(toFloat32(second.y!)), [4, 8, -2]);
});

Deno.test("createSession() loads external data next to the model", async () => {
  const dir = await Deno.makeTempDir();
  const path = await matmulModel(dir, 4);
  assert((await Deno.stat(join(dir, "model.onnx_data"))).size >= 32);
  const s = await createSession(path);
  assertEquals(s.externalDataFiles, [join(dir, "model.onnx_data")]);
  const out = await s.session.run({
    x: new ort.Tensor("float32", new Float32Array([1, 0, 0, 1]), [1, 4]),
  });
  assertEquals(Array.from(out.y!.data as Float32Array), [1 + 7, 2 + 8]);
  assertEquals(externalDataNextTo(join(dir, "other.onnx")), []);
});

Deno.test("createSession() names missing external data", async () => {
  const dir = await Deno.makeTempDir();
  const path = await matmulModel(dir, 4);
  await Deno.remove(join(dir, "model.onnx_data"));
  await assertRejects(() => createSession(path), Error, "model.onnx");
});

const CUDA_REASON = deviceUnavailableReason("cuda");

Deno.test({
  name: "createSession() with cuda absent raises ExecutionProviderUnavailableError",
  // In the project's GPU image (Dockerfile.gpu) the CUDA EP is installed: the test below runs.
  ignore: skipIf("cuda absent", CUDA_REASON === null ? "the CUDA EP is installed here" : null),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = await addModel(dir, "float32");
    const err = await assertRejects(
      () => createSession(path, { device: "cuda" }),
      ExecutionProviderUnavailableError,
    );
    assert(err.message.includes("ONNXRUNTIME_NODE_INSTALL=cuda12"), err.message);
    assert(!err.message.includes("\n"), "one-line message");
    assertEquals(err.device, "cuda");
  },
});

Deno.test({
  name: "createSession() with the CUDA EP installed runs on CUDA and counts its CPU fallbacks",
  ignore: skipIf("cuda present", CUDA_REASON === null ? null : "the CUDA EP is not installed here"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const s = await createSession(await addModel(dir, "float32"), {
      device: "cuda",
      profilePlacement: true,
    });
    const out = await s.session.run({
      x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]),
    });
    assertEquals(Array.from(out.y!.data as Float32Array), [2, 4]);
    const placement = await s.placement();
    assertEquals(s.executionProvider, "CUDAExecutionProvider");
    // Add runs on CUDA (ORT's Memcpy nodes around it belong to the CUDA EP too).
    assert((placement.byProvider.CUDAExecutionProvider ?? 0) >= 1, JSON.stringify(placement));
    assertEquals(placement.offProvider, 0, JSON.stringify(placement));
  },
});

Deno.test("createSession() with webgpu and no adapter raises ExecutionProviderUnavailableError", async () => {
  const dir = await Deno.makeTempDir();
  const path = await addModel(dir, "float32");
  try {
    const s = await createSession(path, { device: "webgpu" });
    // A machine with a GPU adapter: the session must then really be on WebGPU.
    assertEquals(s.executionProvider, "WebGpuExecutionProvider");
  } catch (error) {
    assert(error instanceof ExecutionProviderUnavailableError, String(error));
    assert(!error.message.includes("\n"), "one-line message");
  }
});

Deno.test("createSession() rejects bad input with messages naming the argument", async () => {
  const dir = await Deno.makeTempDir();
  const path = await addModel(dir, "float32");
  await assertRejects(() => createSession(join(dir, "none.onnx")), Error, "does not exist");
  await assertRejects(() => createSession(dir), Error, "is not a file");
  const junk = join(dir, "junk.onnx");
  await Deno.writeTextFile(junk, "this is not a model");
  await assertRejects(() => createSession(junk), Error, "not a readable ONNX model");
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => createSession(path, { device: "tpu" as any }),
    RangeError,
    "unknown device 'tpu'",
  );
  await assertRejects(
    () => createSession(path, { intraOpNumThreads: -1 }),
    RangeError,
    "'intraOpNumThreads' must be a non-negative integer, got -1",
  );
  await assertRejects(
    () => createSession(path, { device: "webgpu", deviceId: 1 }),
    RangeError,
    "'deviceId' is not supported with webgpu",
  );
  await assertRejects(
    () => createSession(path, { interOpNumThreads: 1.5 }),
    RangeError,
    "'interOpNumThreads'",
  );
});

Deno.test("createSession() with profilePlacement reads where every node ran from ORT's profile", async () => {
  const dir = await Deno.makeTempDir();
  const g = new GraphBuilder("two");
  g.input("x", "float32", ["n"]).output("y", "float32", ["n"]);
  const [sum] = g.node("Add", ["x", "x"]);
  g.node("Mul", [sum!, "x"], ["y"]);
  const path = join(dir, "model.onnx");
  await writeModel(path, g.toModelBytes());
  const s = await createSession(path, {
    profilePlacement: true,
    graphOptimizationLevel: "disabled",
  });
  await s.session.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });
  const placement = await s.placement();
  assertEquals(placement.nodes, 2);
  assertEquals(placement.byProvider, { CPUExecutionProvider: 2 });
  assertEquals(placement.offProvider, 0);
  assert(await s.placement() === placement, "read once");
  const plain = await createSession(path);
  await assertRejects(() => plain.placement(), Error, "without profilePlacement");
});

Deno.test("createSession() placement() before any run says nothing ran", async () => {
  const dir = await Deno.makeTempDir();
  const s = await createSession(await addModel(dir, "float32"), { profilePlacement: true });
  await assertRejects(() => s.placement(), SyntaxError, "ran nothing");
});
