import { assertEquals, assertRejects } from "../testing/assert.ts";
import { readTelemetry, writeTelemetry } from "./telemetry_table.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";

const run: TelemetryRun = {
  intervalMs: 100,
  startedAt: "2026-12-01T00:00:00.000Z",
  gpuSource: "nvml",
  gpuReason: null,
  marks: [{ tMs: 50, label: "fp16|cache|128" }, { tMs: 150, label: null }],
  series: [0, 100, 200].map((tMs, i) => ({
    tMs,
    processCpuPct: i === 0 ? null : 150,
    systemCpuPct: 75,
    coreCpuPct: [100, 50],
    rssBytes: 1e8,
    memAvailableBytes: 2e10,
    load1: 1.5,
    gpu: i === 1
      ? {
        utilizationPct: 98,
        memoryUtilizationPct: 40,
        usedBytes: 5e9,
        processUsedBytes: null,
        temperatureC: 70,
        powerW: 320.5,
        smClockMhz: 1980,
        memClockMhz: 2619,
        throttleReasons: ["sw_power_cap"],
        energyJ: 1234.5,
      }
      : null,
  })),
};

Deno.test("writeTelemetry() round-trips samples with their cells, keeping missing values null", async () => {
  const path = `${await Deno.makeTempDir()}/telemetry.csv`;
  assertEquals(await writeTelemetry(path, run), 3);
  const rows = await readTelemetry(path);
  assertEquals(rows.map((r) => r.cell), [null, "fp16|cache|128", null]);
  assertEquals(rows[0]!.process_cpu_pct, null);
  assertEquals(rows[1]!.gpu_power_w, 320.5);
  assertEquals(rows[1]!.gpu_throttle_reasons, "sw_power_cap");
  assertEquals(rows[2]!.gpu_util_pct, null);
  assertEquals(rows[2]!.core_cpu_pct, "100;50");
});

Deno.test("readTelemetry() names a file that is not a telemetry table", async () => {
  const path = `${await Deno.makeTempDir()}/results.csv`;
  await Deno.writeTextFile(path, "model,dtype\nx,y\n");
  await assertRejects(() => readTelemetry(path), SyntaxError, "not a telemetry table");
});
