/**
 * Linux `/proc` readers for telemetry: per-core CPU time (`/proc/stat`), this process's CPU time
 * (`/proc/self/stat`), available memory (`/proc/meminfo`) and the load average (`/proc/loadavg`).
 * Parsers are pure functions of the file's text; readers return `null` off Linux or when a file
 * cannot be read, so a missing source is recorded as missing, never as 0.
 *
 * @module
 */

/** Linux reports `/proc` CPU times in USER_HZ ticks, 100 per second on every mainstream arch. */
export const USER_HZ = 100;

/** Busy and total ticks of one CPU line of `/proc/stat`. */
export interface CpuTicks {
  /** Ticks not idle (user, nice, system, irq, softirq, steal). */
  busy: number;
  /** All ticks, idle and iowait included (guest time is already inside user/nice). */
  total: number;
}

/** `/proc/stat` CPU lines: the all-CPU line and one per core, in core order. */
export interface ProcStatCpu {
  /** The `cpu` line. */
  all: CpuTicks;
  /** The `cpuN` lines. */
  cores: CpuTicks[];
}

/**
 * Parses the CPU lines of `/proc/stat`.
 *
 * @param text The file's content.
 * @returns Ticks of all CPUs and of each core.
 * @throws {SyntaxError} when there is no `cpu` line or a value is not an integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcStat } from "./proc_stats.ts";
 * const s = parseProcStat("cpu  10 0 5 80 5 0 0 0 0 0\ncpu0 10 0 5 80 5 0 0 0 0 0\n");
 * assert(s.all.busy === 15 && s.all.total === 100 && s.cores.length === 1);
 * ```
 */
export function parseProcStat(text: string): ProcStatCpu {
  let all: CpuTicks | null = null;
  const cores: CpuTicks[] = [];
  for (const line of text.split("\n")) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map((x) => {
      if (!/^\d+$/.test(x)) {
        throw new SyntaxError(`Cannot parse /proc/stat: ${JSON.stringify(line)}`);
      }
      return Number(x);
    });
    // user nice system idle iowait irq softirq steal [guest guest_nice] — guest is inside user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      v;
    const busy = user + nice + system + irq + softirq + steal;
    const ticks = { busy, total: busy + idle + iowait };
    if (m[1] === "") all = ticks;
    else cores[Number(m[1])] = ticks;
  }
  if (all === null) throw new SyntaxError("Cannot parse /proc/stat: no 'cpu' line");
  return { all, cores: cores.filter((c) => c !== undefined) };
}

/**
 * Percent busy between two readings of one CPU (0–100), `null` when no tick passed.
 *
 * @param before Earlier reading.
 * @param after Later reading.
 * @returns Busy share of the elapsed ticks, in percent.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cpuBusyPercent } from "./proc_stats.ts";
 * assert(cpuBusyPercent({ busy: 10, total: 100 }, { busy: 60, total: 200 }) === 50);
 * ```
 */
export function cpuBusyPercent(before: CpuTicks, after: CpuTicks): number | null {
  const total = after.total - before.total;
  if (total <= 0) return null;
  return Math.min(100, Math.max(0, ((after.busy - before.busy) / total) * 100));
}

/**
 * User + system CPU ticks of a process from its `/proc/<pid>/stat` line (fields 14 and 15; the
 * command name in parentheses may itself hold spaces and parentheses).
 *
 * @param text The file's content.
 * @returns utime + stime in USER_HZ ticks.
 * @throws {SyntaxError} for a line that is not a stat line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcSelfStat } from "./proc_stats.ts";
 * const line = "42 (a b) R 1 1 1 0 -1 0 0 0 0 0 120 30 0 0 20 0 1 0 100 0 0";
 * assert(parseProcSelfStat(line) === 150);
 * ```
 */
export function parseProcSelfStat(text: string): number {
  const close = text.lastIndexOf(")");
  const rest = close < 0 ? [] : text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new SyntaxError(`Cannot parse /proc/<pid>/stat: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return utime + stime;
}

/** Memory totals of `/proc/meminfo`, bytes. */
export interface MemInfo {
  /** `MemTotal`. */
  totalBytes: number;
  /** `MemAvailable`: what can be allocated without swapping. */
  availableBytes: number;
}

/**
 * Parses `MemTotal` and `MemAvailable` of `/proc/meminfo` (kB).
 *
 * @param text The file's content.
 * @returns Both in bytes.
 * @throws {SyntaxError} when either line is missing.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMeminfo } from "./proc_stats.ts";
 * const m = parseMeminfo("MemTotal: 2048 kB\nMemFree: 10 kB\nMemAvailable: 1024 kB\n");
 * assert(m.totalBytes === 2048 * 1024 && m.availableBytes === 1024 * 1024);
 * ```
 */
export function parseMeminfo(text: string): MemInfo {
  const get = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    if (!m) throw new SyntaxError(`Cannot parse /proc/meminfo: no '${name}' line`);
    return Number(m[1]) * 1024;
  };
  return { totalBytes: get("MemTotal"), availableBytes: get("MemAvailable") };
}

/**
 * The 1-minute load average of `/proc/loadavg`.
 *
 * @param text The file's content.
 * @returns The load.
 * @throws {SyntaxError} when the first field is not a number.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLoadavg } from "./proc_stats.ts";
 * assert(parseLoadavg("0.52 0.40 0.30 1/96 123\n") === 0.52);
 * ```
 */
export function parseLoadavg(text: string): number {
  const v = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isFinite(v)) {
    throw new SyntaxError(`Cannot parse /proc/loadavg: ${JSON.stringify(text)}`);
  }
  return v;
}

function read<T>(path: string, parse: (text: string) => T): T | null {
  if (Deno.build.os !== "linux") return null;
  try {
    return parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

/**
 * Reads `/proc/stat`.
 *
 * @returns CPU ticks, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProcStat } from "./proc_stats.ts";
 * const s = readProcStat();
 * assert(s === null || s.all.total > 0);
 * ```
 */
export function readProcStat(): ProcStatCpu | null {
  return read("/proc/stat", parseProcStat);
}

/**
 * Reads this process's CPU ticks (all threads: ORT's pool included).
 *
 * @returns utime + stime ticks, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readProcessCpuTicks } from "./proc_stats.ts";
 * const t = readProcessCpuTicks();
 * assert(t === null || t >= 0);
 * ```
 */
export function readProcessCpuTicks(): number | null {
  return read("/proc/self/stat", parseProcSelfStat);
}

/**
 * Reads `/proc/meminfo`.
 *
 * @returns Total and available memory, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMeminfo } from "./proc_stats.ts";
 * const m = readMeminfo();
 * assert(m === null || m.availableBytes <= m.totalBytes);
 * ```
 */
export function readMeminfo(): MemInfo | null {
  return read("/proc/meminfo", parseMeminfo);
}

/**
 * Reads the 1-minute load average.
 *
 * @returns The load, or `null` off Linux.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLoad1 } from "./proc_stats.ts";
 * const l = readLoad1();
 * assert(l === null || l >= 0);
 * ```
 */
export function readLoad1(): number | null {
  return read("/proc/loadavg", parseLoadavg);
}
