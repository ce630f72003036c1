/**
 * A probe with fixed answers for tests: a healthy machine by default, any reading overridden.
 *
 * @module
 */
import type { DoctorProbe } from "./probe.ts";

/**
 * A healthy machine: pinned Deno, every package, cpu runs, no GPU, 20 GB RAM free, 50 GB disk,
 * performance governor, idle, WikiText local, Hub offline.
 *
 * @param overrides Readings to replace.
 * @returns The probe.
 */
export function scriptedProbe(overrides: Partial<DoctorProbe> = {}): DoctorProbe {
  return {
    denoVersion: () => "2.9.6",
    pinnedDenoVersion: () => "2.9.6",
    pinnedPackages: () => ({ "onnxruntime-node": "1.30.0" }),
    packageInstalled: () => true,
    executionProviderError: (d) =>
      Promise.resolve(d === "cpu" ? null : `${d}: not on this machine`),
    gpu: () => ({ available: false, reason: "no GPU readable: NVML: not found" }),
    memory: () => ({ totalBytes: 24e9, availableBytes: 20e9 }),
    diskFreeBytes: () => 50e9,
    cpuGovernor: () => "performance",
    load: () => ({ load1: 0.1, cores: 2 }),
    wikitextSource: () => "data/wikitext-2-raw-v1/test.txt.gz",
    hubReachable: () => Promise.resolve("offline" as const),
    ...overrides,
  };
}
