/**
 * Headless notebook execution: each notebook runs top to bottom on the Deno kernel through
 * Jupyter's nbclient (the project venv's, else Debian `python3-nbclient`); the executed copy,
 * outputs included, is written to an output folder and signed, so Jupyter opens it trusted. A cell
 * error fails the run with the cell's error line. The kernel is found through the project's
 * `JUPYTER_PATH`.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { installProjectKernel, jupyterEnv, jupyterPaths } from "./jupyter_env.ts";

/** Options of {@linkcode executeNotebook}. */
export interface ExecuteOptions {
  /** Folder for the executed copy. @default "notebooks/executed" */
  outDir?: string;
  /** Seconds a cell may run. @default 1200 */
  cellTimeoutS?: number;
  /** Extra environment for the kernel (notebook parameters). */
  env?: Record<string, string>;
}

const RUNNER = `
import asyncio, os, queue, sys, time, nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
src, dst, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3])
nb = nbformat.read(src, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="deno", iopub_timeout=120,
                        raise_on_iopub_timeout=True, startup_timeout=120,
                        resources={"metadata": {"path": os.path.dirname(os.path.abspath(src))}})
LATE = ("execute_result", "display_data", "update_display_data", "stream", "error")

async def drain_late_outputs(cell, index):
    # Deno's kernel can publish a cell's result after its "idle" status (seen under load), when
    # nbclient has stopped listening: collect what arrives within a short grace period.
    deadline = time.monotonic() + 0.5
    while True:
        try:
            msg = await client.kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return
        if msg["msg_type"] in LATE:
            client.process_message(msg, cell, index)
            deadline = time.monotonic() + 0.5

async def main():
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                await client.async_execute_cell(cell, index)
            except CellExecutionError as error:
                return error
            await drain_late_outputs(cell, index)
    return None

failed = asyncio.run(main())
# Signed with the user's Jupyter secret, as 'jupyter trust' does: the executed copy opens trusted.
from nbformat.sign import NotebookNotary
NotebookNotary().sign(nb)
nbformat.write(nb, dst)
if failed is not None:
    lines = [l for l in str(failed).splitlines() if l.strip()]
    name, value = getattr(failed, "ename", ""), getattr(failed, "evalue", "")
    message = f"{name}: {value}" if name or value else (lines[-1] if lines else "unknown error")
    print("cell failed: " + message.splitlines()[0], file=sys.stderr)
    sys.exit(3)
`;

/**
 * The first Python interpreter that can import nbclient, or null.
 *
 * @returns The project venv's Python (`make venv`), `/usr/bin/python3` (Debian's, where apt
 * installs nbclient) or `python3`, or null.
 */
export async function findNotebookPython(): Promise<string | null> {
  // The venv's Python only once its build finished (a half-built venv has no marker).
  const paths = jupyterPaths();
  const ready = await Deno.stat(paths.marker).then(() => true, () => false);
  const venv = ready ? [join(paths.venv, "bin", "python")] : [];
  for (const candidate of [...venv, "/usr/bin/python3", "python3"]) {
    try {
      const out = await new Deno.Command(candidate, {
        args: ["-c", "import nbclient, nbformat"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return candidate;
    } catch { /* not there */ }
  }
  return null;
}

/**
 * Executes one notebook on the Deno kernel and writes the executed copy.
 *
 * @param path The `.ipynb` file.
 * @param options Output folder, cell timeout, kernel environment.
 * @returns The executed copy's path.
 * @throws {Error} naming the notebook and the failing cell's error; or naming the Debian
 * packages when nbclient is missing.
 * @example
 * ```ts ignore
 * import { executeNotebook } from "./execute.ts";
 * await executeNotebook("notebooks/turbo_inference.ipynb");
 * ```
 */
export async function executeNotebook(path: string, options: ExecuteOptions = {}): Promise<string> {
  const python = await findNotebookPython();
  if (python === null) {
    throw new Error(
      "Cannot execute notebooks: Python's nbclient is missing (apt-get install python3-nbclient " +
        "python3-nbformat python3-jupyter-client)",
    );
  }
  await installProjectKernel();
  const outDir = options.outDir ?? join(dirname(path), "executed");
  await Deno.mkdir(outDir, { recursive: true });
  const dst = resolve(outDir, basename(path));
  const out = await new Deno.Command(python, {
    args: ["-c", RUNNER, resolve(path), dst, String(options.cellTimeoutS ?? 1200)],
    env: { ...jupyterEnv(), ...options.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) =>
      l.trim() && !l.includes('"deno jupyter" is unstable')
    );
    throw new Error(`Notebook ${path} failed: ${err.pop() ?? `exit code ${out.code}`}`);
  }
  return dst;
}
