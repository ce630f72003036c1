/**
 * One benchmark job's worker process: `deno task bench` itself (`lib/cli/bench.ts`), so a job
 * measures exactly what the CLI measures and its result is byte for byte the `--output` JSON.
 * Its progress lines on stderr (`warmup i/N`, `run i/N: prefill X ms, decode Y tokens/s`,
 * `error: …`) become progress events. A crash cannot take the server down; cancelling kills it.
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../history/record.ts";
import { benchFlags, type BenchmarkRequest } from "./validate.ts";
import { readTelemetry } from "../results/telemetry_table.ts";

/**
 * The job keeps its telemetry: bench's `telemetry.csv` (in the job's temporary directory, removed
 * after the job) is read into `telemetry.series`, so the API serves it with the result.
 */
async function withTelemetrySeries(report: Record<string, unknown>) {
  const t = report.telemetry as { file?: string | null } | undefined;
  if (typeof t?.file !== "string") return report;
  const series = await readTelemetry(t.file).catch(() => null);
  return { ...report, telemetry: { ...t, file: null, series } };
}

/** The environment variable a worker carries its job id in (to find orphans after a crash). */
export const JOB_ID_ENV = "TURBO_JOB_ID";

/** One measured run as the worker reports it. */
export interface RunProgress {
  /** 1-based index of the measured run. */
  index: number;
  /** Prefill milliseconds. */
  prefill_ms: number;
  /** Decode tokens/s, or `null` with one new token. */
  decode_tokens_per_s: number | null;
}

/** A parsed progress line. */
export type WorkerLine =
  | { kind: "warmup"; done: number; total: number }
  | { kind: "run"; done: number; total: number; run: RunProgress }
  | { kind: "error"; message: string }
  | { kind: "info"; message: string };

/**
 * Parses one stderr line of `deno task bench`.
 *
 * @param line The line.
 * @returns What it says.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerLine } from "./worker.ts";
 * assert.deepEqual(parseWorkerLine("run 2/5: prefill 3.5 ms, decode 120.4 tokens/s"), {
 *   kind: "run", done: 2, total: 5,
 *   run: { index: 2, prefill_ms: 3.5, decode_tokens_per_s: 120.4 },
 * });
 * assert.equal(parseWorkerLine("error: boom").kind, "error");
 * ```
 */
export function parseWorkerLine(line: string): WorkerLine {
  const warm = /^warmup (\d+)\/(\d+)$/.exec(line);
  if (warm) return { kind: "warmup", done: Number(warm[1]), total: Number(warm[2]) };
  const run = /^run (\d+)\/(\d+): prefill ([\d.]+) ms, decode ([\d.]+|-) tokens\/s$/.exec(line);
  if (run) {
    return {
      kind: "run",
      done: Number(run[1]),
      total: Number(run[2]),
      run: {
        index: Number(run[1]),
        prefill_ms: Number(run[3]),
        decode_tokens_per_s: run[4] === "-" ? null : Number(run[4]),
      },
    };
  }
  if (line.startsWith("error: ")) return { kind: "error", message: line.slice(7) };
  return { kind: "info", message: line };
}

/** How a worker ended. */
export type WorkerOutcome =
  | { ok: true; report: unknown }
  | { ok: false; reason: string; signal: Deno.Signal | null };

/** A running worker. */
export interface BenchWorker {
  /** Process id. */
  pid: number;
  /** Kills the worker (SIGTERM, then SIGKILL after a grace period). */
  kill(): void;
  /** Resolves when it exits. */
  done: Promise<WorkerOutcome>;
}

/** Options of {@linkcode startBenchWorker}. */
export interface StartWorkerOptions {
  /** Each stderr line, parsed. */
  onLine: (line: WorkerLine, raw: string) => void;
  /** Extra environment (the history is always turned off: the server records the result). */
  env?: Record<string, string>;
}

/**
 * Starts `deno run -A lib/cli/bench.ts … --output <temp>` for a job.
 *
 * @param jobId The job id (passed in `TURBO_JOB_ID`).
 * @param request The validated request.
 * @param options Line callback and environment.
 * @returns The worker.
 * @example
 * ```ts ignore
 * import { startBenchWorker } from "./worker.ts";
 * const worker = startBenchWorker("job-1", request, { onLine: (line) => console.log(line) });
 * const outcome = await worker.done; // { ok: true, report } or { ok: false, reason }
 * ```
 */
export function startBenchWorker(
  jobId: string,
  request: BenchmarkRequest,
  options: StartWorkerOptions,
): BenchWorker {
  const outDir = Deno.makeTempDirSync({ prefix: "turbo-job-" });
  const output = join(outDir, "result.json");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(REPO_ROOT, "lib/cli/bench.ts"),
      ...benchFlags(request),
      "--output",
      output,
    ],
    cwd: REPO_ROOT,
    env: { ...options.env, TURBO_HISTORY_DB: "off", [JOB_ID_ENV]: jobId, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let lastError = "";
  let lastLine = "";
  const lines = (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    const handle = (raw: string) => {
      if (raw.trim() === "") return;
      lastLine = raw;
      const parsed = parseWorkerLine(raw);
      if (parsed.kind === "error") lastError = parsed.message;
      options.onLine(parsed, raw);
    };
    for await (const chunk of child.stderr) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const part of parts) handle(part);
    }
    handle(buffer);
  })();
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const done = (async (): Promise<WorkerOutcome> => {
    const status = await child.status;
    clearTimeout(killTimer);
    await lines.catch(() => {});
    try {
      if (status.success) {
        const report = JSON.parse(await Deno.readTextFile(output));
        return { ok: true, report: await withTelemetrySeries(report) };
      }
      const why = status.signal
        ? `worker killed by ${status.signal}`
        : `worker exited with code ${status.code}`;
      const detail = lastError || lastLine;
      return {
        ok: false,
        reason: detail ? `${why}: ${detail}` : why,
        signal: status.signal,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reason: `the worker's result is unreadable: ${message}`, signal: null };
    } finally {
      await Deno.remove(outDir, { recursive: true }).catch(() => {});
    }
  })();
  return {
    pid: child.pid,
    kill() {
      try {
        child.kill("SIGTERM");
      } catch {
        return; // already gone
      }
      killTimer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 3000);
    },
    done,
  };
}

/**
 * Kills a worker left by a server that died, if that process is still the job's worker (its
 * environment carries the job id, so a recycled pid is never killed).
 *
 * @param pid The recorded process id.
 * @param jobId The job id.
 * @returns Whether a process was killed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { killOrphanWorker } from "./worker.ts";
 * // This process is no job's worker: it is left alone.
 * assert.equal(killOrphanWorker(Deno.pid, "some-job"), false);
 * ```
 */
export function killOrphanWorker(pid: number, jobId: string): boolean {
  try {
    const environ = Deno.readTextFileSync(`/proc/${pid}/environ`);
    if (!environ.split("\0").includes(`${JOB_ID_ENV}=${jobId}`)) return false;
    Deno.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
