/**
 * Worker-process plumbing: spawn `worker.ts` on a job file, read its protocol messages from
 * stdout, forward its stderr, kill it on a timeout.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type ArmCommand, decodeMessage, type WorkerJob, type WorkerMessage } from "./protocol.ts";

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** How workers are started: extra environment and where their stderr goes. */
export interface WorkerOptions {
  /** Extra environment (tests inject faults with it). @default {} */
  workerEnv?: Record<string, string>;
  /** Where the worker's stderr goes (notebooks show it in place). @default this process's stderr */
  workerStderr?: (chunk: Uint8Array) => void;
}

/** A running worker. */
export interface WorkerRun {
  /** Its protocol messages, in order, until it exits. */
  messages: AsyncGenerator<WorkerMessage>;
  /** The last non-empty line it wrote to stderr (the reason when it dies). */
  lastStderr: () => string;
  /** Whether the spawn-time timeout killed it. */
  timedOut: () => boolean;
  /** Kills it (SIGKILL); a no-op once it exited. */
  kill: () => void;
  /** Its exit status (after stderr is drained and the job file removed). */
  status: Promise<Deno.CommandStatus>;
  /**
   * Sends a command to a live arm (an `arm` job's stdin); rejects once the worker is gone.
   *
   * @param command The command.
   */
  command: (command: ArmCommand) => Promise<void>;
}

/**
 * Starts a worker process on a job.
 *
 * @param job The job (written to a temporary file the worker reads).
 * @param options Extra environment, stderr sink, and `timeoutMs` (kill it after this long;
 * default no limit).
 * @returns The running worker.
 * @example
 * ```ts ignore
 * const worker = await spawnWorker(job);
 * for await (const message of worker.messages) console.log(message.type);
 * ```
 */
export async function spawnWorker(
  job: WorkerJob,
  options: WorkerOptions & { timeoutMs?: number } = {},
): Promise<WorkerRun> {
  const env = options.workerEnv ?? {};
  const timeoutMs = options.timeoutMs;
  const stderr = options.workerStderr;
  const jobPath = await Deno.makeTempFile({ prefix: "turbo-job-", suffix: ".json" });
  await Deno.writeTextFile(jobPath, JSON.stringify(job));
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", WORKER, jobPath],
    stdout: "piped",
    stderr: "piped",
    // An arm takes its commands on stdin; other jobs read nothing.
    stdin: job.mode === "arm" ? "piped" : "null",
    env,
  }).spawn();
  const writer = job.mode === "arm" ? child.stdin.getWriter() : null;
  const encoder = new TextEncoder();
  const command = async (c: ArmCommand) => {
    if (!writer) throw new TypeError(`a ${job.mode} worker takes no commands`);
    await writer.write(encoder.encode(JSON.stringify(c) + "\n"));
  };
  let last = "";
  const stderrDone = (async () => {
    // Forward the worker's stderr as it comes (progress bars use \r), keep its last line.
    for await (const chunk of child.stderr) {
      if (stderr) stderr(chunk);
      else await Deno.stderr.write(chunk);
      const text = new TextDecoder().decode(chunk);
      const line = text.split(/[\r\n]/).map((l) => l.trim()).filter(Boolean).pop();
      if (line) last = line;
    }
  })();
  async function* messages(): AsyncGenerator<WorkerMessage> {
    for await (const line of lines(child.stdout)) {
      const message = decodeMessage(line);
      if (message) yield message;
    }
  }
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const status = child.status.then(async (s) => {
    clearTimeout(timer);
    await writer?.close().catch(() => {});
    await stderrDone.catch(() => {});
    await Deno.remove(jobPath).catch(() => {});
    return s;
  });
  return {
    messages: messages(),
    lastStderr: () => last,
    timedOut: () => timedOut,
    kill,
    status,
    command,
  };
}

/**
 * Why a worker ended without its result, in one line.
 *
 * @param status Its exit status.
 * @param lastStderr Its last stderr line.
 * @returns For example `worker died (signal SIGKILL): …`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitReason } from "./worker_process.ts";
 * assert.equal(exitReason({ success: false, code: 1, signal: null }, "boom"), "worker died (exit code 1): boom");
 * ```
 */
export function exitReason(status: Deno.CommandStatus, lastStderr: string): string {
  return `worker died (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`})` +
    (lastStderr ? `: ${lastStderr}` : "");
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}
