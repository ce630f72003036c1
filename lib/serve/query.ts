/**
 * Query parameters of the list routes: each route states the parameters it accepts; an unknown
 * or malformed one is a 400 naming it.
 *
 * @module
 */
import { DEVICES, DTYPES } from "../dtypes.ts";
import { HttpError } from "./http.ts";

/** How a parameter is read. */
export type QueryKind = "string" | "enum" | "int" | "time";

/** One accepted parameter. */
export interface QuerySpec {
  /** How it is read. */
  kind: QueryKind;
  /** Allowed values (`enum`). */
  values?: readonly string[];
  /** One line for the OpenAPI document. */
  description: string;
}

/** Paging: `limit` (1..500) and `offset`. */
export const PAGING: Record<string, QuerySpec> = {
  limit: { kind: "int", description: "Page size, 1..500 (default 50)" },
  offset: { kind: "int", description: "Rows skipped (default 0)" },
};
/** The list filters: model, dtype, device, since. */
export const FILTERS: Record<string, QuerySpec> = {
  model: { kind: "string", description: "Exact model id" },
  dtype: { kind: "enum", values: DTYPES, description: "Dtype" },
  device: { kind: "enum", values: DEVICES, description: "Device" },
  since: { kind: "time", description: "RFC 3339 time: rows created at or after it" },
};

/**
 * Parses and checks query parameters against a spec: unknown or bad ones are a 400 naming them.
 *
 * @param url The request URL.
 * @param spec Accepted parameters.
 * @returns The values (ints as numbers, times as ISO strings).
 * @throws {HttpError} 400 naming the parameter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FILTERS, PAGING, query } from "./query.ts";
 * const spec = { ...FILTERS, ...PAGING };
 * assert.deepEqual(query(new URL("http://x/?dtype=q4&limit=5"), spec), { dtype: "q4", limit: 5 });
 * assert.throws(() => query(new URL("http://x/?colour=red"), spec), /'colour'/);
 * ```
 */
export function query(url: URL, spec: Record<string, QuerySpec>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of url.searchParams) {
    const s = spec[key];
    if (!s) {
      throw new HttpError(
        400,
        `'${key}' is not a query parameter here (known: ${Object.keys(spec).join(", ")})`,
        key,
      );
    }
    if (s.kind === "int") {
      const n = Number(value);
      const max = key === "limit" ? 500 : Number.MAX_SAFE_INTEGER;
      const min = key === "limit" ? 1 : 0;
      if (!/^\d+$/.test(value) || n < min || n > max) {
        throw new HttpError(
          400,
          `'${key}' must be an integer in ${min}..${max}, got '${value}'`,
          key,
        );
      }
      out[key] = n;
    } else if (s.kind === "enum") {
      if (!s.values!.includes(value)) {
        throw new HttpError(
          400,
          `'${key}' is unknown: '${value}' (known: ${s.values!.join(", ")})`,
          key,
        );
      }
      out[key] = value;
    } else if (s.kind === "time") {
      const t = Date.parse(value);
      if (Number.isNaN(t)) {
        throw new HttpError(400, `'${key}' must be an RFC 3339 time, got '${value}'`, key);
      }
      out[key] = new Date(t).toISOString();
    } else out[key] = value;
  }
  return out;
}

/**
 * The parameters' descriptions, for the OpenAPI document.
 *
 * @param spec Accepted parameters.
 * @returns Name → description.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describe, PAGING } from "./query.ts";
 * assert.match(describe(PAGING).limit!, /Page size/);
 * ```
 */
export function describe(spec: Record<string, QuerySpec>): Record<string, string> {
  return Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, s.description]));
}
