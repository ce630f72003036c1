/**
 * Private JSON-shape checks of the workload schema: each reports through the caller's `fail`
 * (JSON path, problem), so errors name the field. Never re-exported.
 *
 * @module
 */

const NAME = /^[A-Za-z0-9][\w.-]*$/;

/** Reports a problem at a JSON path; never returns. */
export type Fail = (path: string, message: string) => never;

/** The value as a plain object, or a failure at `path`. */
export function object(
  raw: unknown,
  path: string,
  fail: Fail,
): Record<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail(path, "must be an object");
  }
  return raw as Record<string, unknown>;
}

/** Fails on the first key not in `fields`. */
export function known(
  raw: Record<string, unknown>,
  fields: readonly string[],
  path: string,
  fail: Fail,
): void {
  for (const key of Object.keys(raw)) {
    if (!fields.includes(key)) {
      fail(`${path}.${key}`, `is not a known field (known: ${fields.join(", ")})`);
    }
  }
}

/** An integer ≥ `min`, or a failure. */
export function integer(
  value: unknown,
  path: string,
  min: number,
  fail: Fail,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(path, `must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

/** A name (letters, digits, `_ . -`), or a failure. */
export function name(
  value: unknown,
  path: string,
  fail: Fail,
): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    fail(path, `must be a name (letters, digits, _ . -), got ${JSON.stringify(value)}`);
  }
  return value as string;
}
