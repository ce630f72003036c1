/**
 * `make jupyter` / `make stop`: a local Jupyter server on the notebooks folder with the Deno kernel
 * registered, started in the background (its pid and log under `.cache/`).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installKernel } from "./kernel.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PID_FILE = join(ROOT, ".cache", "jupyter.pid");
const LOG_FILE = join(ROOT, ".cache", "jupyter.log");

/** Options of {@linkcode startJupyter}. */
export interface JupyterOptions {
  /** Port on localhost. @default 8888 */
  port?: number;
  /** Install Jupyter with apt when it is missing (needs root). @default true */
  install?: boolean;
}

async function which(cmd: string): Promise<string | null> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `command -v ${cmd}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
}

/**
 * Registers the Deno kernel, installs Jupyter if missing (Debian's `jupyter-notebook`), starts it
 * on `127.0.0.1:port` in the notebooks folder and returns the URL (with its token).
 *
 * @param options Port and install behaviour.
 * @returns The URL to open.
 * @throws {Error} when Jupyter is missing and cannot be installed, or does not start in 60 s.
 */
export async function startJupyter(options: JupyterOptions = {}): Promise<string> {
  const port = options.port ?? 8888;
  await installKernel();
  let jupyter = await which("jupyter-notebook") ?? await which("jupyter-lab");
  if (!jupyter && (options.install ?? true)) {
    console.error("installing Jupyter: apt-get install jupyter-notebook");
    const out = await new Deno.Command("sh", {
      args: ["-c", "apt-get update -qq && apt-get install -y -qq jupyter-notebook"],
      stdout: "null",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    if (!out.success) {
      throw new Error(
        "Cannot start Jupyter: it is not installed and 'apt-get install jupyter-notebook' failed " +
          "(install it, or 'pip install jupyterlab', then rerun)",
      );
    }
    jupyter = await which("jupyter-notebook");
  }
  if (!jupyter) throw new Error("Cannot start Jupyter: jupyter-notebook is not on PATH");
  await stopJupyter();
  await Deno.mkdir(join(ROOT, ".cache"), { recursive: true });
  const cmd = `nohup setsid ${jupyter} --no-browser --ip=127.0.0.1 --port=${port} ` +
    `--notebook-dir='${join(ROOT, "notebooks")}' ${Deno.uid() === 0 ? "--allow-root" : ""} ` +
    `> '${LOG_FILE}' 2>&1 & echo $!`;
  const out = await new Deno.Command("sh", { args: ["-c", cmd], stdout: "piped" }).output();
  const pid = new TextDecoder().decode(out.stdout).trim();
  await Deno.writeTextFile(PID_FILE, pid);
  for (let i = 0; i < 120; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const log = await Deno.readTextFile(LOG_FILE).catch(() => "");
    const url = log.match(/https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/\S*/)?.[0];
    if (url) return url;
  }
  throw new Error(`Cannot start Jupyter: no URL in ${LOG_FILE} after 60 s`);
}

/**
 * Stops the server started by {@linkcode startJupyter}, if any.
 *
 * @returns `true` when a server was stopped.
 */
export async function stopJupyter(): Promise<boolean> {
  const pid = Number((await Deno.readTextFile(PID_FILE).catch(() => "")).trim());
  await Deno.remove(PID_FILE).catch(() => {});
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.kill(-pid, "SIGTERM");
    return true;
  } catch {
    try {
      Deno.kill(pid, "SIGTERM");
      return true;
    } catch {
      return false;
    }
  }
}
