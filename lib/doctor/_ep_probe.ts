/**
 * The execution-provider probe of the doctor, private to lib/doctor: opens a session on a device
 * and runs a one-node graph. WebGPU is probed in a child process whose stderr is dropped, because
 * ORT's WebGPU provider (Dawn) prints native lines such as `Couldn't load Vulkan … BackendVk.cpp`
 * straight to the process's stderr; the probe's own one-line reason says the same.
 *
 * @module
 */
import type { Device } from "../dtypes.ts";
import { createSession } from "../runtime/session.ts";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";

/**
 * Why `device` cannot run a one-node graph, or `null` when it can.
 *
 * @param device The device.
 * @returns One line, or `null`.
 */
export async function epError(device: Device): Promise<string | null> {
  if (device !== "webgpu") return await epErrorHere(device);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, device],
    stdin: "null",
    stdout: "piped",
    stderr: "piped", // Dawn's native lines, dropped
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    const answer = JSON.parse(text) as { error: string | null };
    return answer.error;
  } catch {
    return `the ${device} probe exited with code ${out.code} without an answer`;
  }
}

async function epErrorHere(device: Device): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "turbo-doctor-" });
  try {
    const g = new GraphBuilder("doctor");
    g.input("x", "float32", [2]).output("y", "float32", [2]);
    g.node("Add", ["x", "x"], ["y"]);
    const path = `${dir}/add.onnx`;
    await writeModel(path, g.toModelBytes());
    const { session } = await createSession(path, { device });
    try {
      const ort = await import("onnxruntime-node");
      const out = await session.run({
        x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]),
      });
      const y = out.y?.data as Float32Array | undefined;
      if (!y || y[0] !== 2 || y[1] !== 4) {
        return `a one-node graph gave ${y ? [...y] : "nothing"} instead of 2,4`;
      }
    } finally {
      await session.release();
    }
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  console.log(JSON.stringify({ error: await epErrorHere(Deno.args[0] as Device) }));
}
