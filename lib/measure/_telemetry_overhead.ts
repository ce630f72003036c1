/**
 * Measures the telemetry sampler's overhead (docs/telemetry.md): the time one reading takes on
 * this machine, and the decode rate of the tiny preset with and without a sampler running,
 * alternating so drift hits both alike. Run by hand:
 * `deno run -A lib/measure/_telemetry_overhead.ts [PAIRS] [INTERVAL_MS]`.
 *
 * @module
 */
import { systemReader } from "./_telemetry_read.ts";
import { summarize } from "./stats.ts";
import { WindowTelemetry } from "./window_telemetry.ts";

if (import.meta.main) {
  const pairs = Number(Deno.args[0] ?? 6);
  const interval = Number(Deno.args[1] ?? 100);
  const reader = systemReader({ gpu: false });
  reader.read();
  const reads: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    reader.read();
    reads.push(performance.now() - t0);
  }
  const r = summarize(reads);
  console.log(
    `one reading (CPU, memory, load; no GPU): mean ${r.mean.toFixed(3)} ms, p95 ${
      r.p95.toFixed(3)
    } ms over ${r.count}`,
  );
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const w = await WindowTelemetry.start("x", { intervalMs: interval, gpu: false });
    starts.push(performance.now() - t0);
    await w.finish();
  }
  const st = summarize(starts);
  console.log(
    `sampler start (worker thread up, counters primed): mean ${st.mean.toFixed(1)} ms, max ${
      st.max.toFixed(1)
    } ms over ${st.count}`,
  );
  const { ensureModel } = await import("../model/mod.ts");
  const { loadDecoder, resolveModel, measureRuns } = await import("../engine/mod.ts");
  await ensureModel("tiny", { dtypes: ["fp32"] });
  const model = await loadDecoder(await resolveModel("preset:tiny"), { dtype: "fp32", threads: 1 });
  const prompt = [[...Array(64).keys()].map((i) => (i % 200) + 3)];
  const batches = Array.from({ length: 10 }, () => prompt);
  const rate = async (withTelemetry: boolean) => {
    const w = withTelemetry
      ? await WindowTelemetry.start("x", { intervalMs: interval, gpu: false })
      : null;
    const m = await measureRuns(model, batches, {
      maxNewTokens: 256,
      warmup: 3,
      sampleGpu: false,
      ...(w ? { onWindow: w.onWindow } : {}),
    });
    await w?.finish();
    return summarize(m.runs.map((x) => x.decodeTokensPerS ?? 0)).mean;
  };
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < pairs; i++) {
    off.push(await rate(false));
    on.push(await rate(true));
  }
  const a = summarize(off);
  const b = summarize(on);
  console.log(
    `decode tokens/s (tiny preset fp32, 1 thread, 64-token prompt, 256 new tokens, ${pairs} alternating pairs of 10 runs): ` +
      `without ${a.mean.toFixed(1)} ± ${a.std.toFixed(1)}, with a ${interval} ms sampler ${
        b.mean.toFixed(1)
      } ± ${b.std.toFixed(1)} ` +
      `(${(((b.mean / a.mean) - 1) * 100).toFixed(1)} %)`,
  );
  await model.dispose();
}
