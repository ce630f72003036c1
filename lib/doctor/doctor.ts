/**
 * `deno task doctor`'s checks: software versions, execution providers, GPU and free VRAM, free
 * RAM and disk against the planned model and KV cache, CPU governor and background load,
 * WikiText-2 and the Hub. Each check is a function of a {@linkcode DoctorProbe}, so every pass and
 * fail path is testable; the sweep runs the same checks as its pre-flight.
 *
 * @module
 */
import { type Device, DEVICES } from "../dtypes.ts";
import type { CheckResult } from "./check.ts";
import type { DoctorProbe } from "./probe.ts";
import type { RunPlan } from "./plan.ts";

/** What the run will be, when the doctor is asked about one. */
export interface DoctorOptions {
  /** The device the run will use. @default "cpu" */
  device?: Device;
  /** GPU ordinal (NVML index). @default 0 */
  deviceId?: number;
  /** The planned model, dtype and context (see `planRun`). */
  plan?: RunPlan;
  /** Where models are cached or built (its file system's free space is checked). @default "." */
  cacheDir?: string;
  /** Execution providers to probe (the sweep's pre-flight: only its devices). @default all */
  providers?: readonly Device[];
  /** Probe the Hugging Face Hub (the offline sweep does not). @default true */
  hub?: boolean;
}

const GB = 1e9;
const gb = (bytes: number) => `${(bytes / GB).toFixed(2)} GB`;
/** Memory the runtime needs besides weights and KV cache (process, arena, activations). */
const RUNTIME_OVERHEAD_BYTES = 0.5 * GB;

const pass = (name: string, detail: string): CheckResult => ({
  name,
  status: "pass",
  detail,
  advice: "",
});

/**
 * Runs every check.
 *
 * @param probe What to read (the real machine: `systemProbe()`).
 * @param options The planned run.
 * @returns One result per check, in table order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDoctor } from "./doctor.ts";
 * import { doctorExitCode } from "./check.ts";
 * import { scriptedProbe } from "./_scripted_probe.ts";
 * const results = await runDoctor(scriptedProbe(), { device: "cpu" });
 * // cuda and webgpu do not open on the scripted machine: warnings, not failures, for a cpu run
 * assert(doctorExitCode(results) === 0 && results.filter((r) => r.status === "warn").length === 2);
 * ```
 */
export async function runDoctor(
  probe: DoctorProbe,
  options: DoctorOptions = {},
): Promise<CheckResult[]> {
  const device = options.device ?? "cpu";
  const out: CheckResult[] = [denoCheck(probe), packagesCheck(probe)];
  for (const d of options.providers ?? DEVICES) {
    out.push(await providerCheck(probe, d, d === device));
  }
  out.push(gpuCheck(probe, device, options.deviceId ?? 0, options.plan));
  out.push(memoryCheck(probe, device, options.plan));
  out.push(diskCheck(probe, options.cacheDir ?? ".", options.plan));
  out.push(governorCheck(probe), loadCheck(probe), wikitextCheck(probe));
  if (options.hub ?? true) out.push(await hubCheck(probe));
  if (options.plan) out.push(modelCheck(options.plan));
  return out;
}

function denoCheck(probe: DoctorProbe): CheckResult {
  const have = probe.denoVersion();
  const want = probe.pinnedDenoVersion();
  if (want === null || have === want) return pass("deno", `${have}${want ? " (pinned)" : ""}`);
  return {
    name: "deno",
    status: "warn",
    detail: `${have}, the project pins ${want}`,
    advice: "run through `make` (it installs the pinned Deno into .tools/) so results compare",
  };
}

function packagesCheck(probe: DoctorProbe): CheckResult {
  const pins = probe.pinnedPackages();
  const missing = Object.entries(pins).filter(([n, v]) => !probe.packageInstalled(n, v));
  if (missing.length === 0) {
    return pass(
      "npm packages",
      `${Object.keys(pins).length} pinned, all installed (onnxruntime-node ${
        pins["onnxruntime-node"] ?? "?"
      })`,
    );
  }
  return {
    name: "npm packages",
    status: "fail",
    detail: `not installed: ${missing.map(([n, v]) => `${n}@${v}`).join(", ")}`,
    advice: "run `make setup` (deno install --frozen) with the npm registry reachable",
  };
}

async function providerCheck(probe: DoctorProbe, d: Device, wanted: boolean): Promise<CheckResult> {
  const name = `execution provider: ${d}`;
  const error = await probe.executionProviderError(d);
  if (error === null) return pass(name, "opens a session and runs a one-node graph");
  return {
    name,
    status: wanted ? "fail" : "warn",
    detail: error,
    advice: wanted
      ? `the run asks for ${d}: fix this or choose another --device`
      : `${d} cells will be recorded as errors with this reason`,
  };
}

function gpuCheck(probe: DoctorProbe, device: Device, index: number, plan?: RunPlan): CheckResult {
  const gpu = probe.gpu(index);
  const name = `GPU ${index}`;
  if (!gpu.available) {
    if (device === "cuda") {
      return {
        name,
        status: "fail",
        detail: gpu.reason,
        advice: "install the NVIDIA driver or run on --device cpu",
      };
    }
    return device === "webgpu"
      ? {
        name,
        status: "warn",
        detail: gpu.reason,
        advice: "no NVML: VRAM will not be measured (non-NVIDIA GPUs are not read)",
      }
      : pass(name, `none readable (not needed for ${device})`);
  }
  const detail = `${gpu.name}, driver ${gpu.driver}, ${gb(gpu.freeBytes)} free of ${
    gb(gpu.totalBytes)
  }`;
  if (device !== "cpu" && plan?.modelBytes != null) {
    const need = plan.modelBytes + (plan.kvBytes ?? 0);
    if (need > gpu.freeBytes) {
      return {
        name,
        status: "fail",
        detail: `${detail}; the run needs ${gb(need)}`,
        advice: "free VRAM, pick a smaller dtype or a shorter context",
      };
    }
    if (need > 0.9 * gpu.freeBytes) {
      return {
        name,
        status: "warn",
        detail: `${detail}; the run needs ${gb(need)}`,
        advice: "little headroom: activations may not fit",
      };
    }
  }
  return pass(name, detail);
}

