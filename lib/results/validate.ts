/**
 * The one verdict on a result table's text and rows, shared by every reader (the sweep's resume
 * check in `table.ts`, the report and figures in `lib/report/results_table.ts`): a file whose last
 * row is cut, a row without its identity or provenance, an unknown status, or a number out of its
 * column's range is rejected naming the file, the row and the column. Never repaired.
 *
 * @module
 */
import type { TableKind } from "./table.ts";
import { DTYPES } from "../dtypes.ts";

/** Columns every row has (a row missing one was cut short). */
export const REQUIRED_FIELDS: Readonly<Record<TableKind, readonly string[]>> = Object.freeze({
  bench: ["run_id", "cell_id", "model", "dtype", "device", "status", "git_commit", "device_name"],
  perplexity: ["model", "dtype", "device", "method", "status", "git_commit"],
});

/** Values no measurement can give: `[min, max]` per numeric column, and whether it is integral. */
export const FIELD_RANGES: Readonly<
  Record<TableKind, Readonly<Record<string, readonly [number, number, "int" | "real"]>>>
> = Object.freeze({
  bench: {
    nodes_off_provider: [0, 1e7, "int"],
    kv_cache_bytes: [0, 1e15, "real"],
    batch: [1, 1e5, "int"],
    context_tokens: [0, 1e8, "int"],
    prompt_id: [0, 1e9, "int"],
    run_index: [0, 1e9, "int"],
    new_tokens: [0, 1e8, "int"],
    prefill_ms: [0, 1e9, "real"],
    decode_ms: [0, 1e9, "real"],
    decode_tokens_per_s: [0, 1e9, "real"],
    decode_tokens_per_s_per_seq: [0, 1e9, "real"],
    token_p50_ms: [0, 1e9, "real"],
    token_p95_ms: [0, 1e9, "real"],
    total_ms: [0, 1e9, "real"],
    peak_rss_bytes: [0, 1e15, "real"],
    peak_vram_bytes: [0, 1e15, "real"],
    telemetry_samples: [0, 1e9, "int"],
    cpu_process_pct_mean: [0, 1e5, "real"],
    cpu_system_pct_mean: [0, 100, "real"],
    mem_available_min_bytes: [0, 1e15, "real"],
    gpu_util_pct_mean: [0, 100, "real"],
    gpu_energy_j: [0, 1e12, "real"],
    round: [1, 1e6, "int"],
    round_position: [0, 1e6, "int"],
    replica: [0, 1, "int"],
    sched_wait_ms: [0, 1e9, "real"],
    steal_ms: [0, 1e9, "real"],
  },
  perplexity: {
    window: [1, 1e8, "int"],
    stride: [1, 1e8, "int"],
    max_tokens: [1, 1e12, "int"],
    scored_tokens: [0, 1e12, "int"],
    ppl: [1, 1e12, "real"],
    stderr: [0, 1e12, "real"],
    bits_per_byte: [0, 1e4, "real"],
    delta_ppl_pct: [-100, 1e12, "real"],
    kl: [0, 1e6, "real"],
    top1_agreement: [0, 100, "real"],
    seconds: [0, 1e9, "real"],
    tokens_per_s: [0, 1e12, "real"],
  },
});

/**
 * Rejects a CSV text whose last row was cut: every writer ends the file with a newline, so text
 * that does not end with one stopped mid-row.
 *
 * @param text The file's text.
 * @param source The file name for the message.
 * @throws {SyntaxError} `<source> is corrupt: its last row is cut …`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCsvText } from "./validate.ts";
 * checkCsvText("a,b\n1,2\n", "r.csv");
 * assert.throws(() => checkCsvText("a,b\n1,", "r.csv"), /last row is cut/);
 * ```
 */
export function checkCsvText(text: string, source: string): void {
  checkNotBinary(text, source);
  if (text.length > 0 && !text.endsWith("\n")) {
    const last = text.slice(text.lastIndexOf("\n") + 1);
    throw new SyntaxError(
      `${source} is corrupt: its last row is cut (no final newline after '${last.slice(-40)}')`,
    );
  }
}

/**
 * Rejects a file that is not text at all (a NUL byte, or bytes that are not UTF-8, which a text
 * read turns into U+FFFD): such a file is not a CSV, whatever its last byte is.
 *
 * @param text The file's text (as read by `Deno.readTextFile`).
 * @param source The file name for the message.
 * @throws {SyntaxError} `<source> is not a CSV (binary content …)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNotBinary } from "./validate.ts";
 * checkNotBinary("a,b\n", "r.csv");
 * assert.throws(() => checkNotBinary("a\u0000b", "r.csv"), /not a CSV/);
 * ```
 */
export function checkNotBinary(text: string, source: string): void {
  const nul = text.indexOf("\u0000");
  const replaced = text.indexOf("\uFFFD");
  const at = nul < 0 ? replaced : replaced < 0 ? nul : Math.min(nul, replaced);
  if (at >= 0) {
    throw new SyntaxError(
      `${source} is not a CSV (binary content: ${
        text[at] === "\u0000" ? "a NUL byte" : "bytes that are not UTF-8"
      } at character ${at})`,
    );
  }
}

