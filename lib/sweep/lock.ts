/**
 * A lock file that stops two sweeps writing one output directory. Created with `createNew`
 * (atomic); a lock left by a process that no longer exists is taken over.
 *
 * @module
 */

/** A held lock; `release()` removes the file. */
export interface SweepLock {
  /** The lock file's path. */
  path: string;
  /** Removes the lock file (idempotent). */
  release(): void;
}

/**
 * Takes the lock at `path`, or throws naming the process that holds it.
 *
 * @param path The lock file, e.g. `benchmarks/.sweep.lock`.
 * @returns The held lock.
 * @throws {Error} when another live process holds it.
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const path = `${await Deno.makeTempDir()}/.sweep.lock`;
 * const lock = acquireLock(path);
 * lock.release();
 * ```
 */
export function acquireLock(path: string): SweepLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = Deno.openSync(path, { write: true, createNew: true });
      file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          try {
            Deno.removeSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const holder = Number(Deno.readTextFileSync(path).trim());
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new Error(
          `Cannot run sweep: another sweep (pid ${holder}) is writing this output dir ` +
            `(lock ${path}); wait for it or stop it`,
        );
      }
      // Take the stale lock over by renaming it away: rename is atomic, so when two sweeps find
      // the same stale lock only one rename succeeds (the other gets NotFound and retries), and
      // neither can delete a lock the other has just created.
      try {
        Deno.renameSync(path, `${path}.stale-${Deno.pid}`);
        Deno.removeSync(`${path}.stale-${Deno.pid}`);
      } catch (renameError) {
        if (!(renameError instanceof Deno.errors.NotFound)) throw renameError;
      }
    }
  }
  throw new Error(`Cannot run sweep: could not take the lock ${path}`);
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