function memoryCheck(probe: DoctorProbe, device: Device, plan?: RunPlan): CheckResult {
  const mem = probe.memory();
  const name = "RAM";
  if (mem === null) {
    return {
      name,
      status: "warn",
      detail: "available memory unknown (no /proc/meminfo)",
      advice: "watch memory yourself",
    };
  }
  const detail = `${gb(mem.availableBytes)} available of ${gb(mem.totalBytes)}`;
  if (!plan || plan.modelBytes === null) return pass(name, detail);
  // On the CPU the weights and the KV cache live in RAM; on a GPU the host still loads the file.
  const need = plan.modelBytes + (device === "cpu" ? plan.kvBytes ?? 0 : 0) +
    RUNTIME_OVERHEAD_BYTES;
  const what = `${detail}; ${plan.ref} ${plan.dtype} needs ~${gb(need)}` +
    (device === "cpu" && plan.kvBytes !== null
      ? ` (KV cache ${gb(plan.kvBytes)} at ${plan.context} tokens)`
      : "");
  if (need > mem.availableBytes) {
    return {
      name,
      status: "fail",
      detail: what,
      advice: "free memory, use a smaller dtype or a shorter context",
    };
  }
  if (need > 0.8 * mem.availableBytes) {
    return {
      name,
      status: "warn",
      detail: what,
      advice: "little headroom: the OS may swap and timings suffer",
    };
  }
  return pass(name, what);
}

function diskCheck(probe: DoctorProbe, cacheDir: string, plan?: RunPlan): CheckResult {
  const free = probe.diskFreeBytes(cacheDir);
  const name = "disk";
  if (free === null) {
    return {
      name,
      status: "warn",
      detail: `free space of ${cacheDir} unknown`,
      advice: "check it yourself",
    };
  }
  const detail = `${gb(free)} free at ${cacheDir}`;
  if (plan?.needsFiles && plan.modelBytes !== null) {
    const need = plan.modelBytes * (plan.dtype === "fp32" ? 1 : 2); // fp32 source + variant
    if (need > free) {
      return {
        name,
        status: "fail",
        detail: `${detail}; building ${plan.ref} ${plan.dtype} writes ~${gb(need)}`,
        advice: "free disk space or point the cache elsewhere",
      };
    }
  }
  if (free < 2 * GB) {
    return {
      name,
      status: "warn",
      detail,
      advice: "under 2 GB free: outputs and caches may not fit",
    };
  }
  return pass(name, detail);
}

function governorCheck(probe: DoctorProbe): CheckResult {
  const g = probe.cpuGovernor();
  const name = "CPU governor";
  if (g === null) {
    return pass(name, "not exposed by the kernel (virtual machine: the host sets clocks)");
  }
  if (g === "performance") return pass(name, g);
  return {
    name,
    status: "warn",
    detail: g,
    advice:
      "clocks change with load: `sudo cpupower frequency-set -g performance` for stable timings",
  };
}

function loadCheck(probe: DoctorProbe): CheckResult {
  const { load1, cores } = probe.load();
  const detail = `1-minute load ${load1.toFixed(2)} on ${cores} cores`;
  return load1 > 0.5 * cores
    ? {
      name: "background load",
      status: "warn",
      detail,
      advice: "another workload competes: timings will be slower and noisier",
    }
    : pass("background load", detail);
}

function wikitextCheck(probe: DoctorProbe): CheckResult {
  const src = probe.wikitextSource();
  return src === null
    ? {
      name: "WikiText-2",
      status: "warn",
      detail: "no local copy",
      advice: "perplexity needs the Hub or --wikitext PATH; offline it is skipped",
    }
    : pass("WikiText-2", src);
}

async function hubCheck(probe: DoctorProbe): Promise<CheckResult> {
  const r = await probe.hubReachable();
  if (r === "reachable") return pass("Hugging Face Hub", "reachable");
  if (r === "offline") {
    return pass(
      "Hugging Face Hub",
      "offline mode (HF_HUB_OFFLINE=1): local, preset and cached models only",
    );
  }
  return {
    name: "Hugging Face Hub",
    status: "warn",
    detail: `unreachable: ${r.error}`,
    advice: "Hub ids work only from the cache; use a local directory or preset:NAME",
  };
}

function modelCheck(plan: RunPlan): CheckResult {
  const name = `model ${plan.ref} (${plan.dtype})`;
  if (plan.note !== null && plan.modelBytes === null && !plan.ref.startsWith("preset:")) {
    const local = !plan.note.includes("Hub id");
    return {
      name,
      status: local ? "fail" : "warn",
      detail: plan.note,
      advice: plan.note.includes("not found") || plan.note.includes("is a file")
        ? "check the path: a local model is a directory with config.json, tokenizer.json and onnx/"
        : local
        ? "build it (deno task build-model / quantize) or pick a dtype it has"
        : "it will be downloaded on first use",
    };
  }
  return pass(
    name,
    `${plan.modelBytes === null ? "size unknown" : gb(plan.modelBytes)}${
      plan.estimated ? " (estimated; built or converted on first use)" : " on disk"
    }` +
      (plan.kvBytes === null ? "" : `, KV cache ${gb(plan.kvBytes)} at ${plan.context} tokens`),
  );
}
