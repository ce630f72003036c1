/**
 * One step of the GPU check: a command in its own process group (via `setsid`) with a time
 * limit; on timeout the whole group is killed, so a hung sweep worker cannot outlive its step.
 * Stderr passes through (check.sh logs it); stdout is kept, and written to a file when asked.
 *
 * @module
 */
import type { StepResult } from "./report.ts";

/** A finished step and its stdout. */
export interface StepRun {
  /** How it went. */
  step: StepResult;
  /** Its stdout. */
  stdout: string;
}

/**
 * Runs one command with a time limit.
 *
 * @param name Step name.
 * @param cmd The program.
 * @param args Its arguments.
 * @param options Time limit; where to write stdout.
 * @returns The step's result and stdout (a missing program is a failed step, not a throw).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runStep } from "./step.ts";
 * assert.equal((await runStep("t", "true", [], { timeoutS: 10 })).step.status, "ok");
 * assert.equal((await runStep("t", "sleep", ["5"], { timeoutS: 0.2 })).step.status, "timeout");
 * ```
 */
export async function runStep(
  name: string,
  cmd: string,
  args: readonly string[],
  options: { timeoutS: number; stdoutPath?: string },
): Promise<StepRun> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  if (!(options.timeoutS > 0)) {
    return {
      step: { name, status: "skipped", seconds: 0, exit_code: null, error: "no time left" },
      stdout: "",
    };
  }
  let child: Deno.ChildProcess;
  const spawn = (program: string, argv: string[]) =>
    new Deno.Command(program, { args: argv, stdin: "null", stdout: "piped", stderr: "inherit" })
      .spawn();
  try {
    try {
      child = spawn("setsid", [cmd, ...args]);
    } catch (error) {
      // No setsid (util-linux) here: run it directly; a timeout then kills only the command.
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      child = spawn(cmd, [...args]);
    }
  } catch (error) {
    return {
      step: {
        name,
        status: "failed",
        seconds: seconds(),
        exit_code: null,
        error: `cannot start ${cmd}: ${(error as Error).message}`,
      },
      stdout: "",
    };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL"); // the group setsid made
    } catch {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }, options.timeoutS * 1000);
  const [status, stdoutBytes] = await Promise.all([
    child.status,
    new Response(child.stdout).arrayBuffer(),
  ]);
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(stdoutBytes);
  if (options.stdoutPath) await Deno.writeTextFile(options.stdoutPath, stdout);
  const step: StepResult = timedOut
    ? {
      name,
      status: "timeout",
      seconds: seconds(),
      exit_code: status.code,
      error: `killed after ${options.timeoutS.toFixed(0)} s`,
    }
    : {
      name,
      status: status.success ? "ok" : "failed",
      seconds: seconds(),
      exit_code: status.code,
      error: status.success
        ? ""
        : status.code === 127 && cmd !== "setsid"
        ? `${cmd} not found`
        : `exit ${status.code}`,
    };
  return { step, stdout };
}
