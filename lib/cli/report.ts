/**
 * `deno task report [--results benchmarks/results.csv] [--perplexity benchmarks/perplexity.csv]
 * [--out .]`: rebuilds the summary, the figures and `metrics/final_report.json`, `report.md`,
 * `report.html` from the CSVs alone. `lib/cli/figures.ts` runs the same command with
 * `parts: "figures"`.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { parseFlags, runCli } from "./_cli.ts";
import { writeAllOutputs } from "../report/mod.ts";

const DEFAULT_PERPLEXITY = "benchmarks/perplexity.csv";

/**
 * Runs the report (or figures) command on `args`; prints each written path on stdout.
 *
 * @param args Command-line arguments.
 * @param parts `all` (report) or `figures`.
 * @returns Nothing; throws a one-line error for bad flags or a missing/corrupt CSV.
 * @example
 * ```ts ignore
 * import { reportCommand } from "./report.ts";
 * await reportCommand(["--results", "benchmarks/results.csv"], "all");
 * ```
 */
export async function reportCommand(
  args: readonly string[],
  parts: "all" | "figures",
): Promise<void> {
  const { values } = parseFlags(args, {
    results: { type: "string", default: "benchmarks/results.csv" },
    perplexity: { type: "string" },
    out: { type: "string", default: "." },
  });
  if (values.help) {
    console.log(
      `usage: deno task ${parts === "all" ? "report" : "figures"} [--results PATH] ` +
        `[--perplexity PATH] [--out DIR]\n` +
        `  --results     results CSV (default benchmarks/results.csv)\n` +
        `  --perplexity  perplexity CSV (default ${DEFAULT_PERPLEXITY} when it exists)\n` +
        `  --out         output root for benchmarks/, figures/, metrics/ (default .)`,
    );
    return;
  }
  let perplexityCsv: string | null = values.perplexity ?? null;
  if (perplexityCsv === null) {
    if (await exists(DEFAULT_PERPLEXITY)) perplexityCsv = DEFAULT_PERPLEXITY;
    else console.error(`note: ${DEFAULT_PERPLEXITY} not found; no perplexity in the outputs`);
  }
  const { files } = await writeAllOutputs({
    resultsCsv: values.results,
    perplexityCsv,
    outDir: values.out,
    parts,
  });
  for (const file of files) console.log(file);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  await runCli(() => reportCommand(Deno.args, "all"));
}
