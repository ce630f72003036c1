/**
 * A time limit for a test that waits on a server, a browser or the network: past it the test fails
 * with a line naming what it waited for, and the signal given to the body aborts so the body can
 * kill what it started — a hang fails one named test instead of stalling the suite.
 *
 * @module
 */

/**
 * Runs `fn` with a time limit.
 *
 * @param what What the test waits on, for the message.
 * @param ms The limit in milliseconds.
 * @param fn The body; its signal aborts at the limit (kill processes, close browsers on it).
 * @returns The body's result.
 * @throws {Error} `<what>: no result after N s` at the limit; the body's own error before it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTimeout } from "./timeout.ts";
 * assert.equal(await withTimeout("a quick answer", 1000, () => Promise.resolve(7)), 7);
 * await assert.rejects(
 *   withTimeout("a server", 10, (signal) => new Promise((r) => signal.addEventListener("abort", r))),
 *   /a server: no result after 0.01 s/,
 * );
 * ```
 */
export async function withTimeout<T>(
  what: string,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: no result after ${ms / 1000} s`)); // first: the race is lost
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), limit]);
  } finally {
    clearTimeout(timer);
  }
}
