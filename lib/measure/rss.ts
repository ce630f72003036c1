/**
 * Process resident memory from `/proc/self/status`: the current RSS (`VmRSS`) and the peak RSS
 * since the process started (`VmHWM`, the high-water mark the kernel keeps). Linux only; other
 * systems get `null`.
 *
 * @module
 */

/** Memory fields of `/proc/<pid>/status`, in bytes (`null` when the line is absent). */
export interface ProcStatusMemory {
  /** Peak resident set size (`VmHWM`). */
  vmHwmBytes: number | null;
  /** Current resident set size (`VmRSS`). */
  vmRssBytes: number | null;
}

/**
 * Parses the `VmHWM` and `VmRSS` lines of a `/proc/<pid>/status` text (values are in kB).
 *
 * @param text The file's content.
 * @returns Both values in bytes, `null` where a line is missing.
 * @throws {SyntaxError} when a line is present but its value is not `<integer> kB`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcStatus } from "./rss.ts";
 * const m = parseProcStatus("VmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n");
 * assert(m.vmHwmBytes === 2048 * 1024 && m.vmRssBytes === 1024 * 1024);
 * ```
 */
export function parseProcStatus(text: string): ProcStatusMemory {
  return { vmHwmBytes: field(text, "VmHWM"), vmRssBytes: field(text, "VmRSS") };
}

function field(text: string, name: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${name}:`));
  if (line === undefined) return null;
  const match = /^\S+:\s+(\d+)\s+kB\s*$/.exec(line);
  if (!match) {
    throw new SyntaxError(`Cannot parse /proc status: '${name}' line is ${JSON.stringify(line)}`);
  }
  return Number(match[1]) * 1024;
}

function readStatus(): ProcStatusMemory | null {
  if (Deno.build.os !== "linux") return null;
  try {
    return parseProcStatus(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    return null;
  }
}

/**
 * Peak resident memory of this process since it started (`VmHWM`).
 *
 * @returns Bytes, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakRssBytes } from "./rss.ts";
 * const peak = peakRssBytes();
 * assert(peak === null || peak > 0);
 * ```
 */
export function peakRssBytes(): number | null {
  return readStatus()?.vmHwmBytes ?? null;
}

/**
 * Current resident memory of this process (`VmRSS`).
 *
 * @returns Bytes, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentRssBytes } from "./rss.ts";
 * const rss = currentRssBytes();
 * assert(rss === null || rss > 0);
 * ```
 */
export function currentRssBytes(): number | null {
  return readStatus()?.vmRssBytes ?? null;
}

/**
 * Resets this process's peak RSS (`VmHWM`) to its current RSS, so a later
 * {@linkcode peakRssBytes} covers only what ran since (Linux ≥ 4.0: `5` written to
 * `/proc/self/clear_refs`).
 *
 * @returns `true` when the kernel accepted the reset; `false` off Linux or where it is refused.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resetPeakRss } from "./rss.ts";
 * assert(typeof resetPeakRss() === "boolean");
 * ```
 */
export function resetPeakRss(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}
