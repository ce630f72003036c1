/**
 * Reading and writing the result tables with nodejs-polars: one polars schema per row type (from
 * the field lists in `schema.ts`), atomic writes (temp file + rename, so a kill at any moment
 * leaves the old file or the new one, never half of one), and strict reads that detect a corrupt
 * file instead of guessing.
 *
 * @module
 */
import pl from "nodejs-polars";
import { dirname } from "node:path";
import {
  BENCH_FIELDS,
  BENCH_FIELDS_ADDED,
  type BenchRow,
  PERPLEXITY_FIELDS,
  PERPLEXITY_FIELDS_ADDED,
  type PerplexityRow,
} from "./schema.ts";
import { checkCsvText, checkHeader, checkNotBinary, checkRows } from "./validate.ts";

/** A polars column type the tables use. */
export type PolarsType = typeof pl.Utf8 | typeof pl.Float64 | typeof pl.Int64 | typeof pl.Bool;

/** Polars column types of `results.csv`, in `BENCH_FIELDS` order. */
export const BENCH_SCHEMA: Readonly<Record<(typeof BENCH_FIELDS)[number], PolarsType>> = Object
  .freeze({
    run_id: pl.Utf8,
    cell_id: pl.Utf8,
    timestamp: pl.Utf8,
    model: pl.Utf8,
    dtype: pl.Utf8,
    device: pl.Utf8,
    execution_provider: pl.Utf8,
    use_cache: pl.Bool,
    batch: pl.Int64,
    context_tokens: pl.Int64,
    family: pl.Utf8,
    prompt_id: pl.Int64,
    run_index: pl.Int64,
    new_tokens: pl.Int64,
    prefill_ms: pl.Float64,
    decode_ms: pl.Float64,
    decode_tokens_per_s: pl.Float64,
    token_p50_ms: pl.Float64,
    token_p95_ms: pl.Float64,
    total_ms: pl.Float64,
    peak_rss_bytes: pl.Float64,
    peak_vram_bytes: pl.Float64,
    status: pl.Utf8,
    error: pl.Utf8,
    git_commit: pl.Utf8,
    deno_version: pl.Utf8,
    ort_version: pl.Utf8,
    transformers_version: pl.Utf8,
    device_name: pl.Utf8,
    kv_mode: pl.Utf8,
    kv_cache_bytes: pl.Float64,
    quantization: pl.Utf8,
    rss_baseline_bytes: pl.Float64,
    peak_rss_increase_bytes: pl.Float64,
    load1_before: pl.Float64,
    load1_after: pl.Float64,
    weights: pl.Utf8,
    nodes_off_provider: pl.Int64,
    logits_positions: pl.Utf8,
    decode_tokens_per_s_per_seq: pl.Float64,
    shard: pl.Utf8,
    host: pl.Utf8,
    spec_hash: pl.Utf8,
    telemetry_samples: pl.Int64,
    cpu_process_pct_mean: pl.Float64,
    cpu_process_pct_p95: pl.Float64,
    cpu_process_pct_max: pl.Float64,
    cpu_system_pct_mean: pl.Float64,
    cpu_busiest_core_pct_mean: pl.Float64,
    rss_mean_bytes: pl.Float64,
    mem_available_min_bytes: pl.Float64,
    load1_mean: pl.Float64,
    gpu_util_pct_mean: pl.Float64,
    gpu_util_pct_p95: pl.Float64,
    gpu_util_pct_max: pl.Float64,
    gpu_mem_used_max_bytes: pl.Float64,
    gpu_mem_process_max_bytes: pl.Float64,
    gpu_temp_c_max: pl.Float64,
    gpu_power_w_mean: pl.Float64,
    gpu_sm_clock_mhz_mean: pl.Float64,
    gpu_energy_j: pl.Float64,
    gpu_throttle_reasons: pl.Utf8,
    round: pl.Int64,
    round_position: pl.Int64,
    replica: pl.Int64,
    block: pl.Utf8,
    sched_wait_ms: pl.Float64,
    steal_ms: pl.Float64,
  });

/** Polars column types of `perplexity.csv`, in `PERPLEXITY_FIELDS` order. */
export const PERPLEXITY_SCHEMA: Readonly<
  Record<(typeof PERPLEXITY_FIELDS)[number], PolarsType>
