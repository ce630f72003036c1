/**
 * A background sampler of memory during a run: process RSS (`VmRSS`) and, where NVML answers,
 * GPU used memory, every `intervalMs` on a `setInterval` timer. onnxruntime-node runs a graph
 * synchronously on the JS thread, so samples land between steps of a generation loop (each step
 * yields to the event loop), which is enough to see the KV cache grow; transient peaks inside a
 * step are caught by the kernel's `VmHWM`, reported as the exact process peak.
 *
 * @module
 */
import { gpuMemoryReader, type GpuProbeOptions } from "./gpu.ts";
import { currentRssBytes, peakRssBytes, resetPeakRss } from "./rss.ts";

/** Options of {@linkcode MemorySampler}. */
export interface MemorySamplerOptions {
  /** Milliseconds between samples. @default 50 */
  intervalMs?: number;
  /**
   * GPU memory: `true` samples through NVML (when it opens), probe options pick the GPU or the
   * library, a function is used as the reader of used bytes itself, `false` samples none.
   * @default true
   */
  gpu?: boolean | GpuProbeOptions | (() => number);
  /** Reset the kernel's peak RSS at `start()` so `peakRssBytes` covers only this window. @default true */
  resetPeak?: boolean;
}

/** One sample. */
export interface MemorySample {
  /** Milliseconds since `start()`. */
  tMs: number;
  /** Process RSS, bytes (`null` off Linux). */
  rssBytes: number | null;
  /** GPU used memory, bytes (`null` without NVML). */
  gpuUsedBytes: number | null;
}

/** What a sampling window saw. */
export interface MemoryReport {
  /** Process peak RSS over the window: the kernel's `VmHWM` (exact), else the sampled maximum. */
  peakRssBytes: number | null;
  /** Largest sampled GPU used memory, bytes; `null` without NVML. */
  peakGpuUsedBytes: number | null;
  /** Why there is no GPU figure, else `null`. */
  gpuReason: string | null;
  /** Every sample, in order. */
  series: MemorySample[];
}

/**
 * Samples memory in the background between `start()` and `stop()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemorySampler } from "./memory_sampler.ts";
 * const sampler = new MemorySampler({ intervalMs: 5, gpu: false }).start();
 * await new Promise((r) => setTimeout(r, 20));
 * const report = sampler.stop();
 * assert(report.series.length >= 1);
 * ```
 */
export class MemorySampler {
  readonly #intervalMs: number;
  readonly #gpu: boolean | GpuProbeOptions | (() => number);
  readonly #resetPeak: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #started = 0;
  #series: MemorySample[] = [];
  #readGpu: (() => number) | null = null;
  #exactPeak = false;

  /**
   * Creates a stopped sampler.
   *
   * @param options Interval, GPU sampling and peak reset.
   */
  constructor(options: MemorySamplerOptions = {}) {
    const interval = options.intervalMs ?? 50;
    if (!(interval > 0)) {
      throw new RangeError(`MemorySampler: 'intervalMs' must be positive, got ${interval}`);
    }
    this.#intervalMs = interval;
    this.#gpu = options.gpu ?? true;
    this.#resetPeak = options.resetPeak ?? true;
  }

  /**
   * Starts sampling (one sample at once, then one per interval).
   *
   * @returns This sampler.
   */
  start(): this {
    if (this.#timer !== undefined) throw new TypeError("MemorySampler: already started");
    this.#series = [];
    const gpu = this.#gpu;
    this.#readGpu = gpu === false
      ? null
      : typeof gpu === "function"
      ? gpu
      : gpuMemoryReader(gpu === true ? {} : gpu);
    this.#exactPeak = this.#resetPeak && resetPeakRss();
    this.#started = performance.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
    return this;
  }

  /**
   * Stops sampling (one last sample) and reports.
   *
   * @returns Peaks and the series.
   */
  stop(): MemoryReport {
    if (this.#timer === undefined) throw new TypeError("MemorySampler: not started");
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sample();
    let sampledRss: number | null = null;
    let gpu: number | null = null;
    for (const s of this.#series) {
      if (s.rssBytes !== null) sampledRss = Math.max(sampledRss ?? 0, s.rssBytes);
      if (s.gpuUsedBytes !== null) gpu = Math.max(gpu ?? 0, s.gpuUsedBytes);
    }
    const hwm = this.#exactPeak ? peakRssBytes() : null;
    return {
      peakRssBytes: hwm ?? sampledRss,
      peakGpuUsedBytes: gpu,
      gpuReason: this.#gpu === false
        ? "GPU sampling off"
        : this.#readGpu === null
        ? "NVML (libnvidia-ml.so.1) cannot be opened"
        : null,
      series: this.#series,
    };
  }

  #sample(): void {
    let gpu: number | null = null;
    try {
      gpu = this.#readGpu?.() ?? null;
    } catch {
      gpu = null;
    }
    this.#series.push({
      tMs: performance.now() - this.#started,
      rssBytes: currentRssBytes(),
      gpuUsedBytes: gpu,
    });
  }
}
