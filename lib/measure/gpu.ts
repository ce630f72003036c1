/**
 * GPU name, driver and memory: NVML through Deno FFI (`libnvidia-ml.so.1`), `nvidia-smi` as the
 * fallback, and an explicit "unavailable" with the reason where neither answers. Nothing here
 * throws for a missing GPU.
 *
 * Memory figures: `usedBytes` is what the whole device uses (all processes, NVML `_v2` excludes
 * driver-reserved memory); `processUsedBytes` is this process's share where the driver reports
 * per-process usage (it often does not inside containers, whose PIDs differ from the host's).
 *
 * @module
 */
import {
  computeProcesses,
  deviceCount,
  deviceHandle,
  deviceMemory,
  deviceName,
  driverVersion,
  openNvml,
} from "./_nvml.ts";
import { parseNvidiaSmiApps, parseNvidiaSmiGpu } from "./_nvidia_smi.ts";

/** Where to look for the GPU. */
export interface GpuProbeOptions {
  /** GPU ordinal. @default 0 */
  index?: number;
  /** NVML library path or soname. @default "libnvidia-ml.so.1" */
  libraryPath?: string;
  /** `nvidia-smi` executable. @default "nvidia-smi" */
  nvidiaSmi?: string;
}

/** A GPU that answered. */
export interface GpuInfo {
  /** Always `true`. */
  available: true;
  /** GPU ordinal. */
  index: number;
  /** Device name, e.g. `NVIDIA H100 80GB HBM3`. */
  name: string;
  /** Driver version. */
  driverVersion: string;
  /** Total device memory, bytes. */
  totalBytes: number;
  /** Which interface answered. */
  source: "nvml" | "nvidia-smi";
}

/** No GPU could be read, and why (one line naming what was tried). */
export interface GpuUnavailable {
  /** Always `false`. */
  available: false;
  /** Why: what was tried and what failed. */
  reason: string;
}

/** Memory of one GPU now. */
export interface GpuMemory {
  /** Always `true`. */
  available: true;
  /** GPU ordinal. */
  index: number;
  /** Total device memory, bytes. */
  totalBytes: number;
  /** Memory used on the device by all processes, bytes. */
  usedBytes: number;
  /** Memory used by this process, bytes; `null` where the driver does not report it. */
  processUsedBytes: number | null;
  /** Which interface answered. */
  source: "nvml" | "nvidia-smi";
}

const DEFAULT_LIBRARY = "libnvidia-ml.so.1";

/**
 * Name, driver and total memory of a GPU, or why none can be read.
 *
 * @param options GPU ordinal and where NVML / nvidia-smi live.
 * @returns {@linkcode GpuInfo} or {@linkcode GpuUnavailable}.
 * @example
 * ```ts
 * import { gpuInfo } from "./gpu.ts";
 * const gpu = gpuInfo();
 * console.log(gpu.available ? `${gpu.name} (${gpu.driverVersion})` : gpu.reason);
 * ```
 */
export function gpuInfo(options: GpuProbeOptions = {}): GpuInfo | GpuUnavailable {
  const index = checkIndex(options.index ?? 0);
  let nvmlError: string;
  try {
    const nvml = openNvml(options.libraryPath ?? DEFAULT_LIBRARY);
    const device = handleAt(nvml, index);
    return {
      available: true,
      index,
      name: deviceName(nvml, device),
      driverVersion: driverVersion(nvml),
      totalBytes: deviceMemory(nvml, device).totalBytes,
      source: "nvml",
    };
  } catch (error) {
    nvmlError = firstLine(error);
  }
  const gpu = smiGpu(options, index);
  if ("error" in gpu) return unavailable(nvmlError, gpu.error);
  return {
    available: true,
    index,
    name: gpu.name,
    driverVersion: gpu.driverVersion,
    totalBytes: gpu.totalBytes,
    source: "nvidia-smi",
  };
}

/** nvidia-smi's view of GPU `index` (name, driver, memory), or the one-line reason it gave none. */
function smiGpu(
  options: GpuProbeOptions,
  index: number,
): ReturnType<typeof parseNvidiaSmiGpu> | { error: string } {
  const smi = runSmi(options.nvidiaSmi ?? "nvidia-smi", [
    "--query-gpu=name,driver_version,memory.total,memory.used",
    "--format=csv,noheader,nounits",
    `--id=${index}`,
  ]);
  if ("error" in smi) return { error: smi.error };
  try {
    return parseNvidiaSmiGpu(smi.stdout);
  } catch (error) {
    return { error: firstLine(error) };
  }
}

