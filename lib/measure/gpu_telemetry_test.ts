import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import {
  fromNvml,
  gpuTelemetryReader,
  isThrottled,
  parseNvidiaSmiTelemetry,
  throttleReasonNames,
} from "./gpu_telemetry.ts";

// nvidia-smi --query-gpu=utilization.gpu,utilization.memory,memory.used,temperature.gpu,power.draw,
// clocks.sm,clocks.mem,clocks_throttle_reasons.active --format=csv,noheader,nounits, one GPU per
// line: busy, idle, a board that reports little ([N/A], [Not Supported]), and a throttled one.
const lines = Deno.readTextFileSync(new URL("./fixtures/nvidia_smi_telemetry.csv", import.meta.url))
  .trim().split("\n");

Deno.test("parseNvidiaSmiTelemetry() reads busy, idle, unsupported and throttled GPUs", () => {
  const [busy, idle, bare, hot] = lines.map(parseNvidiaSmiTelemetry);
  assertEquals(busy!.utilizationPct, 97);
  assertEquals(busy!.usedBytes, 40123 * 1024 * 1024);
  assertEquals(busy!.powerW, 612.43);
  assertEquals(busy!.throttleReasons, []);
  assertEquals(busy!.energyJ, null);
  assertEquals(idle!.throttleReasons, ["gpu_idle"]);
  assertEquals(isThrottled(idle!.throttleReasons!), false);
  assertEquals(
    [bare!.utilizationPct, bare!.temperatureC, bare!.powerW, bare!.throttleReasons],
    [null, null, null, null],
  );
  assertEquals(bare!.smClockMhz, 1410);
  assertEquals(hot!.throttleReasons, ["sw_power_cap", "hw_thermal_slowdown"]);
  assert(isThrottled(hot!.throttleReasons!));
});

Deno.test("parseNvidiaSmiTelemetry() rejects a line with the wrong number of cells", () => {
  assertThrows(() => parseNvidiaSmiTelemetry("97, 61, 40123\n"), SyntaxError, "telemetry cells");
});

Deno.test("fromNvml() converts milliwatts and millijoules and keeps failed calls null", () => {
  const t = fromNvml({
    utilization: null,
    temperatureC: 65,
    powerMw: 250000,
    smClockMhz: null,
    memClockMhz: 2619,
    throttleMask: 0x8n,
    energyMj: 987654321n,
  }, { usedBytes: null, processUsedBytes: 123 });
  assertEquals([t.utilizationPct, t.powerW, t.energyJ, t.smClockMhz], [
    null,
    250,
    987654.321,
    null,
  ]);
  assertEquals(t.throttleReasons, ["hw_slowdown"]);
  assertEquals(t.processUsedBytes, 123);
});

Deno.test("throttleReasonNames() names bits NVML added later instead of dropping them", () => {
  assertEquals(throttleReasonNames(0x201n), ["gpu_idle", "unknown_0x200"]);
});

Deno.test("gpuTelemetryReader() without NVML or nvidia-smi says why, naming both", () => {
  const r = gpuTelemetryReader({
    libraryPath: "/nonexistent/libnvidia-ml.so.1",
    nvidiaSmi: "/nonexistent/nvidia-smi",
  });
  assert("reason" in r && r.reason.includes("NVML") && r.reason.includes("nvidia-smi"));
});
