/**
 * GPU telemetry for the run sampler: utilisation, memory (device and this process), temperature,
 * power, SM/memory clocks, throttle reasons and NVML's energy counter. NVML through Deno FFI
 * first; `nvidia-smi` as the fallback (no energy counter there); every value that no source gives
 * is `null`, never 0.
 *
 * @module
 */
import { nvmlTarget } from "./gpu_index.ts";
import {
  computeProcesses,
  deviceCount,
  deviceHandle,
  deviceHandleByUuid,
  deviceMemory,
  deviceTelemetry,
  type NvmlRawTelemetry,
  openNvml,
} from "./_nvml.ts";

const MIB = 1024 * 1024;

/** One telemetry reading of a GPU. */
export interface GpuTelemetry {
  /** GPU busy percent over the driver's last sample period. */
  utilizationPct: number | null;
  /** Memory-controller busy percent. */
  memoryUtilizationPct: number | null;
  /** Device memory used by all processes, bytes. */
  usedBytes: number | null;
  /** Device memory used by this process, bytes (often not reported inside containers). */
  processUsedBytes: number | null;
  /** Die temperature, °C. */
  temperatureC: number | null;
  /** Board power draw, watts. */
  powerW: number | null;
  /** SM clock, MHz. */
  smClockMhz: number | null;
  /** Memory clock, MHz. */
  memClockMhz: number | null;
  /** Active throttle reasons by NVML name (empty: none), `null` when unknown. */
  throttleReasons: string[] | null;
  /** NVML's energy counter since the driver loaded, joules (`null` via nvidia-smi). */
  energyJ: number | null;
}

/** NVML's `nvmlClocksThrottleReasons` bits, in bit order. */
export const THROTTLE_REASONS = [
  [0x1n, "gpu_idle"],
  [0x2n, "applications_clocks_setting"],
  [0x4n, "sw_power_cap"],
  [0x8n, "hw_slowdown"],
  [0x10n, "sync_boost"],
  [0x20n, "sw_thermal_slowdown"],
  [0x40n, "hw_thermal_slowdown"],
  [0x80n, "hw_power_brake_slowdown"],
  [0x100n, "display_clock_setting"],
] as const;

/** Reasons that do not slow a busy GPU below what was asked of it. */
const BENIGN = new Set(["gpu_idle", "applications_clocks_setting", "display_clock_setting"]);

/**
 * Names of the throttle reasons set in an NVML bit mask.
 *
 * @param mask The mask.
 * @returns Names in bit order (`unknown_0x…` for bits NVML added later).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { throttleReasonNames } from "./gpu_telemetry.ts";
 * assert.deepEqual(throttleReasonNames(0x44n), ["sw_power_cap", "hw_thermal_slowdown"]);
 * ```
 */
export function throttleReasonNames(mask: bigint): string[] {
  const out: string[] = [];
  let rest = mask;
  for (const [bit, name] of THROTTLE_REASONS) {
    if (mask & bit) out.push(name);
    rest &= ~bit;
  }
  if (rest !== 0n) out.push(`unknown_0x${rest.toString(16)}`);
  return out;
}

/**
 * Whether any of the reasons slows a busy GPU (power, thermal, hardware slowdown…).
 *
 * @param reasons Reason names.
 * @returns `true` when at least one is not benign.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isThrottled } from "./gpu_telemetry.ts";
 * assert(isThrottled(["sw_power_cap"]) && !isThrottled(["gpu_idle"]));
 * ```
 */
export function isThrottled(reasons: readonly string[]): boolean {
  return reasons.some((r) => !BENIGN.has(r));
}

/**
 * Turns NVML's raw values (and memory) into a reading.
 *
 * @param raw From NVML.
 * @param memory Device used bytes and this process's, `null` where unknown.
 * @returns The reading.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromNvml } from "./gpu_telemetry.ts";
 * const t = fromNvml({
 *   utilization: { gpu: 97, memory: 60 }, temperatureC: 71, powerMw: 350500, smClockMhz: 1980,
 *   memClockMhz: 2619, throttleMask: 0n, energyMj: 123456789n,
 * }, { usedBytes: 1e9, processUsedBytes: null });
 * assert(t.powerW === 350.5 && t.energyJ === 123456.789 && t.throttleReasons?.length === 0);
 * ```
 */
export function fromNvml(
  raw: NvmlRawTelemetry,
  memory: { usedBytes: number | null; processUsedBytes: number | null },
): GpuTelemetry {
  return {
    utilizationPct: raw.utilization?.gpu ?? null,
    memoryUtilizationPct: raw.utilization?.memory ?? null,
    usedBytes: memory.usedBytes,
    processUsedBytes: memory.processUsedBytes,
    temperatureC: raw.temperatureC,
    powerW: raw.powerMw === null ? null : raw.powerMw / 1000,
    smClockMhz: raw.smClockMhz,
    memClockMhz: raw.memClockMhz,
    throttleReasons: raw.throttleMask === null ? null : throttleReasonNames(raw.throttleMask),
    energyJ: raw.energyMj === null ? null : Number(raw.energyMj) / 1000,
  };
}

/** The `nvidia-smi --query-gpu` fields the fallback asks for, in order. */
export const NVIDIA_SMI_TELEMETRY_FIELDS = [
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "temperature.gpu",
  "power.draw",
  "clocks.sm",
  "clocks.mem",
  "clocks_throttle_reasons.active",
] as const;

