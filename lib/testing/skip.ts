/**
 * Explicit test skips: a test that cannot run here is `ignore`d with its reason printed, never
 * turned into an early `return` that passes without checking anything.
 *
 * @module
 */

/**
 * The `ignore` value of a `Deno.test` that needs something this machine may lack: `true` when
 * `reason` is a sentence (printed on stderr as `skipped: <test>: <reason>`), `false` when null.
 *
 * @param test The test's name (or a short label) for the printed line.
 * @param reason Why it cannot run here, or `null` when it can.
 * @returns Whether to ignore the test.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { skipIf } from "./skip.ts";
 * assert.equal(skipIf("rss", null), false);
 * assert.equal(skipIf("rss", "no /proc on this OS"), true);
 * ```
 */
export function skipIf(test: string, reason: string | null): boolean {
  if (reason === null) return false;
  console.error(`skipped: ${test}: ${reason}`);
  return true;
}
