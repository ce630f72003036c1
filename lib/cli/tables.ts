/**
 * `deno task tables [--check]`: rewrites the generated blocks of README.md and docs/*.md (results
 * tables, the report's answers) from `metrics/final_report.json` and `metrics/report.md`; with
 * `--check`, writes nothing and exits 1 naming each file whose blocks are out of date.
 *
 * @module
 */
import { parseFlags, runCli, writeTextAtomic } from "./_cli.ts";
import { documentPaths, fillBlocks, readSources, RENDERERS } from "../docs/tables.ts";

const USAGE = `Usage: deno task tables [--check]

Rewrites the blocks between <!-- generated:NAME --> and <!-- /generated --> in README.md and
docs/*.md from metrics/final_report.json and metrics/report.md (run it after 'make sweep' or
'deno task report'). --check writes nothing and exits 1 when a block is out of date.`;

/**
 * Runs the command.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function tablesCommand(args: readonly string[]): Promise<number> {
  const { values } = parseFlags(args, { check: { type: "boolean", default: false } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sources = await readSources();
  let stale = 0;
  for (const path of await documentPaths()) {
    const text = await Deno.readTextFile(path);
    const next = fillBlocks(text, RENDERERS, sources);
    if (next === text) continue;
    if (values.check) {
      console.error(`${path}: generated blocks are out of date (run ./deno task tables)`);
      stale++;
    } else {
      await writeTextAtomic(path, next);
      console.log(path);
    }
  }
  return stale > 0 ? 1 : 0;
}

if (import.meta.main) {
  await runCli(() => tablesCommand(Deno.args));
}
