/**
 * The Deno Jupyter kernelspec: written into a given Jupyter data folder (the project's, never the
 * user's), atomically, so concurrent callers cannot leave a half-written one.
 *
 * @module
 */
import { join } from "node:path";

/** The kernelspec `deno jupyter --install` writes, for the Deno running now. */
export interface KernelSpec {
  /** The command Jupyter runs. */
  argv: string[];
  /** Name in the launcher. */
  display_name: string;
  /** Language of the cells. */
  language: string;
}

/**
 * The Deno kernelspec for a Deno executable (what `deno jupyter --install` writes).
 *
 * @param deno The Deno executable. @default the running one
 * @returns The `kernel.json` content.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denoKernelSpec } from "./kernel.ts";
 * assert.deepEqual(denoKernelSpec("/d").argv, ["/d", "jupyter", "--kernel", "--conn", "{connection_file}"]);
 * ```
 */
export function denoKernelSpec(deno: string = Deno.execPath()): KernelSpec {
  return {
    argv: [deno, "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
  };
}

/**
 * Registers the Deno kernel in a Jupyter data folder: writes `<dataDir>/kernels/deno/kernel.json`
 * (temporary file, then rename). Running it twice leaves one kernelspec pointing at the current
 * Deno; a Jupyter started with `JUPYTER_PATH=<dataDir>` finds it.
 *
 * @param dataDir A Jupyter data folder, e.g. `.venv/share/jupyter`.
 * @returns The kernelspec folder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { installKernel } from "./kernel.ts";
 * const dir = await installKernel(await Deno.makeTempDir());
 * const spec = JSON.parse(await Deno.readTextFile(`${dir}/kernel.json`));
 * assert.equal(spec.argv[0], Deno.execPath());
 * ```
 */
export async function installKernel(dataDir: string): Promise<string> {
  const dir = join(dataDir, "kernels", "deno");
  await Deno.mkdir(dir, { recursive: true });
  const text = JSON.stringify(denoKernelSpec(), null, 2) + "\n";
  const path = join(dir, "kernel.json");
  if ((await Deno.readTextFile(path).catch(() => "")) === text) return dir;
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, path);
  return dir;
}
