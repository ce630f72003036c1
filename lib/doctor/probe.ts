/**
 * What the doctor reads from the machine, behind one interface so every check's pass and fail
 * paths can be tested with a scripted probe. {@linkcode systemProbe} reads the real machine.
 *
 * @module
 */
import { cpus, loadavg } from "node:os";
import { statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Device } from "../dtypes.ts";
import { gpuInfo, gpuMemory } from "../measure/gpu.ts";
import { readMeminfo } from "../measure/proc_stats.ts";
import { epError } from "./_ep_probe.ts";

/** What a GPU reading says. */
export type GpuReading =
  | { available: true; name: string; driver: string; totalBytes: number; freeBytes: number }
  | { available: false; reason: string };

/** Everything the checks read. */
export interface DoctorProbe {
  /** Running Deno version. */
  denoVersion(): string;
  /** The Deno version the project pins (Makefile), or `null`. */
  pinnedDenoVersion(): string | null;
  /** npm packages pinned in deno.json: name → version. */
  pinnedPackages(): Record<string, string>;
  /** Whether `name@version` is installed in the project's node_modules. */
  packageInstalled(name: string, version: string): boolean;
  /** Tries to open a session on `device` and run a one-node graph; `null` when it worked. */
  executionProviderError(device: Device): Promise<string | null>;
  /** The GPU at `index`. */
  gpu(index: number): GpuReading;
  /** Total and available system memory, bytes, or `null` unknown. */
  memory(): { totalBytes: number; availableBytes: number } | null;
  /** Free bytes on the file system holding `path`, or `null` unknown. */
  diskFreeBytes(path: string): number | null;
  /** cpufreq scaling governor of cpu0, or `null` where the kernel does not expose it. */
  cpuGovernor(): string | null;
  /** 1-minute load average and logical cores. */
  load(): { load1: number; cores: number };
  /** Where WikiText-2 would be read from, or `null` when only the Hub could give it. */
  wikitextSource(): string | null;
  /** Whether the Hugging Face Hub answers (`offline` when HF_HUB_OFFLINE=1 asks not to try). */
  hubReachable(): Promise<"reachable" | "offline" | { error: string }>;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/**
 * The real machine.
 *
 * @param options Where the project is (for deno.json, Makefile, node_modules).
 * @returns A probe.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemProbe } from "./probe.ts";
 * const p = systemProbe();
 * assert(p.denoVersion().length > 0 && "onnxruntime-node" in p.pinnedPackages());
 * ```
 */
export function systemProbe(options: { root?: string } = {}): DoctorProbe {
  const root = options.root ?? ROOT;
  return {
    denoVersion: () => Deno.version.deno,
    pinnedDenoVersion() {
      const m = /^DENO_VERSION\s*:=\s*(\S+)/m.exec(readText(join(root, "Makefile")) ?? "");
      return m ? m[1]! : null;
    },
    pinnedPackages() {
      const json = JSON.parse(readText(join(root, "deno.json")) ?? "{}") as {
        imports?: Record<string, string>;
      };
      const out: Record<string, string> = {};
      for (const spec of Object.values(json.imports ?? {})) {
        const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
        if (m) out[m[1]!] = m[2]!;
      }
      return out;
    },
    packageInstalled(name, version) {
      const dir = join(root, "node_modules", ".deno", `${name.replace("/", "+")}@${version}`);
      try {
        return Deno.statSync(dir).isDirectory;
      } catch {
        return false;
      }
    },
    executionProviderError: epError,
    gpu(index) {
      const info = gpuInfo({ index });
      if (!info.available) return { available: false, reason: info.reason };
      const mem = gpuMemory({ index });
      return {
        available: true,
        name: info.name,
        driver: info.driverVersion,
        totalBytes: info.totalBytes,
        freeBytes: mem.available ? mem.totalBytes - mem.usedBytes : info.totalBytes,
      };
    },
    memory: () => readMeminfo(),
    diskFreeBytes(path) {
      let p = path;
      for (;;) {
        try {
          const s = statfsSync(p);
          return Number(s.bavail) * Number(s.bsize);
        } catch {
          const up = dirname(p);
          if (up === p) return null;
          p = up;
        }
      }
    },
    cpuGovernor() {
      return readText("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")?.trim() ?? null;
    },
    load: () => ({ load1: loadavg()[0] ?? 0, cores: Math.max(1, cpus().length) }),
    wikitextSource() {
      const candidates = [
        Deno.env.get("WIKITEXT_PATH"),
        join(root, "data", "wikitext-2-raw-v1", "test.txt.gz"),
        join(root, "..", "shared", "data", "wikitext-2-raw-v1", "test.txt"),
      ];
      for (const c of candidates) {
        if (!c) continue;
        try {
          if (Deno.statSync(c).isFile) return c;
        } catch {
          // not here
        }
      }
      return null;
    },
    async hubReachable() {
      if (Deno.env.get("HF_HUB_OFFLINE") === "1") return "offline";
      const endpoint = Deno.env.get("HF_ENDPOINT") ?? "https://huggingface.co";
      try {
        const res = await fetch(`${endpoint}/api/models?limit=1`, {
          method: "HEAD",
          signal: AbortSignal.timeout(3000),
        });
        await res.body?.cancel();
        return res.ok ? "reachable" : { error: `HTTP ${res.status}` };
      } catch (error) {
        return { error: (error instanceof Error ? error.message : String(error)).split("\n")[0]! };
      }
    },
  };
}
