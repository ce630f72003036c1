/**
 * The Deno Jupyter kernel: registration (idempotent) and lookup.
 *
 * @module
 */
import { join } from "node:path";
import { homedir } from "node:os";

/**
 * Where `deno jupyter --install` puts the kernelspec: `$XDG_DATA_HOME/jupyter/kernels/deno`,
 * by default under `~/.local/share`.
 *
 * @param env The environment to read.
 * @returns The kernelspec directory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelDir } from "./kernel.ts";
 * assert(kernelDir({ XDG_DATA_HOME: "/x" }) === "/x/jupyter/kernels/deno");
 * ```
 */
export function kernelDir(env: Record<string, string | undefined> = Deno.env.toObject()): string {
  const data = env.XDG_DATA_HOME ?? join(env.HOME ?? homedir(), ".local", "share");
  return join(data, "jupyter", "kernels", "deno");
}

/**
 * Registers the Deno kernel with Jupyter (`deno jupyter --install --force`). Running it twice
 * leaves one kernelspec pointing at the current Deno.
 *
 * @param env Environment for the child (tests point `XDG_DATA_HOME` at a temp dir).
 * @returns The kernelspec directory.
 * @throws {Error} with Deno's message when registration fails.
 * @example
 * ```ts ignore
 * import { installKernel } from "./kernel.ts";
 * console.log(await installKernel());
 * ```
 */
export async function installKernel(
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["jupyter", "--install", "--force"],
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`Cannot register the Deno kernel: ${text.trim().split("\n").pop()}`);
  }
  const match = text.match(/installed successfully at (.+?)\.?\s*$/m);
  return match?.[1]?.trim() ?? kernelDir({ ...Deno.env.toObject(), ...env });
}
