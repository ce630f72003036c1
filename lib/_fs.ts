/**
 * The project's one "does this path exist" check (private, never re-exported from lib/mod.ts).
 *
 * @module
 */

/**
 * Whether a path exists: false only when it is not there, so a permission or I/O error still
 * surfaces instead of reading as "missing".
 *
 * @param path File or directory.
 * @returns True when `Deno.stat` finds it.
 * @throws whatever `Deno.stat` throws other than `NotFound`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exists } from "./_fs.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(await exists(dir), true);
 * assert.equal(await exists(`${dir}/nothing`), false);
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
