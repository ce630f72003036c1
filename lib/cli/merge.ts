/**
 * `deno task merge DIR... [--out merged] [--config SPEC] [--no-outputs]` — merges the outputs of
 * a sharded sweep (`deno task sweep --shard I/N`) into one `results.csv`/`perplexity.csv`,
 * rebuilds summary, figures and reports, and writes `benchmarks/merge.json`. A cell in two shard
 * outputs, or rows of another spec, is an error naming them; cells no shard has are listed.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { parseArgs } from "node:util";
import { checkOutDir, runCli } from "./_cli.ts";
import { loadSweepSpec } from "../sweep/spec.ts";
import { planMerge, readShardOutput } from "../sweep/merge.ts";
import { writeMerged } from "../sweep/merge_write.ts";

const HELP = `Usage: deno task merge DIR... [--out merged] [--config SPEC] [--no-outputs]

Merges shard outputs (each a sweep's --out directory, holding benchmarks/results.csv) into
<out>/benchmarks/results.csv and perplexity.csv, rebuilds summary, figures and reports under
<out>, and writes <out>/benchmarks/merge.json (shards, hosts, cells per shard, missing cells).
The spec comes from the shards' benchmarks/shard.json, or --config. Fails, writing nothing,
when a cell is in two shard outputs or rows were measured under another spec.`;

if (import.meta.main) {
  await runCli(async () => {
    let parsed;
    try {
      parsed = parseArgs({
        args: Deno.args,
        options: {
          out: { type: "string", default: "merged" },
          config: { type: "string" },
          "no-outputs": { type: "boolean", default: false },
          verbose: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
        strict: true,
        allowPositionals: true,
      });
    } catch (error) {
      throw new TypeError((error as Error).message.split("\n")[0]!);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      console.log(HELP);
      return;
    }
    if (positionals.length === 0) throw new TypeError("merge: give at least one shard directory");
    await checkOutDir(values.out!, "--out");
    const spec = values.config ? await loadSweepSpec(values.config) : null;
    const outputs = [];
    for (const dir of positionals) outputs.push(await readShardOutput(dir));
    const plan = planMerge(outputs, spec);
    const files = await writeMerged(plan, {
      outDir: values.out!,
      skipOutputs: values["no-outputs"]!,
    });
    const cells = new Set(plan.rows.map((r) => r.cell_id)).size;
    console.error(
      `merged ${outputs.length} shard outputs of '${plan.spec.name}' (spec ${plan.specHash}): ` +
        `${cells} cells, ${plan.rows.length} rows, ${plan.perplexity.length} perplexity rows; ` +
        `${plan.failedCells.length} failed, ${plan.missingCells.length} missing`,
    );
    for (const id of plan.missingCells) console.error(`  missing: ${id}`);
    for (const m of plan.missingPerplexity) console.error(`  missing perplexity: ${m}`);
    for (const file of files) console.log(`  ${file}`);
  });
}
