/**
 * Session settings for batch-1 decoding on the CPU: intra-op threads = physical cores (hardware
 * threads of one core share its vector units, so extra threads add contention, not compute),
 * spinning worker threads (a decode step is hundreds of short operators; parking and waking
 * threads between them costs more than the spin) and sequential execution (one operator at a time
 * on the intra-op pool; a parallel executor's inter-op pool only adds hand-offs for a chain of
 * dependent MatMuls). `createSession` applies them unless told `tuning: "ort-default"`, which
 * leaves every one of them to ONNX Runtime (what the project did before); `deno task speed`
 * measures the two side by side.
 *
 * @module
 */
import type * as ort from "onnxruntime-node";

/** How a session's threading is set up. */
export const SESSION_TUNINGS = ["decode", "ort-default"] as const;

/** One of {@linkcode SESSION_TUNINGS}. */
export type SessionTuning = typeof SESSION_TUNINGS[number];

/** The threading part of ORT's session options that {@linkcode tunedSessionOptions} decides. */
export type ThreadingOptions =
  & Pick<
    ort.InferenceSession.SessionOptions,
    "intraOpNumThreads" | "interOpNumThreads" | "executionMode"
  >
  & {
    /** `session.*` config entries (key without the `session.` prefix). */
    sessionConfig: Record<string, string>;
  };

/**
 * Physical cores of this machine: distinct (physical id, core id) pairs in `/proc/cpuinfo`, or
 * the logical CPU count where that file says nothing (non-Linux, some containers).
 *
 * @param cpuinfo The text of `/proc/cpuinfo` (read when omitted).
 * @returns At least 1.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { physicalCores } from "./session_options.ts";
 * const two = "physical id\t: 0\ncore id\t\t: 0\n\nphysical id\t: 0\ncore id\t\t: 0\n\n" +
 *   "physical id\t: 0\ncore id\t\t: 1\n";
 * assert(physicalCores(two) === 2);
 * assert(physicalCores() >= 1);
 * ```
 */
export function physicalCores(cpuinfo?: string): number {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = Deno.readTextFileSync("/proc/cpuinfo");
    } catch {
      text = "";
    }
  }
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (physical !== undefined && core !== undefined) cores.add(`${physical}:${core}`);
  }
  if (cores.size > 0) return cores.size;
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * The threading options a session gets. `decode` on `cpu`: `intraOpNumThreads` = `threads` or
 * {@linkcode physicalCores}, sequential execution, `intra_op.allow_spinning = 1`,
 * `inter_op.allow_spinning = 1`. `ort-default`, or any GPU device: only what the caller asked
 * for (`threads` > 0 sets `intraOpNumThreads`; `interThreads` > 0 selects the parallel executor).
 *
 * @param device The device (`cpu`, `cuda`, `webgpu`).
 * @param options `tuning` (default `decode`), `threads`, `interThreads` (0 = not set).
 * @returns Options to spread into ORT's session options.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tunedSessionOptions } from "./session_options.ts";
 * const t = tunedSessionOptions("cpu", { threads: 2 });
 * assert(t.intraOpNumThreads === 2 && t.executionMode === "sequential");
 * assert(t.sessionConfig["intra_op.allow_spinning"] === "1");
 * assert.deepEqual(tunedSessionOptions("cpu", { tuning: "ort-default" }), { sessionConfig: {} });
 * ```
 */
export function tunedSessionOptions(
  device: string,
  options: { tuning?: SessionTuning; threads?: number; interThreads?: number } = {},
): ThreadingOptions {
  const tuning = options.tuning ?? "decode";
  if (!(SESSION_TUNINGS as readonly string[]).includes(tuning)) {
    throw new RangeError(
      `Cannot create session: 'tuning' must be one of ${
        SESSION_TUNINGS.join(", ")
      }, got '${tuning}'`,
    );
  }
  const threads = options.threads ?? 0;
  const inter = options.interThreads ?? 0;
  const asked: ThreadingOptions = {
    sessionConfig: {},
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    ...(inter > 0 ? { interOpNumThreads: inter, executionMode: "parallel" as const } : {}),
  };
  if (tuning === "ort-default" || device !== "cpu" || inter > 0) return asked;
  return {
    intraOpNumThreads: threads > 0 ? threads : physicalCores(),
    executionMode: "sequential",
    sessionConfig: { "intra_op.allow_spinning": "1", "inter_op.allow_spinning": "1" },
  };
}