> = Object.freeze({
  timestamp: pl.Utf8,
  model: pl.Utf8,
  dtype: pl.Utf8,
  device: pl.Utf8,
  execution_provider: pl.Utf8,
  method: pl.Utf8,
  window: pl.Int64,
  stride: pl.Int64,
  max_tokens: pl.Int64,
  scored_tokens: pl.Int64,
  ppl: pl.Float64,
  stderr: pl.Float64,
  bits_per_byte: pl.Float64,
  baseline: pl.Utf8,
  delta_ppl_pct: pl.Float64,
  kl: pl.Float64,
  top1_agreement: pl.Float64,
  seconds: pl.Float64,
  tokens_per_s: pl.Float64,
  status: pl.Utf8,
  error: pl.Utf8,
  git_commit: pl.Utf8,
  weights: pl.Utf8,
  shard: pl.Utf8,
  host: pl.Utf8,
  spec_hash: pl.Utf8,
});

/** The two tables. */
export type TableKind = "bench" | "perplexity";

const TABLES = {
  bench: { fields: BENCH_FIELDS as readonly string[], schema: BENCH_SCHEMA },
  perplexity: { fields: PERPLEXITY_FIELDS as readonly string[], schema: PERPLEXITY_SCHEMA },
} as const;

/** Row type of each table. */
export interface RowOf {
  /** `results.csv`. */
  bench: BenchRow;
  /** `perplexity.csv`. */
  perplexity: PerplexityRow;
}

/**
 * Rows → a polars DataFrame with the table's fixed schema and column order (stable types even
 * when a column is all null).
 *
 * @param kind Which table.
 * @param rows The rows.
 * @returns The frame.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFrame } from "./table.ts";
 * import { BENCH_FIELDS } from "./schema.ts";
 * assert(toFrame("bench", []).width === BENCH_FIELDS.length);
 * ```
 */
export function toFrame<K extends TableKind>(kind: K, rows: readonly RowOf[K][]): pl.DataFrame {
  const { fields, schema } = TABLES[kind];
  const columns = fields.map((field) => {
    const type = (schema as Record<string, PolarsType>)[field]!;
    const values = rows.map((row) => (row as unknown as Record<string, unknown>)[field] ?? null);
    return pl.Series(field, values, type);
  });
  return pl.DataFrame(columns);
}

/**
 * Writes rows as CSV atomically: a temp file in the same directory, then a rename.
 *
 * @param path Destination, e.g. `benchmarks/results.csv`.
 * @param kind Which table.
 * @param rows The rows, written in the given order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTable, writeTable } from "./table.ts";
 * const path = `${await Deno.makeTempDir()}/results.csv`;
 * await writeTable(path, "bench", []);
 * assert((await readTable(path, "bench")).length === 0);
 * ```
 */
export async function writeTable<K extends TableKind>(
  path: string,
  kind: K,
  rows: readonly RowOf[K][],
): Promise<void> {
  await atomically(path, (tmp) => toFrame(kind, rows).writeCSV(tmp));
}

/**
 * Writes rows as Parquet atomically (temp file + rename).
 *
 * @param path Destination, e.g. `benchmarks/results.parquet`.
 * @param kind Which table.
 * @param rows The rows.
 */
export async function writeParquet<K extends TableKind>(
  path: string,
  kind: K,
  rows: readonly RowOf[K][],
): Promise<void> {
  await atomically(path, (tmp) => toFrame(kind, rows).writeParquet(tmp));
}

