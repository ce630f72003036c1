/**
 * Test helper, private to lib/serve: starts the real service (`deno run -A lib/cli/serve.ts`) in
 * a child process on a free loopback port, as a user would, and waits until it listens.
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../history/record.ts";

/** A service started for a test. */
export interface TestServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The server process id. */
  pid: number;
  /** Everything the server wrote to stderr so far. */
  log(): string;
  /** SIGTERM and wait (graceful stop). */
  stop(): Promise<Deno.CommandStatus>;
  /** SIGKILL and wait (a crash). */
  kill9(): Promise<Deno.CommandStatus>;
}

/**
 * Starts the service.
 *
 * @param db History database path.
 * @param options Extra flags and environment.
 * @returns The running server.
 */
export async function startTestServer(
  db: string,
  options: { args?: string[]; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(REPO_ROOT, "lib/cli/serve.ts"),
      "--port",
      "0",
      "--db",
      db,
      "--log-level",
      "info",
      ...(options.args ?? []),
    ],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = /serving on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]!);
    }
    reject(new Error(`the server exited before listening:\n${text}`));
  })();
  const timer = setTimeout(() => reject(new Error(`the server did not start:\n${text}`)), 60_000);
  let url: string;
  try {
    url = await listening;
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const end = async (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    const status = await child.status;
    await drained.catch(() => {});
    return status;
  };
  return {
    url,
    pid: child.pid,
    log: () => text,
    stop: () => end("SIGTERM"),
    kill9: () => end("SIGKILL"),
  };
}

/**
 * Polls `GET /benchmarks/{id}` until `done(job)` holds.
 *
 * @param url Server URL.
 * @param id Job id.
 * @param done Predicate on the job JSON.
 * @param timeoutMs Give up after this long.
 * @returns The job JSON.
 */
export async function waitForJob(
  url: string,
  id: string,
  done: (job: Record<string, unknown>) => boolean,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const job = await (await fetch(`${url}/benchmarks/${id}`)).json();
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} timed out: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
