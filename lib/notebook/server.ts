/**
 * The project's Jupyter server: JupyterLab from `.venv/` (built on first use), else Debian's
 * classic Notebook, on 127.0.0.1 with a generated token, serving the project root, the Deno kernel
 * found through the project's `JUPYTER_PATH`. {@linkcode launchJupyter} runs it as a child (tests);
 * {@linkcode startJupyter} / {@linkcode stopJupyter} run it in the background for `make jupyter` /
 * `make stop` (pid and log under `.cache/`).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureJupyterLab, installProjectKernel, jupyterEnv } from "./jupyter_env.ts";
import { killGroup, pidsMentioning } from "./_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PID_FILE = join(ROOT, ".cache", "jupyter.pid");
const LOG_FILE = join(ROOT, ".cache", "jupyter.log");

/** Which Jupyter runs. */
export type JupyterKind = "lab" | "classic";

/** A Jupyter command: what to run and with which arguments. */
export interface JupyterCommand {
  /** `lab` (JupyterLab from the venv) or `classic` (Debian's Notebook 6). */
  kind: JupyterKind;
  /** Executable. */
  cmd: string;
  /** Arguments. */
  args: string[];
}

/** Options of {@linkcode jupyterCommand}. */
export interface ServerOptions {
  /** Port on 127.0.0.1. @default 8888 */
  port?: number;
  /** Access token. @default a random one */
  token?: string;
  /** Folder served. @default the project root */
  rootDir?: string;
  /** Build the venv / apt-install the classic Notebook when missing. @default true */
  install?: boolean;
  /** Progress lines and notes. @default stderr */
  log?: (line: string) => void;
}

/**
 * The server arguments for a kind: 127.0.0.1 only, no browser, no port retries (a busy port is
 * an error, not a surprise port), token auth, `rootDir` served.
 *
 * @param kind `lab` or `classic`.
 * @param options Port, token and folder (all required here).
 * @returns Arguments after the executable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverArgs } from "./server.ts";
 * const args = serverArgs("lab", { port: 9000, token: "t", rootDir: "/p" });
 * assert(args.includes("--ServerApp.ip=127.0.0.1") && args.includes("--IdentityProvider.token=t"));
 * ```
 */
