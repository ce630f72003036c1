/**
 * System information recorded with every result: runtime versions, CPU, memory, GPU, git commit.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { gpuInfo } from "../measure/gpu.ts";

/** The pinned @huggingface/transformers version (kept in step with deno.json by a test). */
export const TRANSFORMERS_VERSION = "4.3.1";

/** What a result row or bench JSON records about the machine and software. */
export interface SystemInfo {
  /** Deno version. */
  deno: string;
  /** V8 version. */
  v8: string;
  /** TypeScript version bundled with Deno. */
  typescript: string;
  /** onnxruntime-node version. */
  onnxruntime: string;
  /** Version of the @huggingface/transformers package. */
  transformers: string;
  /** `linux`, `darwin`, … */
  os: string;
  /** `x86_64`, `aarch64`. */
  arch: string;
  /** CPU model name. */
  cpuModel: string;
  /** Logical CPU cores. */
  cpuCores: number;
  /** Physical memory, bytes. */
  totalMemoryBytes: number;
  /** GPU name and driver, or null with the reason when no GPU can be read. */
  gpu: { name: string; driver: string; totalMemoryBytes: number | null } | null;
  /** Why `gpu` is null. */
  gpuReason: string | null;
  /** Git commit of the project (`-dirty` when the tree has changes), or `unknown`. */
  gitCommit: string;
}

/**
 * Collects the system information.
 *
 * @returns Versions, CPU, memory, GPU (NVML, else nvidia-smi) and the git commit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemInfo } from "./system_info.ts";
 * const info = await systemInfo();
 * assert(info.cpuCores > 0 && info.onnxruntime.length > 0);
 * ```
 */
export async function systemInfo(): Promise<SystemInfo> {
  const gpu = gpuInfo();
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
    transformers: TRANSFORMERS_VERSION,
    os: Deno.build.os,
    arch: Deno.build.arch,
    cpuModel: cpus()[0]?.model?.trim() || "unknown",
    cpuCores: cpus().length,
    totalMemoryBytes: totalmem(),
    gpu: gpu.available
      ? { name: gpu.name, driver: gpu.driverVersion, totalMemoryBytes: gpu.totalBytes }
      : null,
    gpuReason: gpu.available ? null : gpu.reason,
    gitCommit: await gitCommit(),
  };
}

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The project's git commit, with `-dirty` when tracked files changed, or `unknown` outside a
 * checkout or without git.
 *
 * @param dir Directory inside the checkout. @default the project root
 * @returns A 40-hex commit id (maybe suffixed) or `unknown`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gitCommit } from "./system_info.ts";
 * assert(/^([0-9a-f]{40}(-dirty)?|unknown)$/.test(await gitCommit()));
 * ```
 */
export async function gitCommit(dir: string = REPO_ROOT): Promise<string> {
  const head = await run("git", ["-C", dir, "rev-parse", "HEAD"]);
  if (head === null || !/^[0-9a-f]{40}$/.test(head)) return "unknown";
  const status = await run("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"]);
  return status ? `${head}-dirty` : head;
}

async function run(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}
