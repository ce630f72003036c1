/**
 * `deno task replicate [--times 2] [--command "make sweep"] [--report metrics/final_report.json]
 * [--out benchmarks/replicate.json] [--doc docs/measurement.md]` — runs the sweep several times in
 * a row and records whether its three answers (4-bit faster?, the sweet spot, the KV cache worth
 * it?) are the same every time: `benchmarks/replicate.json`, and the generated section of
 * docs/measurement.md. A benchmark, not a test: it takes as long as the sweeps.
 *
 * @module
 */
import { gitCommit } from "../runtime/system_info.ts";
import {
  agreement,
  answersOf,
  type ReplicateRun,
  type Replication,
  replicationMarkdown,
  spliceSection,
} from "../sweep/replicate.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const HELP = `Usage: deno task replicate [options]

Runs the sweep several times in a row and writes whether its three answers replicate.

  --times N        runs (default 2)
  --command CMD    the command of one run (default "make sweep")
  --report FILE    the final report each run writes (default metrics/final_report.json)
  --out FILE       the result (default benchmarks/replicate.json)
  --doc FILE       the document whose replicate section is regenerated (default
                   docs/measurement.md; --doc "" leaves documents alone)`;

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      times: { type: "string" },
      command: { type: "string", default: "make sweep" },
      report: { type: "string", default: "metrics/final_report.json" },
      out: { type: "string", default: "benchmarks/replicate.json" },
      doc: { type: "string", default: "docs/measurement.md" },
    });
    if (values.help) {
      console.log(HELP);
      return;
    }
    const times = intFlag(values.times, "--times", { min: 2, fallback: 2 });
    const runs: ReplicateRun[] = [];
    for (let i = 0; i < times; i++) {
      console.error(`replicate: run ${i + 1}/${times}: ${values.command}`);
      const started = performance.now();
      const status = await new Deno.Command("sh", {
        args: ["-c", values.command!],
        stdout: "inherit",
        stderr: "inherit",
      }).spawn().status;
      if (!status.success) {
        throw new Error(`run ${i + 1}: '${values.command}' exited with code ${status.code}`);
      }
      const seconds = (performance.now() - started) / 1000;
      const report = JSON.parse(await Deno.readTextFile(values.report!));
      runs.push({ seconds, ended: new Date().toISOString(), answers: answersOf(report) });
    }
    const result: Replication = {
      command: values.command!,
      git_commit: await gitCommit().catch(() => "unknown"),
      runs,
      agree: agreement(runs.map((r) => r.answers)),
    };
    await Deno.writeTextFile(values.out!, JSON.stringify(result, null, 2) + "\n");
    const markdown = replicationMarkdown(result);
    if (values.doc) {
      await Deno.writeTextFile(
        values.doc,
        spliceSection(await Deno.readTextFile(values.doc), markdown),
      );
    }
    console.log(markdown);
  });
}
