/**
 * All-or-nothing output sets, private to lib/report: every file of a run is written under a
 * staging directory first, then moved into place only once every destination directory has proved
 * writable; a move that still fails puts back what it replaced. A run so leaves the old outputs or
 * the new ones, never a mix.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";

/** A staging directory inside `outDir` (same file system, so moves are renames). */
export async function stagingDir(outDir: string): Promise<string> {
  await Deno.mkdir(outDir, { recursive: true });
  return await Deno.makeTempDir({ dir: outDir, prefix: ".staging-" });
}

/**
 * Moves `staged` files (paths under `stage`) to the same relative paths under `outDir`, then
 * removes `stage`. Nothing is moved unless every destination directory is writable.
 *
 * @returns The destination paths, in the order given.
 * @throws {Error} naming the first destination that cannot be written; the old files stay.
 */
export async function commitStaged(
  stage: string,
  outDir: string,
  staged: readonly string[],
): Promise<string[]> {
  const moves = staged.map((from) => ({ from, to: join(outDir, relative(stage, from)) }));
  try {
    for (const dir of new Set(moves.map((m) => dirname(m.to)))) await probeDir(dir);
    const old = join(stage, ".replaced");
    const done: { to: string; backup: string | null }[] = [];
    try {
      for (const [i, move] of moves.entries()) {
        let backup: string | null = join(old, String(i));
        await Deno.mkdir(old, { recursive: true });
        try {
          await Deno.rename(move.to, backup);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
          backup = null;
        }
        done.push({ to: move.to, backup });
        await Deno.rename(move.from, move.to);
      }
    } catch (error) {
      for (const { to, backup } of done.reverse()) {
        if (backup === null) await Deno.remove(to).catch(() => {});
        else await Deno.rename(backup, to).catch(() => {});
      }
      throw error;
    }
    return moves.map((m) => m.to);
  } finally {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
  }
}

async function probeDir(dir: string): Promise<void> {
  const probe = join(dir, `.${Deno.pid}.write-probe`);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(probe, "");
  } catch (error) {
    throw new Error(
      `Cannot write the report: '${dir}' is not writable (${
        (error as Error).message.split("\n")[0]
      }); nothing was replaced`,
    );
  }
  await Deno.remove(probe).catch(() => {});
}
