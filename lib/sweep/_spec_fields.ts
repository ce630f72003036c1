/**
 * Readers of one JSON field of a sweep spec: each returns the typed value or calls `fail` with
 * the field's JSON path and what is wrong. Private to lib/sweep (spec.ts).
 *
 * @module
 */

/** A parsed JSON value, not yet validated. */
export type Json = unknown;

/** The value as a JSON object, or `fail` at `path` ("must be an object"). */
export function asObject(
  value: Json,
  path: string,
  fail: (p: string, m: string) => never,
): Record<string, Json> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(path, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, Json>;
}

/**
 * `obj[key]` as a non-empty list, each item read by `item` at `prefix.key[i]`; `fallback` when
 * the key is absent (required when `fallback` is undefined).
 */
export function list<T>(
  obj: Record<string, Json>,
  key: string,
  fail: (p: string, m: string) => never,
  fallback: T[] | undefined,
  item: (v: Json, path: string) => T,
  prefix = "$",
): T[] {
  const path = `${prefix}.${key}`;
  const value = obj[key];
  if (value === undefined) {
    return fallback !== undefined ? fallback : fail(path, "is required");
  }
  if (!Array.isArray(value)) return fail(path, `must be a list, got ${describe(value)}`);
  if (value.length === 0) return fail(path, "must not be empty");
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

/** `fallback` when the value is absent, else the value read by `parse`. */
export function optional<T>(
  value: Json,
  path: string,
  fallback: T,
  parse: (v: Json, p: string) => T,
): T {
  return value === undefined ? fallback : parse(value, path);
}

/** The value as a non-empty string, or `fail` at `path`. */
export function str(value: Json, path: string, fail: (p: string, m: string) => never): string {
  return typeof value === "string" && value.length > 0
    ? value
    : fail(path, `must be a non-empty string, got ${describe(value)}`);
}

/** The value as an integer >= `min`, or `fail` at `path`. */
export function int(value: Json, path: string, min: number, fail: (p: string, m: string) => never) {
  return typeof value === "number" && Number.isInteger(value) && value >= min
    ? value
    : fail(path, `must be an integer >= ${min}, got ${describe(value)}`);
}

/** The value as a finite number > 0, or `fail` at `path`. */
export function num(value: Json, path: string, fail: (p: string, m: string) => never): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? value
    : fail(path, `must be a positive number, got ${describe(value)}`);
}

function describe(value: Json): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
