import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { gpuInfo, gpuMemory, gpuMemoryReader } from "./gpu.ts";
import { parseNvidiaSmiApps, parseNvidiaSmiGpu } from "./_nvidia_smi.ts";

const ABSENT = {
  libraryPath: "/nonexistent/libnvidia-ml.so.1",
  nvidiaSmi: "/nonexistent/nvidia-smi",
};

Deno.test("gpuInfo() without NVML and nvidia-smi is unavailable with a one-line reason", () => {
  const info = gpuInfo(ABSENT);
  assert(!info.available, "gpuInfo() with absent paths reported a GPU");
  assert(
    info.reason.includes("NVML") && info.reason.includes("/nonexistent/nvidia-smi"),
    info.reason,
  );
  assert(!info.reason.includes("\n"));
});

Deno.test("gpuMemory() and gpuMemoryReader() without NVML report absence, not throw", () => {
  const memory = gpuMemory(ABSENT);
  assertEquals(memory.available, false);
  assertEquals(gpuMemoryReader(ABSENT), null);
});

Deno.test("gpuInfo() on this machine either names a GPU or says why not", () => {
  const info = gpuInfo();
  if (info.available) {
    assert(info.name.length > 0 && info.totalBytes > 0);
  } else {
    assert(info.reason.length > 0 && !info.reason.includes("\n"));
  }
});

Deno.test("gpuInfo() rejects a negative index naming the field", () => {
  assertThrows(() => gpuInfo({ index: -1 }), RangeError, "'index'");
});

Deno.test("parseNvidiaSmiGpu() converts MiB to bytes and rejects garbage", () => {
  const gpu = parseNvidiaSmiGpu("NVIDIA H100 80GB HBM3, 550.54.15, 81559, 1024\n");
  assertEquals(gpu, {
    name: "NVIDIA H100 80GB HBM3",
    driverVersion: "550.54.15",
    totalBytes: 81559 * 1024 * 1024,
    usedBytes: 1024 * 1024 * 1024,
  });
  assertThrows(() => parseNvidiaSmiGpu("No devices were found"), SyntaxError, "cannot parse");
});

Deno.test("parseNvidiaSmiApps() reads pids and memory, N/A as null", () => {
  assertEquals(parseNvidiaSmiApps("123, 500\n456, [N/A]\n"), [
    { pid: 123, usedBytes: 500 * 1024 * 1024 },
    { pid: 456, usedBytes: null },
  ]);
});