/**
 * Memory of a GPU now (device-wide and, where reported, this process's share), or why none can
 * be read.
 *
 * @param options GPU ordinal and where NVML / nvidia-smi live.
 * @returns {@linkcode GpuMemory} or {@linkcode GpuUnavailable}.
 * @example
 * ```ts
 * import { gpuMemory } from "./gpu.ts";
 * const m = gpuMemory();
 * console.log(m.available ? m.usedBytes : m.reason);
 * ```
 */
export function gpuMemory(options: GpuProbeOptions = {}): GpuMemory | GpuUnavailable {
  const index = checkIndex(options.index ?? 0);
  let nvmlError: string;
  try {
    const nvml = openNvml(options.libraryPath ?? DEFAULT_LIBRARY);
    const device = handleAt(nvml, index);
    const memory = deviceMemory(nvml, device);
    let processUsedBytes: number | null = null;
    try {
      processUsedBytes = computeProcesses(nvml, device)?.find((p) => p.pid === Deno.pid)
        ?.usedBytes ?? null;
    } catch {
      processUsedBytes = null;
    }
    return {
      available: true,
      index,
      totalBytes: memory.totalBytes,
      usedBytes: memory.usedBytes,
      processUsedBytes,
      source: "nvml",
    };
  } catch (error) {
    nvmlError = firstLine(error);
  }
  const gpu = smiGpu(options, index);
  if ("error" in gpu) return unavailable(nvmlError, gpu.error);
  try {
    const apps = runSmi(options.nvidiaSmi ?? "nvidia-smi", [
      "--query-compute-apps=pid,used_memory",
      "--format=csv,noheader,nounits",
      `--id=${index}`,
    ]);
    const mine = "error" in apps
      ? undefined
      : parseNvidiaSmiApps(apps.stdout).find((p) => p.pid === Deno.pid);
    return {
      available: true,
      index,
      totalBytes: gpu.totalBytes,
      usedBytes: gpu.usedBytes,
      processUsedBytes: mine?.usedBytes ?? null,
      source: "nvidia-smi",
    };
  } catch (error) {
    return unavailable(nvmlError, firstLine(error));
  }
}

/**
 * A cheap reader of a GPU's used memory for samplers (NVML only: spawning nvidia-smi per sample
 * would cost more than the sample interval), or `null` where NVML cannot be opened.
 *
 * @param options GPU ordinal and NVML path.
 * @returns A function returning the device's used bytes (this process's where reported), or null.
 * @example
 * ```ts
 * import { gpuMemoryReader } from "./gpu.ts";
 * const read = gpuMemoryReader();
 * console.log(read === null ? "no NVML" : read());
 * ```
 */
export function gpuMemoryReader(options: GpuProbeOptions = {}): (() => number) | null {
  const index = checkIndex(options.index ?? 0);
  try {
    const nvml = openNvml(options.libraryPath ?? DEFAULT_LIBRARY);
    const device = handleAt(nvml, index);
    deviceMemory(nvml, device);
    return () => deviceMemory(nvml, device).usedBytes;
  } catch {
    return null;
  }
}

function handleAt(nvml: ReturnType<typeof openNvml>, index: number): Deno.PointerValue {
  const count = deviceCount(nvml);
  if (index >= count) throw new Error(`GPU index ${index} is out of range (NVML sees ${count})`);
  return deviceHandle(nvml, index);
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0) {
    throw new RangeError(`Cannot probe GPU: 'index' must be a non-negative integer, got ${index}`);
  }
  return index;
}

function runSmi(command: string, args: string[]): { stdout: string } | { error: string } {
  try {
    const out = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).outputSync();
    const text = new TextDecoder();
    if (!out.success) {
      return {
        error: `${command} exited ${out.code}: ${firstLine(text.decode(out.stderr || out.stdout))}`,
      };
    }
    return { stdout: text.decode(out.stdout) };
  } catch (error) {
    return { error: `${command}: ${firstLine(error)}` };
  }
}

function unavailable(nvmlError: string, smiError: string): GpuUnavailable {
  return { available: false, reason: `no GPU readable: NVML: ${nvmlError}; ${smiError}` };
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = (text.split("\n").find((l) => l.trim() !== "") ?? text).trim();
  // Deno repeats the prefix of a failed dlopen ("Could not open library: Could not open …").
  return line.replace(/^(Could not open library: )+/, "Could not open library: ");
}
