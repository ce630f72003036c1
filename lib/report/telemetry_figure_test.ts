import { assert, assertEquals } from "../testing/assert.ts";
import { telemetryFigure } from "./telemetry_figure.ts";
import { renderSpec } from "./render.ts";
import type { TelemetryRow } from "../results/telemetry_table.ts";

const row = (t: number, cell: string | null): TelemetryRow => ({
  t_ms: t,
  cell,
  process_cpu_pct: 100 + t / 10,
  system_cpu_pct: 50,
  core_cpu_pct: "100;0",
  rss_bytes: 2e8,
  mem_available_bytes: 2e10,
  load1: 1,
  gpu_util_pct: null,
  gpu_used_bytes: null,
  gpu_process_used_bytes: null,
  gpu_temp_c: null,
  gpu_power_w: null,
  gpu_sm_clock_mhz: null,
  gpu_mem_clock_mhz: null,
  gpu_throttle_reasons: null,
  gpu_energy_j: null,
});

Deno.test("telemetryFigure() marks each cell start, leaves unmeasured GPU series out and renders", async () => {
  const rows = [row(0, null), row(100, "a"), row(200, "a"), row(300, "b"), row(400, "b")];
  const spec = telemetryFigure(rows) as unknown as {
    title: { subtitle: string[] };
    vconcat: { layer: { data: { values: { series?: string; cell: string }[] } }[] }[];
  };
  const rules = spec.vconcat[0]!.layer[1]!.data.values;
  assertEquals(rules.map((r) => r.cell), ["a", "b"]);
  const series = new Set(spec.vconcat[0]!.layer[0]!.data.values.map((v) => v.series));
  assert(!series.has("GPU utilisation (%)"));
  assert(spec.title.subtitle.join(" ").includes("not measured here: GPU utilisation"));
  const { svg } = await renderSpec(telemetryFigure(rows));
  assert(svg.includes("<svg") && svg.includes("process CPU"));
});
