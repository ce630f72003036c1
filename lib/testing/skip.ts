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
 * @param print Where the line goes. @default console.error
 * @returns Whether to ignore the test.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { skipIf } from "./skip.ts";
 * const printed: string[] = [];
 * assert.equal(skipIf("rss", null, (line) => printed.push(line)), false);
 * assert.equal(skipIf("rss", "no /proc on this OS", (line) => printed.push(line)), true);
 * assert.deepEqual(printed, ["skipped: rss: no /proc on this OS"]);
 * ```
 */
export function skipIf(
  test: string,
  reason: string | null,
  print: (line: string) => void = console.error,
): boolean {
  if (reason === null) return false;
  print(`skipped: ${test}: ${reason}`);
  return true;
}
