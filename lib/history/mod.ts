/**
 * Benchmark history in SQLite: runs and jobs tables, the bench and sweep hooks, comparisons.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./db.ts";
export * from "./record.ts";
export * from "./compare.ts";
export * from "./significance.ts";
