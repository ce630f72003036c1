import { assert, assertEquals } from "../testing/assert.ts";
import { toFrame } from "../results/table.ts";
import { writeTelemetry } from "../results/telemetry_table.ts";
import { syntheticRows } from "./_fixture.ts";
import { writeAllOutputs } from "./write_all_outputs.ts";

Deno.test("writeAllOutputs() adds the telemetry figure, warnings (pre-flight, errors, noise, throttling) and tokens per joule", async () => {
  const dir = await Deno.makeTempDir({ prefix: "turbo_health_" });
  const rows = syntheticRows({ dtypes: ["fp32", "q4"], contexts: [128] });
  // A cuda cell with NVML energy and throttling, and an error row.
  const gpu = rows.filter((r) => r.dtype === "q4" && r.use_cache).map((r) => ({
    ...r,
    device: "cuda",
    cell_id: `${r.cell_id}|gpu`,
    run_id: `${r.run_id}|gpu`,
    gpu_energy_j: 8,
    gpu_throttle_reasons: "sw_thermal_slowdown",
  }));
  const error = {
    ...rows[0]!,
    run_id: "e#error",
    cell_id: "e",
    status: "error" as const,
    error: "boom",
  };
  toFrame("bench", [...rows, ...gpu, error]).writeCSV(`${dir}/results.csv`);
  await Deno.writeTextFile(
    `${dir}/preflight.json`,
    JSON.stringify({
      checked_at: "2026-12-02T00:00:00Z",
      checks: [{ name: "background load", status: "warn", detail: "load 3", advice: "wait" }],
      counts: { pass: 0, warn: 1, fail: 0 },
    }),
  );
  const series = [100, 200, 300].map((tMs) => ({
    tMs,
    processCpuPct: 95,
    systemCpuPct: 50,
    coreCpuPct: [95, 5],
    rssBytes: 1e8,
    memAvailableBytes: 1e9,
    load1: 1,
    gpu: null,
  }));
  await writeTelemetry(`${dir}/telemetry.csv`, {
    intervalMs: 100,
    startedAt: "2026-12-02T00:00:00Z",
    gpuSource: null,
    gpuReason: "GPU telemetry off",
    marks: [{ tMs: 0, label: "c1" }],
    series,
  });
  const { files } = await writeAllOutputs({
    resultsCsv: `${dir}/results.csv`,
    outDir: `${dir}/out`,
  });
  assert(files.includes(`${dir}/out/figures/telemetry_over_time.png`), files.join("\n"));
  const report = JSON.parse(await Deno.readTextFile(`${dir}/out/metrics/final_report.json`));
  const warnings = report.warnings as string[];
  assert(warnings[0]!.startsWith("pre-flight warn: background load"), warnings[0]);
  assert(warnings.some((w) => /^\d+ error row\(s\) in \d+ cell\(s\)/.test(w)), warnings.join("\n"));
  assert(
    warnings.some((w) => w.includes("GPU throttled (sw_thermal_slowdown)")),
    warnings.join("\n"),
  );
  assertEquals(report.preflight.counts.warn, 1);
  const energy = report.tokens_per_joule as {
    device: string;
    tokens_per_joule: number | null;
    reason: string | null;
  }[];
  const cuda = energy.find((e) => e.device === "cuda")!;
  assertEquals(cuda.tokens_per_joule, 16 * 3 / 8); // one cell: 3 runs × 16 tokens over 8 J
  assert(
    energy.filter((e) => e.device === "cpu").every((e) =>
      e.tokens_per_joule === null && e.reason!.includes("CPU")
    ),
  );
  const md = await Deno.readTextFile(`${dir}/out/metrics/report.md`);
  assert(md.includes("## Warnings") && md.includes("## Energy: tokens per joule"), "sections");
  assert(md.includes("telemetry_over_time.png"), "report.md links the telemetry figure");
});
