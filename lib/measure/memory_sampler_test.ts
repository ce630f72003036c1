import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { MemorySampler } from "./memory_sampler.ts";

Deno.test("MemorySampler sees an allocation made while it runs", async () => {
  const sampler = new MemorySampler({ intervalMs: 2, gpu: false }).start();
  const before = sampler.stop().series[0]!.rssBytes;
  const again = new MemorySampler({ intervalMs: 2, gpu: false }).start();
  const block = new Uint8Array(128 * 1024 * 1024).fill(7);
  await new Promise((r) => setTimeout(r, 20));
  const report = again.stop();
  assert(report.series.length >= 3, `only ${report.series.length} samples`);
  if (Deno.build.os === "linux") {
    assert(report.peakRssBytes! >= before! + 64 * 1024 * 1024, "peak reflects the 128 MiB block");
  }
  const times = report.series.map((s) => s.tMs);
  assertEquals(times, [...times].sort((a, b) => a - b));
  assertEquals(block[0], 7);
});

Deno.test("MemorySampler without NVML gives no GPU figure and says why", () => {
  const report = new MemorySampler({
    gpu: { libraryPath: "/nonexistent/libnvidia-ml.so.1" },
  }).start().stop();
  assertEquals(report.peakGpuUsedBytes, null);
  assert(report.gpuReason !== null && report.gpuReason.includes("NVML"));
});

Deno.test("MemorySampler rejects misuse naming the problem", () => {
  assertThrows(() => new MemorySampler({ intervalMs: 0 }), RangeError, "'intervalMs'");
  assertThrows(() => new MemorySampler().stop(), TypeError, "not started");
  const s = new MemorySampler({ gpu: false }).start();
  assertThrows(() => s.start(), TypeError, "already started");
  s.stop();
});

Deno.test("MemorySampler reports the largest GPU reading of the window", async () => {
  const readings = [100, 300, 200];
  let i = 0;
  const sampler = new MemorySampler({
    intervalMs: 1,
    gpu: () => readings[Math.min(i++, readings.length - 1)]!,
  }).start();
  await new Promise((r) => setTimeout(r, 10));
  const report = sampler.stop();
  assertEquals(report.peakGpuUsedBytes, 300);
  assertEquals(report.gpuReason, null);
  assertEquals(report.series[0]!.gpuUsedBytes, 100);
});