/**
 * Checks a CSV header against a table's columns, naming the first column that is wrong: one that
 * appears twice, one the table does not have, one that is missing (columns in `added` may be
 * absent) or, with `anyOrder: false`, one out of its place.
 *
 * @param header The CSV's first line.
 * @param fields The table's columns in order.
 * @param options `added`: trailing columns an older file may lack; `anyOrder`: accept any order
 * (readers that pick columns by name); `source`: the file name for the message.
 * @returns The columns in file order.
 * @throws {SyntaxError} `<source> is corrupt: its header …` naming the column.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkHeader } from "./validate.ts";
 * const o = { added: [], anyOrder: true, source: "r.csv" };
 * assert.deepEqual(checkHeader("b,a", ["a", "b"], o), ["b", "a"]);
 * assert.throws(() => checkHeader("a,b,a", ["a", "b"], o), /column 'a' twice/);
 * assert.throws(() => checkHeader("a,b,x", ["a", "b"], o), /unknown column 'x'/);
 * assert.throws(() => checkHeader("b,a", ["a", "b"], { ...o, anyOrder: false }), /'b' out of place/);
 * ```
 */
export function checkHeader(
  header: string,
  fields: readonly string[],
  options: { added: readonly string[]; anyOrder: boolean; source: string },
): string[] {
  const at = `${options.source} is corrupt: its header`;
  const columns = header.trim().split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) throw new SyntaxError(`${at} has column '${column}' twice`);
    seen.add(column);
  }
  const optional = new Set(options.added);
  const missing = fields.find((f) => !seen.has(f) && !optional.has(f));
  if (missing !== undefined) throw new SyntaxError(`${at} has no column '${missing}'`);
  const known = new Set(fields);
  const unknown = columns.find((c) => !known.has(c));
  if (unknown !== undefined) {
    throw new SyntaxError(
      `${at} has unknown column '${unknown.slice(0, 60)}' (not one of this table's columns)`,
    );
  }
  if (!options.anyOrder) {
    // Strict readers append rows in the table's order: the file must be a prefix of it, the
    // added columns dropped from the end only.
    const expected = fields.slice(0, columns.length);
    const wrong = columns.findIndex((c, i) => c !== expected[i]);
    if (wrong >= 0) {
      throw new SyntaxError(
        `${at} has column '${columns[wrong]}' out of place (column ${wrong + 1} must be '${
          expected[wrong]
        }')`,
      );
    }
  }
  return columns;
}

/**
 * Checks parsed rows: required columns present (an empty string counts as missing), a known
 * status and dtype (`DTYPES`), the measurements of an `ok` bench row present, and every number
 * within its column's range.
 *
 * @param rows Records by column name.
 * @param kind Which table.
 * @param source The file name for the message.
 * @throws {SyntaxError} `<source> is corrupt: row N …` naming the column and the value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRows } from "./validate.ts";
 * const row = { model: "m", dtype: "q4", device: "cpu", method: "hf", status: "ok",
 *   git_commit: "abc", ppl: -3 };
 * assert.throws(() => checkRows([row], "perplexity", "p.csv"), /column 'ppl'.*-3/);
 * ```
 */
export function checkRows(
  rows: readonly Record<string, unknown>[],
  kind: TableKind,
  source: string,
): void {
  const required = REQUIRED_FIELDS[kind];
  const ranges = FIELD_RANGES[kind];
  for (const [i, row] of rows.entries()) {
    const at = `${source} is corrupt: row ${i + 1}`;
    const missing = required.find((f) => row[f] === null || row[f] === undefined || row[f] === "");
    if (missing) throw new SyntaxError(`${at} has no '${missing}' (a cut or hand-edited row)`);
    const status = row.status;
    if (status !== "ok" && status !== "error" && status !== "skipped") {
      throw new SyntaxError(`${at} has status ${JSON.stringify(status)}`);
    }
    if (!(DTYPES as readonly unknown[]).includes(row.dtype)) {
      throw new SyntaxError(
        `${at}: column 'dtype' is ${JSON.stringify(row.dtype)}, not a known dtype (${
          DTYPES.join(", ")
        })`,
      );
    }
    if (kind === "bench" && status === "ok") checkOkBenchRow(row, at);
    for (const [field, [min, max, kindOf]] of Object.entries(ranges)) {
      const value = row[field];
      if (value === null || value === undefined) continue;
      const n = typeof value === "bigint" ? Number(value) : value;
      if (
        typeof n !== "number" || !Number.isFinite(n) || n < min || n > max ||
        (kindOf === "int" && !Number.isInteger(n))
      ) {
        throw new SyntaxError(
          `${at}: column '${field}' must be ${
            kindOf === "int" ? "an integer" : "a number"
          } in [${min}, ${max}], got ${String(value)}`,
        );
      }
    }
  }
}

/** An `ok` bench row has its timings; a rate is absent only when no token was decoded. */
function checkOkBenchRow(row: Record<string, unknown>, at: string): void {
  const blank = (f: string) => row[f] === null || row[f] === undefined || row[f] === "";
  const needed = ["new_tokens", "prefill_ms", "total_ms"];
  const newTokens = Number(row.new_tokens);
  const decodeMs = Number(row.decode_ms);
  // generate() leaves the rate null only when at most one token was made or no time was taken.
  if (newTokens > 1) needed.push("decode_ms");
  if (newTokens > 1 && !(decodeMs === 0)) needed.push("decode_tokens_per_s");
  const missing = needed.find(blank);
  if (missing !== undefined) {
    throw new SyntaxError(
      `${at} is 'ok' but column '${missing}' is blank (a measured row has it; cut or hand-edited?)`,
    );
  }
}
