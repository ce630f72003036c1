/**
 * The project's own Jupyter: a Python virtual environment in `.venv/` with a pinned JupyterLab
 * (built on first use with pip), and the Deno kernel registered inside it. Nothing is written to
 * the user's own Jupyter folders: every Jupyter the project starts gets `JUPYTER_PATH` pointing
 * at the project's kernelspec.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installKernel } from "./kernel.ts";

/** The JupyterLab version `.venv/` gets (`pip install jupyterlab==…`). */
export const JUPYTERLAB_VERSION = "4.6.4";

/** The project root. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Paths of the project's Jupyter environment. */
export interface JupyterPaths {
  /** The virtual environment, `.venv/`. */
  venv: string;
  /** Marker written once the pinned JupyterLab is installed (a half-built venv has none). */
  marker: string;
  /** Data folder holding `kernels/deno` (on `JUPYTER_PATH`). */
  data: string;
}

/**
 * Where the project's Jupyter environment lives under `root`.
 *
 * @param root The project root. @default this checkout
 * @returns The paths.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jupyterPaths } from "./jupyter_env.ts";
 * const p = jupyterPaths("/p");
 * assert.equal(p.venv, "/p/.venv");
 * assert.equal(p.data, "/p/.venv/share/jupyter");
 * ```
 */
export function jupyterPaths(root: string = ROOT): JupyterPaths {
  const venv = join(root, ".venv");
  return {
    venv,
    marker: join(venv, `.turbo-jupyterlab-${JUPYTERLAB_VERSION}`),
    data: join(venv, "share", "jupyter"),
  };
}

/** What {@linkcode ensureJupyterLab} found or built. */
export type JupyterLabSetup =
  | { ok: true; venv: string; jupyter: string; python: string; built: boolean }
  | { ok: false; reason: string };

/** Options of {@linkcode ensureJupyterLab}. */
export interface EnsureOptions {
  /** Build the venv when it is missing. @default true */
  install?: boolean;
  /** Project root. @default this checkout */
  root?: string;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/**
 * A Python that can create virtual environments: Debian's `/usr/bin/python3` first (stable across
 * pyenv shims), then `python3` on PATH.
 *
 * @returns The interpreter, or null.
 */
export async function venvPython(): Promise<string | null> {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const ok = await run(candidate, ["-c", "import venv, ensurepip"]).then((r) => r.ok);
    if (ok) return candidate;
  }
  return null;
}

/**
 * The project's JupyterLab, building `.venv/` (`python3 -m venv`, then `pip install
 * jupyterlab==JUPYTERLAB_VERSION`) when it is missing, and registering the Deno kernel inside it.
 * Idempotent: a ready venv is only checked.
 *
 * @param options Whether to install, the root, a log.
 * @returns The venv and its `jupyter` and `python`, or why there is none (no Python with venv,
 * pip could not install).
 * @example
 * ```ts ignore
 * import { ensureJupyterLab } from "./jupyter_env.ts";
 * const lab = await ensureJupyterLab();
 * console.log(lab.ok ? lab.jupyter : lab.reason);
 * ```
 */
export async function ensureJupyterLab(options: EnsureOptions = {}): Promise<JupyterLabSetup> {
  const paths = jupyterPaths(options.root);
  const log = options.log ?? (() => {});
  const python = join(paths.venv, "bin", "python");
  const jupyter = join(paths.venv, "bin", "jupyter");
  let built = false;
  if (!(await exists(paths.marker))) {
    if (options.install === false) {
      return { ok: false, reason: `no JupyterLab venv in ${paths.venv} (run 'make venv')` };
    }
    const base = await venvPython();
    if (base === null) {
      return {
        ok: false,
        reason: "no Python 3 with the venv module (apt-get install python3-venv)",
      };
    }
    log(`building ${paths.venv} with ${base}: pip install jupyterlab==${JUPYTERLAB_VERSION}`);
    const venv = await run(base, ["-m", "venv", "--clear", paths.venv]);
    if (!venv.ok) return { ok: false, reason: `python3 -m venv failed: ${venv.last}` };
    const pip = await run(python, [
      "-m",
      "pip",
      "--retries",
      "0",
      "--timeout",
      "5",
      "install",
      "--quiet",
      `jupyterlab==${JUPYTERLAB_VERSION}`,
    ]);
    if (!pip.ok) {
      return {
        ok: false,
        reason: `pip install jupyterlab==${JUPYTERLAB_VERSION} failed: ${pip.last}`,
      };
    }
    built = true;
  }
  await installKernel(paths.data);
  if (built) await Deno.writeTextFile(paths.marker, `jupyterlab==${JUPYTERLAB_VERSION}\n`);
  return { ok: true, venv: paths.venv, jupyter, python, built };
}

/**
 * The environment every Jupyter process the project starts gets: `JUPYTER_PATH` led by the
 * project's kernelspec folder, so the Deno kernel is found without touching the user's own.
 *
 * @param root Project root. @default this checkout
 * @param env The environment to extend. @default the process environment
 * @returns Variables to pass to the child.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jupyterEnv } from "./jupyter_env.ts";
 * assert.equal(jupyterEnv("/p", { JUPYTER_PATH: "/x" }).JUPYTER_PATH, "/p/.venv/share/jupyter:/x");
 * ```
 */
export function jupyterEnv(
  root: string = ROOT,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Record<string, string> {
  const data = jupyterPaths(root).data;
  return { JUPYTER_PATH: env.JUPYTER_PATH ? `${data}:${env.JUPYTER_PATH}` : data };
}

/**
 * Registers the Deno kernel in the project's data folder (`.venv/share/jupyter`, also when the
 * venv itself is not built: headless runs with Debian's nbclient find it via `JUPYTER_PATH`),
 * never in the user's.
 *
 * @param root Project root. @default this checkout
 * @returns The kernelspec folder.
 */
export async function installProjectKernel(root: string = ROOT): Promise<string> {
  return await installKernel(jupyterPaths(root).data);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; last: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    const lines = text.split("\n").map((l) => l.trim()).filter((l) =>
      l && !l.startsWith("WARNING: Location")
    );
    return { ok: out.success, last: lines.at(-1) ?? `exit code ${out.code}` };
  } catch (error) {
    return { ok: false, last: error instanceof Error ? error.message : String(error) };
  }
}