export function serverArgs(
  kind: JupyterKind,
  options: { port: number; token: string; rootDir: string },
): string[] {
  const root = Deno.uid() === 0 ? ["--allow-root"] : [];
  if (kind === "lab") {
    return [
      "lab",
      "--no-browser",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${options.port}`,
      "--ServerApp.port_retries=0",
      `--ServerApp.root_dir=${options.rootDir}`,
      `--IdentityProvider.token=${options.token}`,
      "--LabApp.news_url=",
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
      ...root,
    ];
  }
  return [
    "--no-browser",
    "--ip=127.0.0.1",
    `--port=${options.port}`,
    "--NotebookApp.port_retries=0",
    `--notebook-dir=${options.rootDir}`,
    `--NotebookApp.token=${options.token}`,
    ...root,
  ];
}

/**
 * Finds (or installs) the Jupyter to run: JupyterLab from the project venv, else Debian's classic
 * `jupyter-notebook` with a one-line note saying why.
 *
 * @param options Install behaviour and log.
 * @returns The kind and executable (arguments empty: see {@linkcode serverArgs}).
 * @throws {Error} when neither can be had.
 */
export async function jupyterCommand(options: ServerOptions = {}): Promise<JupyterCommand> {
  const log = options.log ?? ((line: string) => console.error(line));
  const lab = await ensureJupyterLab({ install: options.install ?? true, log });
  if (lab.ok) return { kind: "lab", cmd: lab.jupyter, args: [] };
  await installProjectKernel();
  let classic = await which("jupyter-notebook");
  if (!classic && (options.install ?? true) && Deno.uid() === 0) {
    log("installing Debian's classic Notebook: apt-get install jupyter-notebook");
    await new Deno.Command("sh", {
      args: ["-c", "apt-get update -qq && apt-get install -y -qq jupyter-notebook"],
      stdout: "null",
      stderr: "null",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output().catch(() => null);
    classic = await which("jupyter-notebook");
  }
  if (!classic) {
    throw new Error(
      `Cannot start Jupyter: no JupyterLab (${lab.reason}) and no classic jupyter-notebook ` +
        "(apt-get install jupyter-notebook)",
    );
  }
  log(`note: JupyterLab unavailable (${lab.reason}); using the classic Notebook (static charts)`);
  return { kind: "classic", cmd: classic, args: [] };
}

/** A running Jupyter server started by {@linkcode launchJupyter}. */
export interface JupyterServer {
  /** `lab` or `classic`. */
  kind: JupyterKind;
  /** Base URL, `http://127.0.0.1:PORT`. */
  baseUrl: string;
  /** The access token. */
  token: string;
  /** URL of a path in the served folder with the token, e.g. `notebooks/x.ipynb`. */
  urlOf(path: string): string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts Jupyter as a child process in its own process group, its output appended to a log file
 * (no pipe a kernel could hold open), and waits until its API answers. `stop()` never hangs: it
 * asks the server to shut down (kernels included), waits a few seconds, then kills the server's
 * process group and any kernel left (found by the server's own runtime folder), by process id.
 *
 * @param options Port, token, served folder, install behaviour, log; `env` for the kernels
 * (notebook parameters) and `logFile` for the server's output.
 * @returns The running server; call `stop()` in a `finally`.
 * @throws {Error} when no Jupyter can be had or it does not answer within 60 s (with the log's
 * last line).
 */
export async function launchJupyter(
  options: ServerOptions & { env?: Record<string, string>; logFile?: string } = {},
): Promise<JupyterServer> {
  const command = await jupyterCommand(options);
  const port = options.port ?? 8888;
  const token = options.token ?? randomToken();
  const rootDir = options.rootDir ?? ROOT;
  const logFile = options.logFile ?? await Deno.makeTempFile({ suffix: ".log" });
  await Deno.writeTextFile(logFile, "");
  // Kernels' connection files go here: any process still naming it after stop() is ours.
  const runtimeDir = await Deno.makeTempDir({ prefix: "turbo-jupyter-runtime-" });
  const child = new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      WATCHDOG,
      "sh",
      command.cmd,
      ...serverArgs(
        command.kind,
        { port, token, rootDir },
      ),
    ],
    env: {
      ...jupyterEnv(),
      ...options.env,
      JUPYTER_RUNTIME_DIR: runtimeDir,
      TURBO_JUPYTER_LOG: logFile,
      TURBO_PARENT_PID: String(Deno.pid),
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const baseUrl = `http://127.0.0.1:${port}`;
  let exitCode: number | null = null;
  const exited = child.status.then((st) => (exitCode = st.code));
  let stopped: Promise<void> | null = null;
  const stop = () =>
    stopped ??= stopServer({ baseUrl, token, pid: child.pid, exited, runtimeDir, command });
  try {
    await waitForApi(baseUrl, token, () => exitCode);
  } catch (error) {
    await stop();
    const last = (await Deno.readTextFile(logFile).catch(() => "")).trim().split("\n").pop();
    throw new Error(`${error instanceof Error ? error.message : error} (log: ${last ?? "empty"})`);
  }
  return {
    kind: command.kind,
    baseUrl,
    token,
    urlOf: (path) =>
      command.kind === "lab"
        ? `${baseUrl}/lab/tree/${path}?token=${token}`
        : `${baseUrl}/notebooks/${path}?token=${token}`,
    stop,
  };
}

/**
 * The shell that leads the server's process group: runs Jupyter with its output appended to the
 * log, and takes it down when the process that started it is gone (a test killed by a timeout
 * runs no `finally`): SIGTERM, then SIGKILL to the whole group 8 s later.
 */
const WATCHDOG = `"$@" >>"$TURBO_JUPYTER_LOG" 2>&1 &
j=$!
while kill -0 "$TURBO_PARENT_PID" 2>/dev/null && kill -0 "$j" 2>/dev/null; do sleep 1; done
if kill -0 "$j" 2>/dev/null; then kill -TERM "$j"; sleep 8; kill -KILL -- -$$; fi
wait "$j"`;

/** Seconds `stop()` waits for a clean shutdown before it kills. */
const STOP_GRACE_MS = 8_000;

async function stopServer(server: {
  baseUrl: string;
  token: string;
  pid: number;
  exited: Promise<unknown>;
  runtimeDir: string;
  command: JupyterCommand;
}): Promise<void> {
  const settled = (ms: number) =>
    Promise.race([
      server.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
    ]);
  // The server's own shutdown stops its kernels; SIGTERM to the group if the API is gone.
  const asked = await fetch(`${server.baseUrl}/api/shutdown`, {
    method: "POST",
    headers: { Authorization: `token ${server.token}` },
    signal: AbortSignal.timeout(3_000),
  }).then(async (res) => (await res.body?.cancel(), res.ok), () => false);
  if (!asked) killGroup(server.pid, "SIGTERM");
  if (!(await settled(STOP_GRACE_MS))) {
    killGroup(server.pid, "SIGKILL");
    await settled(STOP_GRACE_MS);
  }
  // Kernels run in their own sessions: kill any still holding a connection file of this server.
  for (const pid of await pidsMentioning(server.runtimeDir)) killGroup(pid, "SIGKILL");
  await Deno.remove(server.runtimeDir, { recursive: true }).catch(() => {});
}

/**
 * `make jupyter`: starts Jupyter in the background (it outlives this process), serving the
 * project root, and returns the URL of the notebook with its token.
 *
 * @param options Port and install behaviour.
 * @returns The URL to open and the kind started.
 * @throws {Error} when no Jupyter can be had, or it does not answer within 60 s.
 */
export async function startJupyter(
  options: ServerOptions = {},
): Promise<{ url: string; kind: JupyterKind }> {
  const command = await jupyterCommand(options);
  const port = options.port ?? 8888;
  const token = options.token ?? randomToken();
  await stopJupyter();
  await Deno.mkdir(join(ROOT, ".cache"), { recursive: true });
  const quoted = [command.cmd, ...serverArgs(command.kind, { port, token, rootDir: ROOT })]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const out = await new Deno.Command("sh", {
    args: ["-c", `nohup setsid ${quoted} > '${LOG_FILE}' 2>&1 < /dev/null & echo $!`],
    env: jupyterEnv(),
    stdout: "piped",
  }).output();
  const pid = Number(new TextDecoder().decode(out.stdout).trim());
  await Deno.writeTextFile(PID_FILE, String(pid));
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = () => {
    try {
      Deno.kill(pid, "SIGCONT"); // signal 0 is not offered: SIGCONT is a no-op for a running one
      return null;
    } catch {
      return 1;
    }
  };
  try {
    await waitForApi(baseUrl, token, exited);
  } catch (error) {
    await stopJupyter();
    const last = (await Deno.readTextFile(LOG_FILE).catch(() => "")).trim().split("\n").pop();
    throw new Error(`${error instanceof Error ? error.message : error} (see ${LOG_FILE}: ${last})`);
  }
  const path = "notebooks/turbo_inference.ipynb";
  const url = command.kind === "lab"
    ? `${baseUrl}/lab/tree/${path}?token=${token}`
    : `${baseUrl}/notebooks/${path}?token=${token}`;
  return { url, kind: command.kind };
}

/**
 * Stops the server started by {@linkcode startJupyter}, if any: SIGTERM to its process group,
 * then SIGKILL when it is still there after 8 s (a Jupyter busy shutting kernels down can ignore
 * SIGTERM for minutes).
 *
 * @returns `true` when a server was stopped.
 */
export async function stopJupyter(): Promise<boolean> {
  const pid = Number((await Deno.readTextFile(PID_FILE).catch(() => "")).trim());
  await Deno.remove(PID_FILE).catch(() => {});
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  killGroup(pid, "SIGTERM");
  for (let waited = 0; waited < 8_000 && alive(pid); waited += 200) {
    await new Promise((r) => setTimeout(r, 200));
  }
  if (alive(pid)) killGroup(pid, "SIGKILL");
  return true;
}

/** Whether a process exists (SIGCONT is a no-op for a running one; signal 0 is not offered). */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** A random token (128 bits, hex). */
function randomToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function waitForApi(
  baseUrl: string,
  token: string,
  exitCode: () => number | null,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const code = exitCode();
    if (code !== null) throw new Error(`Cannot start Jupyter: it exited with code ${code}`);
    try {
      const res = await fetch(`${baseUrl}/api/status`, {
        headers: { Authorization: `token ${token}` },
      });
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Cannot start Jupyter: ${baseUrl} did not answer within 60 s`);
}

async function which(cmd: string): Promise<string | null> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `command -v ${cmd}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
}
