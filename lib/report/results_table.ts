/**
 * Reads `results.csv` and `perplexity.csv` into typed polars frames: every column of the schema
 * present, numbers as Float64, `use_cache` as Boolean, the rest as strings.
 *
 * @module
 */
import pl from "nodejs-polars";
import { Buffer } from "node:buffer";
import {
  BENCH_FIELDS,
  BENCH_FIELDS_ADDED,
  PERPLEXITY_FIELDS,
  PERPLEXITY_FIELDS_ADDED,
} from "../results/schema.ts";
import { BENCH_SCHEMA, PERPLEXITY_SCHEMA, type TableKind } from "../results/table.ts";
import { checkCsvText, checkHeader, checkNotBinary, checkRows } from "../results/validate.ts";

interface TableSchema {
  kind: string;
  table: TableKind;
  fields: readonly string[];
  numeric: readonly string[];
  boolean: readonly string[];
  /** Trailing columns added later: a file without them reads them as null. */
  added: readonly string[];
}

/** Column kinds from the writer's polars schema (lib/results/table.ts), so both agree. */
function tableSchema(
  kind: string,
  table: TableKind,
  fields: readonly string[],
  types: Readonly<Record<string, unknown>>,
  added: readonly string[],
): TableSchema {
  const is = (field: string, ...want: unknown[]) =>
    want.some((t) => String(types[field]) === String(t));
  return {
    kind,
    table,
    fields,
    numeric: fields.filter((f) => is(f, pl.Float64, pl.Int64)),
    boolean: fields.filter((f) => is(f, pl.Bool)),
    added,
  };
}

const RESULTS_SCHEMA = tableSchema(
  "results",
  "bench",
  BENCH_FIELDS,
  BENCH_SCHEMA,
  BENCH_FIELDS_ADDED,
);
const PERPLEXITY_SCHEMA_KINDS = tableSchema(
  "perplexity",
  "perplexity",
  PERPLEXITY_FIELDS,
  PERPLEXITY_SCHEMA,
  PERPLEXITY_FIELDS_ADDED,
);

/**
 * Parses the text of a `results.csv` into a typed frame (columns in `BENCH_FIELDS` order).
 *
 * @param text The CSV text, header first.
 * @param source Name used in error messages. @default "results.csv"
 * @returns The typed frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv } from "./results_table.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const df = parseResultsCsv(BENCH_FIELDS.join(",") + "\n");
 * assert(df.height === 0 && df.columns.length === BENCH_FIELDS.length);
 * ```
 */
export function parseResultsCsv(text: string, source = "results.csv"): pl.DataFrame {
  return parseTable(text, source, RESULTS_SCHEMA);
}

/**
 * Parses the text of a `perplexity.csv` into a typed frame (columns in `PERPLEXITY_FIELDS` order).
 *
 * @param text The CSV text, header first.
 * @param source Name used in error messages. @default "perplexity.csv"
 * @returns The typed frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePerplexityCsv } from "./results_table.ts";
 * import { PERPLEXITY_FIELDS } from "../results/schema.ts";
 * const df = parsePerplexityCsv(PERPLEXITY_FIELDS.join(",") + "\n");
 * assert(df.height === 0);
 * ```
 */
export function parsePerplexityCsv(text: string, source = "perplexity.csv"): pl.DataFrame {
  return parseTable(text, source, PERPLEXITY_SCHEMA_KINDS);
}

/**
 * Reads `results.csv` from disk; a missing file or missing columns throw a one-line error.
 *
 * @param path The CSV path.
 * @returns The typed frame.
 * @example
 * ```ts ignore
 * import { readResultsCsv } from "./results_table.ts";
 * const df = await readResultsCsv("benchmarks/results.csv");
 * console.log(df.toString());
 * ```
 */
export async function readResultsCsv(path: string): Promise<pl.DataFrame> {
  return parseTable(await readText(path, RESULTS_SCHEMA.kind), path, RESULTS_SCHEMA);
}

/**
 * Reads `perplexity.csv` from disk; a missing file or missing columns throw a one-line error.
 *
 * @param path The CSV path.
 * @returns The typed frame.
 * @example
 * ```ts ignore
 * import { readPerplexityCsv } from "./results_table.ts";
 * const df = await readPerplexityCsv("benchmarks/perplexity.csv");
 * ```
 */
export async function readPerplexityCsv(path: string): Promise<pl.DataFrame> {
  return parseTable(
    await readText(path, PERPLEXITY_SCHEMA_KINDS.kind),
    path,
    PERPLEXITY_SCHEMA_KINDS,
  );
}

async function readText(path: string, kind: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read ${kind} CSV: '${path}' does not exist`);
    }
    throw error;
  }
}

function parseTable(text: string, source: string, schema: TableSchema): pl.DataFrame {
  if (text.trim() === "") {
    throw new SyntaxError(`Cannot read ${schema.kind} CSV '${source}': the file is empty`);
  }
  // The same verdict as the sweep's resume check (lib/results/validate.ts): a cut last row, a
  // row without its provenance or a number out of range is rejected, never turned into a row.
  checkNotBinary(text, source);
  const header = text.split("\n", 1)[0]!.trim();
  // Columns are picked by name, so any order is accepted; a duplicated or unknown one is named.
  checkHeader(header, schema.fields, { added: schema.added, anyOrder: true, source });
  if (text.trim() !== header) checkCsvText(text, source);
  let raw: pl.DataFrame;
  try {
    raw = pl.readCSV(Buffer.from(text.endsWith("\n") ? text : `${text}\n`), {
      inferSchemaLength: 0,
      hasHeader: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new SyntaxError(`Cannot read ${schema.kind} CSV '${source}': ${message}`);
  }
  for (const field of schema.added) {
    if (!raw.columns.includes(field)) raw = raw.withColumn(pl.lit(null).cast(pl.Utf8).alias(field));
  }
  const missing = schema.fields.filter((f) => !raw.columns.includes(f));
  if (missing.length > 0) {
    throw new SyntaxError(
      `Cannot read ${schema.kind} CSV '${source}': missing column(s) ${
        missing.length > 4
          ? `${missing.slice(0, 4).join(", ")} and ${missing.length - 4} more`
          : missing.join(", ")
      }`,
    );
  }
  for (const field of schema.boolean) {
    const bad = raw.filter(pl.col(field).isIn(["true", "false"]).not());
    if (bad.height > 0) {
      throw new SyntaxError(
        `Cannot read ${schema.kind} CSV '${source}': column '${field}' must be true or false, got ${
          JSON.stringify(bad.getColumn(field).get(0))
        }`,
      );
    }
  }
  for (const field of schema.numeric) {
    const bad = raw.filter(
      pl.col(field).isNotNull().and(pl.col(field).cast(pl.Float64, false).isNull()),
    );
    if (bad.height > 0) {
      throw new SyntaxError(
        `Cannot read ${schema.kind} CSV '${source}': column '${field}' must be numeric, got ${
          JSON.stringify(bad.getColumn(field).get(0))
        }`,
      );
    }
  }
  const typed = raw.select(
    ...schema.fields.map((field) => {
      if (schema.numeric.includes(field)) return pl.col(field).cast(pl.Float64, false);
      if (schema.boolean.includes(field)) return pl.col(field).eq(pl.lit("true")).alias(field);
      return pl.col(field).fillNull("");
    }),
  );
  checkRows(typed.toRecords() as Record<string, unknown>[], schema.table, source);
  return typed;
}
