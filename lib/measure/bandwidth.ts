/**
 * A memory read-bandwidth probe: the bound a decode step's bytes are held against.
 *
 * What it measures: ONNX Runtime's CPU provider summing a float32 buffer far larger than the
 * caches (`ReduceSum` over the last axis of `[rows, 4096]`, rows split over the intra-op
 * threads), with the thread count the sweep's sessions use. That is the rate at which the same
 * runtime, with the same threads, can stream bytes from DRAM through vectorised kernels — the
 * practical ceiling of a memory-bound decode (a step that only had to read its weights and cache
 * once could run at best `bytes / bandwidth`). It is not a STREAM figure: no writes, no
 * non-temporal tricks, and it includes the thread pool's fork/join per run (negligible against a
 * buffer of hundreds of MiB).
 *
 * The buffer is `max(256 MiB, 8 × the last-level cache)` (the LLC read from sysfs), filled once
 * (so every page is touched before timing), summed `warmup` times untimed and `runs` times timed;
 * the figure is the median of the runs' bytes ÷ seconds (the best is kept too).
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { join } from "node:path";
import { GraphBuilder, writeModel } from "../onnx/graph.ts";

/** Options of {@linkcode measureReadBandwidth}. */
export interface BandwidthOptions {
  /** Intra-op threads, as the sweep's sessions get them (0: ORT's default, one per core). @default 0 */
  threads?: number;
  /** Buffer bytes. @default max(256 MiB, 8 × last-level cache) */
  bytes?: number;
  /** Untimed passes. @default 1 */
  warmup?: number;
  /** Timed passes. @default 5 */
  runs?: number;
}

/** A read-bandwidth measurement. */
export interface BandwidthResult {
  /** Median of the timed passes, GB/s (10⁹ bytes per second). */
  read_gb_s: number;
  /** Fastest timed pass, GB/s. */
  read_gb_s_best: number;
  /** Bytes read per pass. */
  buffer_bytes: number;
  /** Intra-op threads asked for (0: ORT's default). */
  threads: number;
  /** Timed passes. */
  runs: number;
  /** Last-level cache size read from sysfs, bytes; null where unreadable. */
  llc_bytes: number | null;
  /** What was measured, in one line (for reports). */
  method: string;
}

const COLUMNS = 4096;

/**
 * Measures memory read bandwidth with ONNX Runtime's CPU kernels (see the module doc).
 *
 * @param options Threads, buffer size, passes.
 * @returns The median and best GB/s, and how they were measured.
 * @throws {RangeError} naming an option that is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { measureReadBandwidth } from "./bandwidth.ts";
 * const r = await measureReadBandwidth({ threads: 1, bytes: 2 ** 22, runs: 2 });
 * assert(r.read_gb_s > 0 && r.read_gb_s <= r.read_gb_s_best);
 * ```
 */
