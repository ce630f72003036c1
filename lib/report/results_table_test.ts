import pl from "nodejs-polars";
import { assert, assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import { BENCH_FIELDS, PERPLEXITY_FIELDS } from "../results/schema.ts";
import { syntheticPerplexityCsv, syntheticResultsCsv, syntheticRows } from "./_fixture.ts";
import { parsePerplexityCsv, parseResultsCsv, readResultsCsv } from "./results_table.ts";

Deno.test("parseResultsCsv() types numbers as Float64, use_cache as Boolean, in BENCH_FIELDS order", () => {
  const df = parseResultsCsv(syntheticResultsCsv());
  assertEquals(df.columns, [...BENCH_FIELDS]);
  assertEquals(df.height, syntheticRows().length);
  const types = Object.fromEntries(df.columns.map((c, i) => [c, String(df.dtypes[i])]));
  assertEquals(types.prefill_ms, "DataType(Float64)");
  assertEquals(types.peak_vram_bytes, "DataType(Float64)");
  assertEquals(types.use_cache, "DataType(Bool)");
  assertEquals(types.model, "DataType(String)");
  const first = df.toRecords()[0]!;
  assertEquals(first.use_cache, true);
  assertEquals(first.peak_vram_bytes, null);
});

Deno.test("parseResultsCsv() accepts any column order and names an extra column", () => {
  const raw = pl.readCSV(syntheticResultsCsv(), { inferSchemaLength: 0 });
  const reversed = raw.select(...[...BENCH_FIELDS].reverse());
  const df = parseResultsCsv(reversed.writeCSV().toString());
  assertEquals(df.columns, [...BENCH_FIELDS]);
  assertEquals(df.height, raw.height);
  const extra = reversed.withColumns(pl.lit("x").alias("extra")).writeCSV().toString();
  assertThrows(() => parseResultsCsv(extra, "r.csv"), SyntaxError, "unknown column 'extra'");
});

Deno.test("parseResultsCsv() names the missing column", () => {
  const text = syntheticResultsCsv().replace("decode_tokens_per_s", "tokens_per_second");
  assertThrows(
    () => parseResultsCsv(text, "r.csv"),
    SyntaxError,
    "its header has no column 'decode_tokens_per_s'",
  );
});

Deno.test("parseResultsCsv() names a non-numeric value and its column", () => {
  const lines = syntheticResultsCsv().split("\n");
  const header = lines[0]!.split(",");
  const cells = lines[1]!.split(",");
  // The first data line has no quoted commas before context_tokens.
  cells[header.indexOf("context_tokens")] = "long";
  const text = [lines[0], cells.join(","), ...lines.slice(2)].join("\n");
  assertThrows(
    () => parseResultsCsv(text),
    SyntaxError,
    `column 'context_tokens' must be numeric, got "long"`,
  );
});

Deno.test("parseResultsCsv() rejects a use_cache that is not true/false", () => {
  const text = syntheticResultsCsv().replace(",true,", ",yes,");
  assertThrows(
    () => parseResultsCsv(text),
    SyntaxError,
    `'use_cache' must be true or false, got "yes"`,
  );
});

Deno.test("parseResultsCsv() rejects an empty file", () => {
  assertThrows(() => parseResultsCsv("  \n"), SyntaxError, "the file is empty");
});

Deno.test("readResultsCsv() of a missing file says which path", async () => {
  await assertRejects(
    () => readResultsCsv("/nonexistent/results.csv"),
    Deno.errors.NotFound,
    "'/nonexistent/results.csv' does not exist",
  );
});

Deno.test("parsePerplexityCsv() types the quality columns", () => {
  const df = parsePerplexityCsv(syntheticPerplexityCsv());
  assertEquals(df.columns, [...PERPLEXITY_FIELDS]);
  const q4 = df.toRecords().find((r) => r.dtype === "q4")!;
  assertEquals(q4.delta_ppl_pct, 3.5);
  assert(typeof q4.ppl === "number");
});

Deno.test("parseResultsCsv() reads a file written before kv_mode and kv_cache_bytes, with them empty", () => {
  const fields = BENCH_FIELDS.filter((f) => f !== "kv_mode" && f !== "kv_cache_bytes");
  const df = parseResultsCsv(fields.join(",") + "\n");
  assertEquals(df.columns, [...BENCH_FIELDS]);
  assertEquals(df.height, 0);
});
