/**
 * `deno task figures [--results benchmarks/results.csv] [--perplexity benchmarks/perplexity.csv]
 * [--out .]`: rebuilds `benchmarks/summary.csv` and every figure (`.vl.json`, `.svg`, `.png`) from
 * the CSVs alone.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { runCli } from "./_cli.ts";
import { reportCommand } from "./report.ts";

if (import.meta.main) {
  await runCli(() => reportCommand(Deno.args, "figures"));
}
