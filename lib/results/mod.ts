/**
 * Result row types and the polars-backed tables they are written to.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./table.ts";
