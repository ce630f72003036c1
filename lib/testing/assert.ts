/**
 * Test assertions on `node:assert/strict` (JSR's `@std/assert` is unreachable here), with the
 * few std-style helpers the tests use.
 *
 * @module
 */
import assertStrict from "node:assert/strict";

/**
 * Asserts that `value` is truthy.
 *
 * @param value The value under test.
 * @param message Extra context.
 */
export function assert(value: unknown, message?: string): asserts value {
  if (!value) throw new assertStrict.AssertionError({ message: message ?? "assertion failed" });
}

/**
 * Asserts deep strict equality.
 *
 * @param actual The value under test.
 * @param expected What it must equal.
 * @param message Extra context.
 */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (message === undefined) assertStrict.deepStrictEqual(actual, expected);
  else assertStrict.deepStrictEqual(actual, expected, message);
}

/**
 * Asserts `|actual - expected| <= tolerance`.
 *
 * @param actual The value under test.
 * @param expected The reference.
 * @param tolerance Absolute tolerance. @default 1e-7
 */
export function assertAlmostEquals(actual: number, expected: number, tolerance = 1e-7): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new assertStrict.AssertionError({
      message: `expected ${actual} to be within ${tolerance} of ${expected}`,
      actual,
      expected,
    });
  }
}

/**
 * Asserts that `fn` throws an instance of `ErrorClass` whose message includes `includes`.
 *
 * @returns The error.
 */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E = Error as never,
  includes?: string,
): E {
  try {
    fn();
  } catch (error) {
    check(error, ErrorClass, includes);
    return error as E;
  }
  throw new assertStrict.AssertionError({ message: "expected the function to throw" });
}

/**
 * Asserts that `fn` rejects with an instance of `ErrorClass` whose message includes `includes`.
 *
 * @returns The error.
 */
export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E = Error as never,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    check(error, ErrorClass, includes);
    return error as E;
  }
  throw new assertStrict.AssertionError({ message: "expected the promise to reject" });
}

function check(
  error: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => Error,
  includes?: string,
): void {
  if (!(error instanceof ErrorClass)) {
    throw new assertStrict.AssertionError({
      message: `expected ${ErrorClass.name}, got ${String(error)}`,
    });
  }
  if (includes !== undefined && !error.message.includes(includes)) {
    throw new assertStrict.AssertionError({
      message: `expected message to include "${includes}", got "${error.message}"`,
    });
  }
}
