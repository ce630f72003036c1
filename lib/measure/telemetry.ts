/**
 * Hardware telemetry during a run: process and system CPU (per core), process RSS and system
 * available memory, load average and, on NVIDIA GPUs, utilisation, memory, temperature, power,
 * clocks, throttle reasons and energy. Sampled every `intervalMs` (default 100 ms) on a worker
 * thread, so samples keep coming while onnxruntime-node blocks the main thread inside a step.
 * Sources that are missing are recorded as missing (`null`), never as 0.
 *
 * @module
 */
import type { RawTelemetrySample } from "./_telemetry_read.ts";
import type { GpuTelemetry } from "./gpu_telemetry.ts";

/** One sample, timed from the sampler's start. */
export interface TelemetrySample extends Omit<RawTelemetrySample, "epochMs"> {
  /** Milliseconds since `start()`. */
  tMs: number;
}

/** A boundary the caller marked (a cell or job starting), timed from the sampler's start. */
export interface TelemetryMark {
  /** Milliseconds since `start()`. */
  tMs: number;
  /** What starts here, e.g. a cell id; `null` marks an end. */
  label: string | null;
}

/** What one sampling run saw. */
export interface TelemetryRun {
  /** The sampling interval asked for, ms. */
  intervalMs: number;
  /** Start of the run, RFC 3339. */
  startedAt: string;
  /** Which GPU interface answered, `null` for none. */
  gpuSource: "nvml" | "nvidia-smi" | null;
  /** Why there is no GPU telemetry, else `null`. */
  gpuReason: string | null;
  /** Every sample, in time order. */
  series: TelemetrySample[];
  /** Every mark, in time order. */
  marks: TelemetryMark[];
}

/** Options of {@linkcode TelemetrySampler}. */
export interface TelemetrySamplerOptions {
  /** Milliseconds between samples (10–1000). @default 100 */
  intervalMs?: number;
  /**
   * The GPU to read — NVML `index`, or `cudaDeviceId` mapped through `CUDA_VISIBLE_DEVICES` — with
   * library and nvidia-smi paths, or `false`. @default { index: 0 }
   */
  gpu?: false | { index?: number; cudaDeviceId?: number; libraryPath?: string; nvidiaSmi?: string };
  /** Called with each sample as it arrives (for live displays). */
  onSample?: (sample: TelemetrySample) => void;
}

/**
 * Samples hardware telemetry on a worker thread between `start()` and `stop()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TelemetrySampler } from "./telemetry.ts";
 * const sampler = await new TelemetrySampler({ intervalMs: 20, gpu: false }).start();
 * sampler.mark("cell-1");
 * await new Promise((r) => setTimeout(r, 120));
 * const run = await sampler.stop();
 * assert(run.series.length >= 2 && run.marks[0]!.label === "cell-1");
 * ```
 */
export class TelemetrySampler {
  readonly #intervalMs: number;
  readonly #gpu: NonNullable<TelemetrySamplerOptions["gpu"]>;
  readonly #onSample: ((sample: TelemetrySample) => void) | undefined;
  #worker: Worker | undefined;
  #startEpochMs = 0;
  #startedAt = "";
  #series: TelemetrySample[] = [];
  #marks: TelemetryMark[] = [];
  #gpuSource: TelemetryRun["gpuSource"] = null;
  #gpuReason: string | null = null;
  #stopped: (() => void) | undefined;

  /**
   * Creates a stopped sampler.
   *
   * @param options Interval, GPU and live callback.
   * @throws {RangeError} when `intervalMs` is outside 10–1000.
   */
  constructor(options: TelemetrySamplerOptions = {}) {
    const interval = options.intervalMs ?? 100;
    if (!(Number.isFinite(interval) && interval >= 10 && interval <= 1000)) {
      throw new RangeError(
        `TelemetrySampler: 'intervalMs' must be between 10 and 1000, got ${interval}`,
      );
    }
    this.#intervalMs = interval;
    this.#gpu = options.gpu ?? { index: 0 };
    this.#onSample = options.onSample;
  }

  /**
   * Starts the worker and waits until it has primed its CPU counters.
   *
   * @returns This sampler.
   */
  async start(): Promise<this> {
    if (this.#worker !== undefined) throw new TypeError("TelemetrySampler: already started");
    this.#series = [];
    this.#marks = [];
    this.#startEpochMs = performance.timeOrigin + performance.now();
    this.#startedAt = new Date(this.#startEpochMs).toISOString();
    const worker = new Worker(new URL("./_telemetry_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(`TelemetrySampler: worker failed: ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent) => {
        const m = event.data as
          | { type: "ready"; gpuSource: TelemetryRun["gpuSource"]; gpuReason: string | null }
          | { type: "sample"; sample: RawTelemetrySample }
          | { type: "stopped" };
        if (m.type === "ready") {
          this.#gpuSource = m.gpuSource;
          this.#gpuReason = m.gpuReason;
          resolve();
        } else if (m.type === "sample") {
          const { epochMs, ...rest } = m.sample;
          const sample = { tMs: epochMs - this.#startEpochMs, ...rest };
          this.#series.push(sample);
          this.#onSample?.(sample);
        } else this.#stopped?.();
      };
      worker.postMessage({ type: "start", intervalMs: this.#intervalMs, gpu: this.#gpu });
    });
    return this;
  }

  /**
   * Milliseconds since `start()`, on the samples' clock.
   *
   * @returns The offset.
   */
  now(): number {
    return performance.timeOrigin + performance.now() - this.#startEpochMs;
  }

  /**
   * Marks a boundary: `label` starts now (`null`: what was running ends).
   *
   * @param label A cell or job id.
   * @returns The mark's offset, ms.
   */
  mark(label: string | null): number {
    const tMs = this.now();
    this.#marks.push({ tMs, label });
    return tMs;
  }

  /**
   * Stops the worker (after one last sample) and returns the run.
   *
   * @returns Series, marks and GPU source.
   */
  async stop(): Promise<TelemetryRun> {
    const worker = this.#worker;
    if (worker === undefined) throw new TypeError("TelemetrySampler: not started");
    await new Promise<void>((resolve) => {
      this.#stopped = resolve;
      worker.postMessage({ type: "stop" });
    });
    worker.terminate();
    this.#worker = undefined;
    return {
      intervalMs: this.#intervalMs,
      startedAt: this.#startedAt,
      gpuSource: this.#gpuSource,
      gpuReason: this.#gpuReason,
      series: this.#series,
      marks: this.#marks,
    };
  }
}

export type { GpuTelemetry };