/**
 * Parses one line of `nvidia-smi --query-gpu=<NVIDIA_SMI_TELEMETRY_FIELDS>
 * --format=csv,noheader,nounits`; `[N/A]` / `[Not Supported]` cells give `null`.
 *
 * @param text The command's stdout.
 * @returns The reading (no energy counter, no per-process memory).
 * @throws {SyntaxError} for a line with the wrong number of cells.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNvidiaSmiTelemetry } from "./gpu_telemetry.ts";
 * const t = parseNvidiaSmiTelemetry("45, 12, 2048, 60, 120.50, 1410, 1215, 0x0000000000000004\n");
 * assert(t.utilizationPct === 45 && t.usedBytes === 2048 * 1024 * 1024);
 * assert.deepEqual(t.throttleReasons, ["sw_power_cap"]);
 * ```
 */
export function parseNvidiaSmiTelemetry(text: string): GpuTelemetry {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  const cells = line.split(",").map((c) => c.trim());
  if (cells.length !== NVIDIA_SMI_TELEMETRY_FIELDS.length) {
    throw new SyntaxError(
      `nvidia-smi: expected ${NVIDIA_SMI_TELEMETRY_FIELDS.length} telemetry cells, got ${
        JSON.stringify(line)
      }`,
    );
  }
  const num = (i: number): number | null => {
    const v = Number(cells[i]);
    return cells[i] === "" || !Number.isFinite(v) ? null : v;
  };
  const mask = /^0x[0-9a-f]+$/i.test(cells[7]!) ? BigInt(cells[7]!) : null;
  const used = num(2);
  return {
    utilizationPct: num(0),
    memoryUtilizationPct: num(1),
    usedBytes: used === null ? null : used * MIB,
    processUsedBytes: null,
    temperatureC: num(3),
    powerW: num(4),
    smClockMhz: num(5),
    memClockMhz: num(6),
    throttleReasons: mask === null ? null : throttleReasonNames(mask),
    energyJ: null,
  };
}

/** A way to read a GPU's telemetry, and which interface it uses. */
export interface GpuTelemetryReader {
  /** Reads once (NVML: microseconds; nvidia-smi: a process spawn). */
  read(): GpuTelemetry;
  /** Which interface answers. */
  source: "nvml" | "nvidia-smi";
}

/**
 * Opens the cheapest telemetry source for a GPU, or says why there is none.
 *
 * @param options GPU: NVML's `index`, or `cudaDeviceId` (mapped through `CUDA_VISIBLE_DEVICES`, so
 * the card CUDA runs on is the one read); NVML library and nvidia-smi paths.
 * @returns A reader, or `{ reason }`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuTelemetryReader } from "./gpu_telemetry.ts";
 * const r = gpuTelemetryReader({ libraryPath: "/nonexistent/libnvidia-ml.so", nvidiaSmi: "/nonexistent/nvidia-smi" });
 * assert("reason" in r);
 * ```
 */
export function gpuTelemetryReader(
  options: { index?: number; cudaDeviceId?: number; libraryPath?: string; nvidiaSmi?: string } = {},
): GpuTelemetryReader | { reason: string } {
  const target = options.cudaDeviceId === undefined
    ? { kind: "index" as const, index: options.index ?? 0 }
    : nvmlTarget(options.cudaDeviceId, Deno.env.get("CUDA_VISIBLE_DEVICES"));
  if (target.kind === "hidden") return { reason: `no GPU telemetry: ${target.reason}` };
  const index = target.kind === "index" ? target.index : target.uuid;
  let nvmlError: string;
  try {
    const nvml = openNvml(options.libraryPath ?? "libnvidia-ml.so.1");
    let device: Deno.PointerValue;
    if (target.kind === "uuid") device = deviceHandleByUuid(nvml, target.uuid);
    else {
      const count = deviceCount(nvml);
      if (target.index >= count) {
        throw new Error(`GPU index ${target.index} is out of range (NVML sees ${count})`);
      }
      device = deviceHandle(nvml, target.index);
    }
    return {
      source: "nvml",
      read() {
        let usedBytes: number | null = null;
        let processUsedBytes: number | null = null;
        try {
          usedBytes = deviceMemory(nvml, device).usedBytes;
          processUsedBytes = computeProcesses(nvml, device)?.find((p) => p.pid === Deno.pid)
            ?.usedBytes ?? null;
        } catch {
          // keep what was read
        }
        return fromNvml(deviceTelemetry(nvml, device), { usedBytes, processUsedBytes });
      },
    };
  } catch (error) {
    nvmlError = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  }
  const smi = options.nvidiaSmi ?? "nvidia-smi";
  const args = [
    `--query-gpu=${NVIDIA_SMI_TELEMETRY_FIELDS.join(",")}`,
    "--format=csv,noheader,nounits",
    `--id=${index}`,
  ];
  const run = (): string => {
    const out = new Deno.Command(smi, { args, stdout: "piped", stderr: "null" }).outputSync();
    if (!out.success) throw new Error(`${smi} exited ${out.code}`);
    return new TextDecoder().decode(out.stdout);
  };
  try {
    parseNvidiaSmiTelemetry(run());
  } catch (error) {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { reason: `no GPU telemetry: NVML: ${nvmlError}; nvidia-smi: ${why}` };
  }
  return { source: "nvidia-smi", read: () => parseNvidiaSmiTelemetry(run()) };
}
