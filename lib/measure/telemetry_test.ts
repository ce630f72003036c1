import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { TelemetrySampler } from "./telemetry.ts";
import { markWindows, summarizeTelemetry, telemetryRowFields } from "./telemetry_summary.ts";

/** Keeps this (main) thread busy, as a synchronous ORT step does. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (x < 0) throw new Error("unreachable");
}

// Behaviour, not speed: how much CPU the spin gets depends on the machine's load (a benchmark's
// concern), so the test asserts only that the worker keeps sampling while the main thread is
// blocked and that it charges the spin to the process (an idle window is no baseline: under load
// the worker's own start can cost more CPU than a starved spin gets).
Deno.test({
  name: "TelemetrySampler sees a synthetic CPU load while the main thread is blocked",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const sampler = await new TelemetrySampler({ intervalMs: 50, gpu: false }).start();
    await new Promise((r) => setTimeout(r, 300)); // idle window
    sampler.mark("busy");
    spin(800); // the event loop is blocked: only a worker thread can sample now
    sampler.mark(null);
    const run = await sampler.stop();
    const [busy] = markWindows(run);
    assert(busy !== undefined);
    const during = run.series.filter((s) => s.tMs > busy.fromMs && s.tMs <= busy.toMs);
    assert(during.length >= 2, `only ${during.length} samples inside an 800 ms busy window`);
    const busyLoad = summarizeTelemetry(run.series, busy);
    const busyCpu = busyLoad.processCpuPct?.mean ?? 0;
    assert(busyCpu > 0, `process CPU ${busyCpu} % while spinning`);
    assert(busyLoad.busiestCoreMeanPct !== null && busyLoad.busiestCoreMeanPct > 0);
    assertEquals(run.gpuSource, null);
    assertEquals(run.gpuReason, "GPU telemetry off");
    assert(run.series.every((s) => s.gpu === null));
  },
});

Deno.test("TelemetrySampler rejects an interval outside 10–1000 ms, naming the field", () => {
  assertThrows(() => new TelemetrySampler({ intervalMs: 5 }), RangeError, "'intervalMs'");
  assertThrows(() => new TelemetrySampler({ intervalMs: 5000 }), RangeError, "'intervalMs'");
});

Deno.test({
  name: "TelemetrySampler without a GPU records GPU fields as missing, never 0",
  async fn() {
    const sampler = await new TelemetrySampler({
      intervalMs: 20,
      gpu: { libraryPath: "/nonexistent/libnvidia-ml.so", nvidiaSmi: "/nonexistent/nvidia-smi" },
    }).start();
    await new Promise((r) => setTimeout(r, 80));
    const run = await sampler.stop();
    assert(run.gpuReason !== null && run.gpuReason.includes("no GPU telemetry"));
    const f = telemetryRowFields(summarizeTelemetry(run.series));
    assertEquals([f.gpu_util_pct_mean, f.gpu_energy_j, f.gpu_throttle_reasons], [null, null, null]);
    assert(typeof f.cpu_system_pct_mean === "number");
  },
});

Deno.test("summarizeTelemetry() takes energy as a counter delta, p95 only from 20 samples, throttling by reason", () => {
  const gpu = (i: number, reasons: string[]) => ({
    utilizationPct: 90 + (i % 10),
    memoryUtilizationPct: 50,
    usedBytes: 1e9 + i,
    processUsedBytes: null,
    temperatureC: 60 + i,
    powerW: 300,
    smClockMhz: 1900,
    memClockMhz: 2600,
    throttleReasons: reasons,
    energyJ: 1000 + i * 30,
  });
  const series = Array.from({ length: 25 }, (_, i) => ({
    tMs: i * 100,
    processCpuPct: 100,
    systemCpuPct: 50,
    coreCpuPct: [100, 0],
    rssBytes: 1,
    memAvailableBytes: 10 - (i % 3),
    load1: 1,
    gpu: gpu(i, i === 7 ? ["sw_power_cap"] : ["gpu_idle"]),
  }));
  const all = summarizeTelemetry(series);
  assertEquals(all.gpuEnergyJ, 24 * 30);
  assert(all.gpuUtilPct?.p95 !== null);
  assertEquals(all.throttleReasons, ["gpu_idle", "sw_power_cap"]);
  assertEquals(all.throttled, true);
  assertEquals(all.memAvailableMinBytes, 8);
  const few = summarizeTelemetry(series, { fromMs: 0, toMs: 500 });
  assertEquals([few.samples, few.gpuUtilPct?.p95, few.throttled], [6, null, false]);
});
