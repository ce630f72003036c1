/**
 * NVML (libnvidia-ml) through Deno FFI, private to lib/measure. Opened once per library path and
 * kept; every call returns a value or throws an `Error` with NVML's own error string.
 *
 * @module
 */

const SYMBOLS = {
  nvmlInit_v2: { parameters: [], result: "i32" },
  nvmlErrorString: { parameters: ["i32"], result: "pointer" },
  nvmlDeviceGetCount_v2: { parameters: ["buffer"], result: "i32" },
  nvmlDeviceGetHandleByIndex_v2: { parameters: ["u32", "buffer"], result: "i32" },
  nvmlDeviceGetHandleByUUID: { parameters: ["buffer", "buffer"], result: "i32", optional: true },
  nvmlDeviceGetMemoryInfo_v2: { parameters: ["pointer", "buffer"], result: "i32", optional: true },
  nvmlDeviceGetMemoryInfo: { parameters: ["pointer", "buffer"], result: "i32" },
  nvmlDeviceGetName: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  nvmlSystemGetDriverVersion: { parameters: ["buffer", "u32"], result: "i32" },
  nvmlDeviceGetUtilizationRates: {
    parameters: ["pointer", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetTemperature: {
    parameters: ["pointer", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetPowerUsage: { parameters: ["pointer", "buffer"], result: "i32", optional: true },
  nvmlDeviceGetClockInfo: {
    parameters: ["pointer", "u32", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetCurrentClocksThrottleReasons: {
    parameters: ["pointer", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetTotalEnergyConsumption: {
    parameters: ["pointer", "buffer"],
    result: "i32",
    optional: true,
  },
  nvmlDeviceGetComputeRunningProcesses_v3: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened NVML symbols. */
export type Nvml = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** `nvmlMemory_v2_t` version: sizeof (40) | 2 << 24. */
const MEMORY_V2_VERSION = 0x02000028;
/** `NVML_ERROR_INSUFFICIENT_SIZE`. */
const INSUFFICIENT_SIZE = 7;
/** `sizeof(nvmlProcessInfo_t)` as `_v3` fills it: pid, usedGpuMemory, gpu/compute instance. */
const PROCESS_INFO_BYTES = 24;
/** `NVML_VALUE_NOT_AVAILABLE` (unsigned long long −1). */
const NOT_AVAILABLE = 0xffffffffffffffffn;

const opened = new Map<string, Nvml>();

/** Memory of one device, bytes. */
export interface NvmlMemory {
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
}

/** A process on a device and its GPU memory (`null` where the driver does not report it). */
export interface NvmlProcess {
  pid: number;
  usedBytes: number | null;
}

/**
 * Opens NVML and initialises it (once per path).
 *
 * @param path Library path or soname.
 * @returns The symbols.
 */
export function openNvml(path: string): Nvml {
  const known = opened.get(path);
  if (known) return known;
  const lib = Deno.dlopen(path, SYMBOLS);
  check(lib.symbols, lib.symbols.nvmlInit_v2(), "nvmlInit_v2");
  opened.set(path, lib.symbols);
  return lib.symbols;
}

function check(nvml: Nvml, code: number, call: string): void {
  if (code === 0) return;
  const ptr = nvml.nvmlErrorString(code);
  const text = ptr === null ? `code ${code}` : new Deno.UnsafePointerView(ptr).getCString();
  throw new Error(`${call} failed: ${text}`);
}

/**
 * Number of GPUs NVML sees.
 *
 * @param nvml Opened symbols.
 * @returns The count.
 */
export function deviceCount(nvml: Nvml): number {
  const out = new Uint32Array(1);
  check(nvml, nvml.nvmlDeviceGetCount_v2(out), "nvmlDeviceGetCount_v2");
  return out[0]!;
}

/**
 * The handle of GPU `index`.
 *
 * @param nvml Opened symbols.
 * @param index Ordinal.
 * @returns An opaque pointer.
 */
export function deviceHandle(nvml: Nvml, index: number): Deno.PointerValue {
  const out = new BigUint64Array(1);
  check(nvml, nvml.nvmlDeviceGetHandleByIndex_v2(index, out), "nvmlDeviceGetHandleByIndex_v2");
  return Deno.UnsafePointer.create(out[0]!);
}

/**
 * The handle of the GPU with a `GPU-…` / `MIG-…` UUID (as `CUDA_VISIBLE_DEVICES` may name it).
 *
 * @param nvml Opened symbols.
 * @param uuid The UUID.
 * @returns An opaque pointer.
 */
export function deviceHandleByUuid(nvml: Nvml, uuid: string): Deno.PointerValue {
  const fn = nvml.nvmlDeviceGetHandleByUUID;
  if (fn === null) throw new Error("nvmlDeviceGetHandleByUUID is not in this NVML");
  const out = new BigUint64Array(1);
  check(nvml, fn(new TextEncoder().encode(`${uuid}\0`), out), "nvmlDeviceGetHandleByUUID");
  return Deno.UnsafePointer.create(out[0]!);
}

/**
 * Device name, e.g. `NVIDIA H100 80GB HBM3`.
 *
 * @param nvml Opened symbols.
 * @param device Handle.
 * @returns The name.
 */
export function deviceName(nvml: Nvml, device: Deno.PointerValue): string {
  const buf = new Uint8Array(96);
  check(nvml, nvml.nvmlDeviceGetName(device, buf, buf.length), "nvmlDeviceGetName");
  return cString(buf);
}

/**
 * Driver version, e.g. `550.54.15`.
 *
 * @param nvml Opened symbols.
 * @returns The version.
 */
export function driverVersion(nvml: Nvml): string {
  const buf = new Uint8Array(80);
  check(nvml, nvml.nvmlSystemGetDriverVersion(buf, buf.length), "nvmlSystemGetDriverVersion");
  return cString(buf);
}

/**
 * Device memory: `nvmlDeviceGetMemoryInfo_v2` (whose `used` excludes driver-reserved memory),
 * falling back to `nvmlDeviceGetMemoryInfo` on older drivers.
 *
 * @param nvml Opened symbols.
 * @param device Handle.
 * @returns Total, used and free bytes.
 */
export function deviceMemory(nvml: Nvml, device: Deno.PointerValue): NvmlMemory {
  if (nvml.nvmlDeviceGetMemoryInfo_v2 !== null) {
    // nvmlMemory_v2_t: u32 version, (pad), u64 total, reserved, free, used.
    const buf = new BigUint64Array(5);
    new Uint32Array(buf.buffer)[0] = MEMORY_V2_VERSION;
    if (nvml.nvmlDeviceGetMemoryInfo_v2(device, buf) === 0) {
      return { totalBytes: Number(buf[1]), freeBytes: Number(buf[3]), usedBytes: Number(buf[4]) };
    }
  }
  // nvmlMemory_t: u64 total, free, used.
  const buf = new BigUint64Array(3);
  check(nvml, nvml.nvmlDeviceGetMemoryInfo(device, buf), "nvmlDeviceGetMemoryInfo");
  return { totalBytes: Number(buf[0]), freeBytes: Number(buf[1]), usedBytes: Number(buf[2]) };
}

/**
 * Compute processes on a device and their memory, or `null` where the driver lacks
 * `nvmlDeviceGetComputeRunningProcesses_v3`.
 *
 * @param nvml Opened symbols.
 * @param device Handle.
 * @returns The processes.
 */
export function computeProcesses(nvml: Nvml, device: Deno.PointerValue): NvmlProcess[] | null {
  const fn = nvml.nvmlDeviceGetComputeRunningProcesses_v3;
  if (fn === null) return null;
  const count = new Uint32Array(1);
  let code = fn(device, count, new Uint8Array(0));
  if (code === 0) return [];
  if (code !== INSUFFICIENT_SIZE) check(nvml, code, "nvmlDeviceGetComputeRunningProcesses_v3");
  count[0] = count[0]! + 8; // processes may start between the two calls
  const buf = new Uint8Array(count[0]! * PROCESS_INFO_BYTES);
  code = fn(device, count, buf);
  check(nvml, code, "nvmlDeviceGetComputeRunningProcesses_v3");
  const view = new DataView(buf.buffer);
  const out: NvmlProcess[] = [];
  for (let i = 0; i < count[0]!; i++) {
    const at = i * PROCESS_INFO_BYTES;
    const used = view.getBigUint64(at + 8, true);
    out.push({
      pid: view.getUint32(at, true),
      usedBytes: used === NOT_AVAILABLE ? null : Number(used),
    });
  }
  return out;
}

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}

/** Raw telemetry values of one device as NVML returns them; `null` where a call failed or is absent. */
export interface NvmlRawTelemetry {
  /** `nvmlUtilization_t`: GPU and memory-controller busy percent over the last sample period. */
  utilization: { gpu: number; memory: number } | null;
  /** GPU die temperature, °C (`NVML_TEMPERATURE_GPU`). */
  temperatureC: number | null;
  /** Board power draw, milliwatts. */
  powerMw: number | null;
  /** SM clock, MHz (`NVML_CLOCK_SM`). */
  smClockMhz: number | null;
  /** Memory clock, MHz (`NVML_CLOCK_MEM`). */
  memClockMhz: number | null;
  /** Clock throttle (event) reasons bit mask. */
  throttleMask: bigint | null;
  /** Energy since the driver loaded, millijoules (Volta and newer). */
  energyMj: bigint | null;
}

/**
 * Reads every telemetry value NVML offers for a device; each failing call gives `null` for its
 * field only.
 *
 * @param nvml Opened symbols.
 * @param device Handle.
 * @returns The raw values.
 */
export function deviceTelemetry(nvml: Nvml, device: Deno.PointerValue): NvmlRawTelemetry {
  const u32 = (call: ((out: Uint32Array) => number) | null): number | null => {
    if (call === null) return null;
    const out = new Uint32Array(2);
    return call(out) === 0 ? out[0]! : null;
  };
  const u64 = (call: ((out: BigUint64Array) => number) | null): bigint | null => {
    if (call === null) return null;
    const out = new BigUint64Array(1);
    return call(out) === 0 ? out[0]! : null;
  };
  let utilization: NvmlRawTelemetry["utilization"] = null;
  if (nvml.nvmlDeviceGetUtilizationRates !== null) {
    const out = new Uint32Array(2);
    if (nvml.nvmlDeviceGetUtilizationRates(device, out) === 0) {
      utilization = { gpu: out[0]!, memory: out[1]! };
    }
  }
  const temp = nvml.nvmlDeviceGetTemperature;
  const clock = nvml.nvmlDeviceGetClockInfo;
  const power = nvml.nvmlDeviceGetPowerUsage;
  const throttle = nvml.nvmlDeviceGetCurrentClocksThrottleReasons;
  const energy = nvml.nvmlDeviceGetTotalEnergyConsumption;
  return {
    utilization,
    temperatureC: u32(temp && ((o) => temp(device, 0, o))),
    powerMw: u32(power && ((o) => power(device, o))),
    smClockMhz: u32(clock && ((o) => clock(device, 1, o))),
    memClockMhz: u32(clock && ((o) => clock(device, 2, o))),
    throttleMask: u64(throttle && ((o) => throttle(device, o))),
    energyMj: u64(energy && ((o) => energy(device, o))),
  };
}
