/**
 * `deno task report [--results benchmarks/results.csv] [--perplexity benchmarks/perplexity.csv]
 * [--out .]`: rebuilds the summary, the figures and `metrics/final_report.json`, `report.md`,
 * `report.html` from the CSVs alone. `lib/cli/figures.ts` runs the same command with
 * `parts: "figures"`.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { dirname, join } from "node:path";
import { checkOutDir, parseFlags, runCli } from "./_cli.ts";
import { writeAllOutputs } from "../report/mod.ts";

/** Without `--perplexity`: the `perplexity.csv` beside `--results` (never the cwd's). */
const PERPLEXITY_BESIDE = "perplexity.csv";

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
    "no-perplexity": { type: "boolean", default: false },
    out: { type: "string", default: "." },
  });
  if (values.help) {
    console.log(
      `usage: deno task ${parts === "all" ? "report" : "figures"} [--results PATH] ` +
        `[--perplexity PATH | --no-perplexity] [--out DIR]\n` +
        `  --results        results CSV (default benchmarks/results.csv)\n` +
        `  --perplexity     perplexity CSV (default: ${PERPLEXITY_BESIDE} beside --results, when\n` +
        `                   it exists)\n` +
        `  --no-perplexity  leave perplexity out even when ${PERPLEXITY_BESIDE} is beside --results\n` +
        `  --out            output root for benchmarks/, figures/, metrics/ (default .)`,
    );
    return;
  }
  if (values.perplexity !== undefined && values["no-perplexity"]) {
    throw new TypeError("'--perplexity' and '--no-perplexity' are both given; keep one");
  }
  await checkOutDir(values.out, "--out");
  await checkHasRows(values.results, "--results");
  let perplexityCsv: string | null = values.perplexity ?? null;
  let note: string | null = null;
  if (perplexityCsv === null && !values["no-perplexity"]) {
    // Beside the given results, so `--results OTHER.csv` never picks up the cwd's perplexity.
    const beside = join(dirname(values.results), PERPLEXITY_BESIDE);
    if (await exists(beside)) perplexityCsv = beside;
    else note = `note: ${beside} not found; no perplexity in the outputs`;
  }
  // A run that fails leaves no --out directory it created (an empty one reads as a result).
  const created = !await exists(values.out);
  const { files } = await writeAllOutputs({
    resultsCsv: values.results,
    perplexityCsv,
    outDir: values.out,
    parts,
  }).catch(async (error) => {
    if (created) await Deno.remove(values.out).catch(() => {});
    throw error;
  });
  if (note !== null) console.error(note);
  for (const file of files) console.log(file);
}

/** A results CSV with a header and no row has nothing to report: refused before any output. */
async function checkHasRows(path: string, flag: string): Promise<void> {
  const text = await Deno.readTextFile(path).catch(() => null);
  if (text === null || text.includes("\u0000")) return; // the reader names these
  if (text.trim() !== "" && !text.trim().includes("\n")) {
    throw new Error(`'${flag}' ${path} has no rows (only its header): nothing to report`);
  }
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
