/**
 * Drift signals of one repetition from Linux's scheduler counters: how long this process's
 * threads waited runnable on a run queue (`/proc/self/task/<tid>/schedstat`, second field, ns)
 * and how much time the hypervisor stole from the machine's CPUs (`/proc/stat`, the `cpu` line's
 * eighth field, USER_HZ ticks). A repetition takes a {@linkcode schedMark} before and after
 * itself; {@linkcode schedDelta} turns the two marks into milliseconds. Anything unreadable is
 * `null`, never 0.
 *
 * @module
 */
import { USER_HZ } from "./proc_stats.ts";

/** Counters read at one instant; null where unreadable. */
export interface SchedMark {
  /** Run-queue wait of every thread of this process, summed, ns (threads that exited drop out). */
  waitNsByThread: Map<string, number> | null;
  /** Steal ticks of all CPUs. */
  stealTicks: number | null;
}

/** What the scheduler did to a repetition. */
export interface SchedDelta {
  /** Run-queue delay of this process's threads over the interval, ms. */
  sched_wait_ms: number | null;
  /** Steal time of the machine over the interval, ms. */
  steal_ms: number | null;
}

/**
 * Parses `/proc/<pid>/schedstat` (`run_ns wait_ns timeslices`).
 *
 * @param text The file's content.
 * @returns The wait, ns.
 * @throws {SyntaxError} when the second field is not an integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchedstatWaitNs } from "./schedstat.ts";
 * assert.equal(parseSchedstatWaitNs("1200 3400 7\n"), 3400);
 * ```
 */
export function parseSchedstatWaitNs(text: string): number {
  const field = text.trim().split(/\s+/)[1];
  if (field === undefined || !/^\d+$/.test(field)) {
    throw new SyntaxError(`Cannot parse schedstat: ${JSON.stringify(text.trim())}`);
  }
  return Number(field);
}

/**
 * Parses the steal ticks of the all-CPU line of `/proc/stat`.
 *
 * @param text The file's content.
 * @returns Steal ticks (0 on kernels whose line has fewer than eight fields).
 * @throws {SyntaxError} when there is no `cpu` line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseStealTicks } from "./schedstat.ts";
 * assert.equal(parseStealTicks("cpu  10 0 5 80 5 0 0 3 0 0\ncpu0 1 0 0 0 0 0 0 0\n"), 3);
 * ```
 */
export function parseStealTicks(text: string): number {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new SyntaxError("Cannot parse /proc/stat: no 'cpu' line");
  return Number(line.trim().split(/\s+/)[8] ?? 0);
}

/**
 * Reads the counters now.
 *
 * @returns The mark (fields null off Linux or where a file cannot be read).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schedMark } from "./schedstat.ts";
 * const m = schedMark();
 * assert(m.stealTicks === null || m.stealTicks >= 0);
 * ```
 */
export function schedMark(): SchedMark {
  let waits: Map<string, number> | null = null;
  try {
    waits = new Map();
    for (const entry of Deno.readDirSync("/proc/self/task")) {
      try {
        const text = Deno.readTextFileSync(`/proc/self/task/${entry.name}/schedstat`);
        waits.set(entry.name, parseSchedstatWaitNs(text));
      } catch { /* the thread exited between the listing and the read */ }
    }
    if (waits.size === 0) waits = null;
  } catch {
    waits = null;
  }
  let steal: number | null = null;
  try {
    steal = parseStealTicks(Deno.readTextFileSync("/proc/stat"));
  } catch {
    steal = null;
  }
  return { waitNsByThread: waits, stealTicks: steal };
}

/**
 * The run-queue delay and steal time between two marks: waits summed over the threads present
 * in both (a thread born in between counts from 0).
 *
 * @param before The mark before the repetition.
 * @param after The mark after it.
 * @returns Milliseconds, null where either mark could not read a counter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { schedDelta } from "./schedstat.ts";
 * const d = schedDelta(
 *   { waitNsByThread: new Map([["1", 1e6]]), stealTicks: 5 },
 *   { waitNsByThread: new Map([["1", 4e6], ["2", 1e6]]), stealTicks: 7 },
 * );
 * assert.deepEqual(d, { sched_wait_ms: 4, steal_ms: 20 });
 * ```
 */
export function schedDelta(before: SchedMark, after: SchedMark): SchedDelta {
  let wait: number | null = null;
  if (before.waitNsByThread && after.waitNsByThread) {
    wait = 0;
    for (const [tid, ns] of after.waitNsByThread) {
      wait += Math.max(0, ns - (before.waitNsByThread.get(tid) ?? 0));
    }
    wait /= 1e6;
  }
  const steal = before.stealTicks === null || after.stealTicks === null
    ? null
    : Math.max(0, after.stealTicks - before.stealTicks) * 1000 / USER_HZ;
  return { sched_wait_ms: wait, steal_ms: steal };
}