export async function measureReadBandwidth(
  options: BandwidthOptions = {},
): Promise<BandwidthResult> {
  const threads = options.threads ?? 0;
  const warmup = options.warmup ?? 1;
  const runs = options.runs ?? 5;
  const llc = lastLevelCacheBytes();
  const bytes = options.bytes ?? Math.max(2 ** 28, 8 * (llc ?? 0));
  for (
    const [name, value, min] of [["threads", threads, 0], ["warmup", warmup, 0], [
      "runs",
      runs,
      1,
    ], ["bytes", bytes, COLUMNS * 4]] as const
  ) {
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(
        `measureReadBandwidth: '${name}' must be an integer >= ${min}, got ${value}`,
      );
    }
  }
  const rows = Math.floor(bytes / (COLUMNS * 4));
  const dir = await Deno.makeTempDir({ prefix: "bandwidth-" });
  try {
    const path = join(dir, "reduce_sum.onnx");
    const g = new GraphBuilder("read_bandwidth");
    g.input("x", "float32", ["rows", COLUMNS]);
    g.output("y", "float32", ["rows"]);
    const axes = g.initializer("axes", "int64", [1], BigInt64Array.of(1n));
    g.node("ReduceSum", ["x", axes], ["y"], { keepdims: 0 });
    await writeModel(path, g.toModelBytes({ opset: 17 }));
    const session = await ort.InferenceSession.create(path, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    try {
      const data = new Float32Array(rows * COLUMNS).fill(1);
      const x = new ort.Tensor("float32", data, [rows, COLUMNS]);
      const read = rows * COLUMNS * 4;
      const rates: number[] = [];
      for (let i = 0; i < warmup + runs; i++) {
        const started = performance.now();
        const out = await session.run({ x });
        const seconds = (performance.now() - started) / 1000;
        const y = out.y!.data as Float32Array;
        if (y[0] !== COLUMNS) throw new Error(`read-bandwidth probe: wrong sum ${y[0]}`);
        out.y!.dispose();
        if (i >= warmup) rates.push(read / seconds / 1e9);
      }
      rates.sort((a, b) => a - b);
      return {
        read_gb_s: median(rates),
        read_gb_s_best: rates[rates.length - 1]!,
        buffer_bytes: read,
        threads,
        runs,
        llc_bytes: llc,
        method: `onnxruntime CPU ReduceSum over ${(read / 2 ** 20).toFixed(0)} MiB float32, ${
          threads === 0 ? "default" : threads
        } intra-op threads, median of ${runs}`,
      };
    } finally {
      await session.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The largest CPU cache of cpu0 from sysfs (`/sys/devices/system/cpu/cpu0/cache/index*`), bytes.
 *
 * @returns Bytes, or null where sysfs is unreadable.
 * @example
 * ```ts
 * import { lastLevelCacheBytes } from "./bandwidth.ts";
 * const llc = lastLevelCacheBytes();
 * console.log(llc === null ? "unknown" : `${llc / 2 ** 20} MiB`);
 * ```
 */
export function lastLevelCacheBytes(): number | null {
  const root = "/sys/devices/system/cpu/cpu0/cache";
  let best: number | null = null;
  try {
    for (const entry of Deno.readDirSync(root)) {
      if (!entry.name.startsWith("index")) continue;
      const text = Deno.readTextFileSync(join(root, entry.name, "size")).trim();
      const m = /^(\d+)([KMG]?)$/.exec(text);
      if (!m) continue;
      const scale = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[m[2] as "" | "K" | "M" | "G"];
      const bytes = Number(m[1]) * scale;
      if (best === null || bytes > best) best = bytes;
    }
  } catch {
    return null;
  }
  return best;
}

/**
 * The roofline figures of one decode measurement: effective bandwidth and its share of the bound.
 *
 * @param bytesPerStep Bytes one decode step must read (see lib/quantize/step_bytes.ts).
 * @param stepMs Milliseconds per decode step.
 * @param boundGbS The machine's measured read bandwidth, GB/s; null when not measured.
 * @returns `effective_gb_s` (bytes ÷ step time) and `bandwidth_fraction` (÷ the bound; null
 * without one); both null for a step time that is not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { effectiveBandwidth } from "./bandwidth.ts";
 * const r = effectiveBandwidth(5e8, 100, 10);
 * assert.deepEqual(r, { effective_gb_s: 5, bandwidth_fraction: 0.5 });
 * ```
 */
export function effectiveBandwidth(
  bytesPerStep: number,
  stepMs: number | null,
  boundGbS: number | null,
): { effective_gb_s: number | null; bandwidth_fraction: number | null } {
  if (stepMs === null || !(stepMs > 0) || !(bytesPerStep > 0)) {
    return { effective_gb_s: null, bandwidth_fraction: null };
  }
  const effective = bytesPerStep / (stepMs / 1000) / 1e9;
  return {
    effective_gb_s: effective,
    bandwidth_fraction: boundGbS !== null && boundGbS > 0 ? effective / boundGbS : null,
  };
}
