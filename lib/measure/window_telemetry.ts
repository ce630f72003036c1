/**
 * Telemetry of one measured window (a sweep cell's measured runs, a `bench` run, a service job):
 * a {@linkcode TelemetrySampler} started before the window, marked as it opens and closes, and
 * cut to it afterwards, with the summary columns a result row carries. Every caller that records
 * telemetry goes through here, so every row's summary means the same thing.
 *
 * @module
 */
import {
  type TelemetryRun,
  type TelemetrySample,
  TelemetrySampler,
  type TelemetrySamplerOptions,
} from "./telemetry.ts";
import {
  summarizeTelemetry,
  type TelemetryFields,
  telemetryRowFields,
  type TelemetrySummary,
} from "./telemetry_summary.ts";

/** Default milliseconds between samples (the spec's `telemetry_interval_ms`, `--telemetry-interval`). */
export const DEFAULT_TELEMETRY_INTERVAL_MS = 100;

/** What one window's telemetry gave. */
export interface WindowTelemetryResult {
  /** The samples of the window only, timed from its start (`marks`: its label at 0, null at its end). */
  run: TelemetryRun;
  /** The window's summary. */
  summary: TelemetrySummary;
  /** The row columns (`null` where a source is missing, never 0). */
  fields: TelemetryFields;
}

/**
 * A sampler for one labelled window: call {@linkcode WindowTelemetry.onWindow} with `"start"` and
 * `"end"` around the measured work (`measureRuns`' `onWindow` option does), then `finish()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WindowTelemetry } from "./window_telemetry.ts";
 * const t = await WindowTelemetry.start("cell-1", { intervalMs: 20, gpu: false });
 * t.onWindow("start");
 * await new Promise((r) => setTimeout(r, 100));
 * t.onWindow("end");
 * const { run, fields } = await t.finish();
 * assert(run.marks[0]!.label === "cell-1" && run.series.length >= 1);
 * assert(typeof fields.telemetry_samples === "number" && fields.gpu_util_pct_mean === null);
 * ```
 */
export class WindowTelemetry {
  readonly #sampler: TelemetrySampler;
  readonly #label: string;
  #startMs: number | null = null;
  #endMs: number | null = null;

  private constructor(sampler: TelemetrySampler, label: string) {
    this.#sampler = sampler;
    this.#label = label;
  }

  /**
   * Starts sampling (the worker thread primes its counters before this resolves).
   *
   * @param label The window's label (a cell id, a job id).
   * @param options Sampler options (interval, GPU).
   * @returns The running window.
   * @throws {RangeError} naming `intervalMs` when it is outside 10–1000.
   */
  static async start(
    label: string,
    options: TelemetrySamplerOptions = {},
  ): Promise<WindowTelemetry> {
    const sampler = new TelemetrySampler(options);
    await sampler.start();
    return new WindowTelemetry(sampler, label);
  }

  /**
   * Marks the window's edges (the first `start` and the last `end` count).
   *
   * @param edge `start` as the measured work begins, `end` as it ends.
   */
  readonly onWindow = (edge: "start" | "end"): void => {
    if (edge === "start") this.#startMs ??= this.#sampler.mark(this.#label);
    else this.#endMs = this.#sampler.mark(null);
  };

  /**
   * Stops the sampler and cuts its series to the window. A sample's CPU figures cover the
   * interval before it, so the window keeps the samples after its start up to its end plus the
   * first one after its end (the sampler's last reading, taken on `stop`): a window shorter than
   * the interval still has one sample. A window never opened keeps every sample.
   *
   * @returns The window's samples, summary and row columns.
   */
  async finish(): Promise<WindowTelemetryResult> {
    const full = await this.#sampler.stop();
    const from = this.#startMs ?? 0;
    const to = this.#endMs ?? Infinity;
    const after = full.series.findIndex((s) => s.tMs > to);
    const series = full.series
      .filter((s, i) => (s.tMs > from && s.tMs <= to) || i === after)
      .map((s) => ({ ...s, tMs: s.tMs - from }));
    // The window's last sample (taken just after its end) still belongs to it.
    const end = Math.max(Number.isFinite(to) ? to - from : 0, series.at(-1)?.tMs ?? 0);
    const run: TelemetryRun = {
      ...full,
      startedAt: new Date(Date.parse(full.startedAt) + from).toISOString(),
      series,
      marks: [{ tMs: 0, label: this.#label }, { tMs: end, label: null }],
    };
    const summary = summarizeTelemetry(series);
    // Energy at the window's own edges, interpolated between the samples around each mark (the
    // first kept sample comes up to one interval after the start; the last, after the end).
    const interpolated = energyBetween(full.series, from, to);
    if (interpolated !== null) summary.gpuEnergyJ = interpolated;
    return { run, summary, fields: telemetryRowFields(summary) };
  }
}

/**
 * The sampler's GPU option for a device: NVML (or nvidia-smi) for a GPU device, off for `cpu`
 * (its rows then carry no GPU columns: null, never 0).
 *
 * @param device The device the work runs on.
 * @param deviceId The GPU ordinal (CUDA device id). @default 0
 * @returns The `gpu` option of {@linkcode TelemetrySampler}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuOptionFor } from "./window_telemetry.ts";
 * assert.equal(gpuOptionFor("cpu"), false);
 * assert.deepEqual(gpuOptionFor("cuda", 1), { cudaDeviceId: 1 });
 * ```
 */
export function gpuOptionFor(
  device: string,
  deviceId = 0,
): NonNullable<TelemetrySamplerOptions["gpu"]> {
  return device === "cpu" ? false : { cudaDeviceId: deviceId };
}

/**
 * The GPU energy counter's increase between two times, each edge interpolated linearly between
 * the readings around it; null unless both edges have a reading on each side.
 *
 * @param series Every sample of the run, in time order.
 * @param from Window start, ms.
 * @param to Window end, ms.
 * @returns Joules, or null.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { energyBetween } from "./window_telemetry.ts";
 * const at = (tMs: number, energyJ: number) => ({ tMs, gpu: { energyJ } });
 * // 10 J/s: the window 50..250 ms used 2 J, though its samples span 100..300 ms.
 * assert.equal(energyBetween([at(0, 0), at(100, 1), at(200, 2), at(300, 3)] as never, 50, 250), 2);
 * assert.equal(energyBetween([at(100, 1), at(300, 3)] as never, 50, 250), null);
 * ```
 */
export function energyBetween(
  series: readonly TelemetrySample[],
  from: number,
  to: number,
): number | null {
  const readings = series.flatMap((s) =>
    s.gpu !== null && typeof s.gpu.energyJ === "number" ? [{ t: s.tMs, e: s.gpu.energyJ }] : []
  );
  const at = (t: number): number | null => {
    const after = readings.findIndex((r) => r.t >= t);
    if (after < 0) return null;
    const b = readings[after]!;
    if (b.t === t) return b.e;
    const a = readings[after - 1];
    if (a === undefined) return null;
    return a.e + (b.e - a.e) * (t - a.t) / (b.t - a.t);
  };
  if (!Number.isFinite(to)) return null;
  const start = at(from);
  const end = at(to);
  return start === null || end === null ? null : end - start;
}