/** Writes `path` through a temp file in its directory: fsync, then rename; no temp left on error. */
async function atomically(path: string, write: (tmp: string) => void): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    write(tmp);
    const file = await Deno.open(tmp, { read: true, write: true });
    try {
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/**
 * Reads a table strictly: the header must be exactly the table's fields (or, for `results.csv`,
 * the fields before `BENCH_FIELDS_ADDED`, which then read as null), every value must parse as
 * its column type. A file that fails is reported as corrupt naming the column, never repaired.
 *
 * @param path The CSV file.
 * @param kind Which table.
 * @param options `anyOrder`: accept the columns in any order (readers that never append).
 * @returns The rows (empty when the file has only a header).
 * @throws {Deno.errors.NotFound} when the file is missing; `SyntaxError` naming the file when it
 * is corrupt.
 */
export async function readTable<K extends TableKind>(
  path: string,
  kind: K,
  options: { anyOrder?: boolean } = {},
): Promise<RowOf[K][]> {
  const text = await Deno.readTextFile(path);
  const { fields: allFields, schema: fullSchema } = TABLES[kind];
  checkNotBinary(text, path);
  const header = text.split("\n", 1)[0]!.trim();
  const present = checkHeader(header, allFields, {
    added: kind === "bench" ? BENCH_FIELDS_ADDED : PERPLEXITY_FIELDS_ADDED,
    anyOrder: options.anyOrder ?? false,
    source: path,
  });
  if (text.trim() === header) return [];
  checkCsvText(text, path);
  let frame: pl.DataFrame;
  const dtypes = Object.fromEntries(
    present.map((f) => [f, (fullSchema as Record<string, PolarsType>)[f]!]),
  );
  try {
    frame = pl.readCSV(text, { dtypes, hasHeader: true } as never);
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new SyntaxError(`${path} is corrupt: ${message}`);
  }
  if (frame.width !== present.length) {
    throw new SyntaxError(`${path} is corrupt: ${frame.width} columns, expected ${present.length}`);
  }
  const records = frame.toRecords() as Record<string, unknown>[];
  checkRows(records, kind, path);
  // Columns a file written before them lacks read as null, in the table's column order.
  return records.map((record) =>
    Object.fromEntries(allFields.map((f) => [f, record[f] ?? null]))
  ) as unknown as RowOf[K][];
}

/**
 * The columns a header names when it is the table's header, possibly stopping before some of the
 * trailing columns added after the first reference run (`BENCH_FIELDS_ADDED`, added in order);
 * `null` when it is not.
 *
 * @param header The CSV's first line.
 * @param kind Which table.
 * @returns The fields in file order, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headerFields } from "./table.ts";
 * import { PERPLEXITY_FIELDS } from "./schema.ts";
 * assert.deepEqual(headerFields(PERPLEXITY_FIELDS.join(","), "perplexity"), PERPLEXITY_FIELDS);
 * assert.equal(headerFields("a,b", "perplexity"), null);
 * ```
 */
export function headerFields(header: string, kind: TableKind): readonly string[] | null {
  const { fields } = TABLES[kind];
  const added: readonly string[] = kind === "bench" ? BENCH_FIELDS_ADDED : PERPLEXITY_FIELDS_ADDED;
  const got = header.trim();
  for (let k = fields.length - added.length; k <= fields.length; k++) {
    if (got === fields.slice(0, k).join(",")) return fields.slice(0, k);
  }
  return null;
}

/** A table defined outside this file (e.g. lib/embed's): its field order and polars types. */
export interface CustomTable {
  /** Column order. */
  fields: readonly string[];
  /** Polars type of each field. */
  schema: Readonly<Record<string, PolarsType>>;
}

/**
 * Writes rows of a table defined elsewhere as CSV or Parquet, atomically (temp file + fsync +
 * rename), with the table's fixed column order and types, as {@linkcode writeTable} does.
 *
 * @param path Destination.
 * @param table The field list and polars types.
 * @param rows The rows (missing fields are written as null).
 * @param format `csv` or `parquet`. @default "csv"
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import pl from "nodejs-polars";
 * import { writeCustomTable } from "./table.ts";
 * const path = `${await Deno.makeTempDir()}/t.csv`;
 * await writeCustomTable(path, { fields: ["a", "b"], schema: { a: pl.Utf8, b: pl.Float64 } }, [
 *   { a: "x", b: 1.5 },
 * ]);
 * assert.equal(await Deno.readTextFile(path), "a,b\nx,1.5\n");
 * ```
 */
export async function writeCustomTable(
  path: string,
  table: CustomTable,
  rows: readonly Readonly<Record<string, unknown>>[],
  format: "csv" | "parquet" = "csv",
): Promise<void> {
  const frame = pl.DataFrame(
    table.fields.map((field) =>
      pl.Series(field, rows.map((r) => r[field] ?? null), table.schema[field])
    ),
  );
  await atomically(path, (tmp) => format === "csv" ? frame.writeCSV(tmp) : frame.writeParquet(tmp));
}
