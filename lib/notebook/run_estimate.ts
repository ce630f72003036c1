/**
 * How long "Run all" takes with the notebook's parameters: the sweep's own estimate (a short probe
 * of the first model), said in one sentence for the notebook's first cell, with how to switch to
 * quick mode.
 *
 * @module
 */
import { runSweep } from "../sweep/orchestrator.ts";
import { formatDuration } from "../measure/progress.ts";
import { relative } from "node:path";
import { DEFAULT_SPEC, type NotebookParams, notebookSpec, PROJECT_ROOT } from "./session.ts";

/** What {@linkcode estimateRun} found. */
export interface RunEstimate {
  /** Seconds the sweep is estimated to take, or null (no probe, nothing to run, loading). */
  seconds: number | null;
  /** Cells the grid has, and how many are already complete. */
  cells: number;
  /** Cells already complete in the output folder (a rerun resumes). */
  complete: number;
  /** One Markdown paragraph for the notebook's first cell. */
  markdown: string;
}

/**
 * How long running the notebook takes with these parameters: the sweep's own estimate (a short
 * probe of the first model, `runSweep` with `dryRun`), or a note that results are loaded.
 *
 * @param params Notebook parameters.
 * @returns Seconds, cell counts and a sentence saying it, with how to switch to quick mode.
 */
export async function estimateRun(params: NotebookParams): Promise<RunEstimate> {
  const quickHow = params.quick
    ? "Quick mode is on (`TURBO_QUICK=1`: the tiny model, two short prompts, one run): " +
      "it checks that everything works, its numbers mean little. Its runs go to their own " +
      "folders, never mixed with a full run's."
    : "For a quick look (a tiny model, about a minute) uncomment " +
      '`Deno.env.set("TURBO_QUICK", "1")` above and rerun, or start Jupyter with ' +
      "`TURBO_QUICK=1 make jupyter`.";
  if (params.results) {
    return {
      seconds: null,
      cells: 0,
      complete: 0,
      markdown:
        `**Run all** loads \`${relative(PROJECT_ROOT, params.results)}\` (\`TURBO_RESULTS\`) ` +
        `and measures only the ` +
        `live demo's two cells. ${quickHow}`,
    };
  }
  const spec = notebookSpec(params);
  const summary = await runSweep(spec, {
    outDir: params.outDir,
    dryRun: true,
    log: () => {},
    workerStderr: () => {}, // the probe's warnings would land as stderr boxes in the first cell
  });
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  const what = params.spec === null
    ? "the quick grid"
    : `\`${params.spec}\`${params.spec === DEFAULT_SPEC ? " (what `make sweep` runs)" : ""}`;
  const changed = Object.keys(params.overrides);
  const rounds = spec.min_rounds === spec.max_rounds
    ? count(spec.min_rounds, "round")
    : `${spec.min_rounds}–${spec.max_rounds} rounds`;
  // What one repetition is: decoded for a time floor (up to the token cap), or a fixed count.
  const rep = spec.min_rep_seconds > 0
    ? `decoding ≥ ${spec.min_rep_seconds} s (up to ${params.maxNewTokens} new tokens)`
    : `of ${params.maxNewTokens} new tokens`;
  const grid = `${params.model}, ${count(params.dtypes.length, "dtype")} × ` +
    `${count(params.lengths.length, "length")} × cache on/off, ${
      count(params.warmup, "warmup")
    } + ` +
    `${rounds} of ${count(params.runs, "repetition")} per arm ${rep}` +
    (changed.length > 0 ? `; changed by the environment: ${changed.join(", ")}` : "");
  const folder = relative(PROJECT_ROOT, params.outDir) || ".";
  const left = summary.cellsTotal - summary.cellsSkipped;
  const time = left === 0
    ? `takes seconds: all ${summary.cellsTotal} cells are already measured in \`${folder}\``
    : summary.estimateS === null
    ? `runs ${left} cells (no estimate: the probe failed)`
    : `takes ${
      summary.estimateS < 5 ? "**a few seconds**" : `about **${formatDuration(summary.estimateS)}**`
    } on this machine (the sweep's own estimate from a short probe) for ${left} cells`;
  const where = params.resume
    ? `It resumes \`${folder}\` (\`TURBO_OUT\`): ${summary.cellsSkipped} of ` +
      `${summary.cellsTotal} cells there are kept.`
    : `It writes a fresh folder, \`${folder}\` (set \`TURBO_OUT\` to an earlier run's folder ` +
      `to resume it instead).`;
  return {
    seconds: summary.estimateS,
    cells: summary.cellsTotal,
    complete: summary.cellsSkipped,
    markdown:
      `**Run all** with these parameters runs ${what} (${grid}) and ${time}; then the live ` +
      `demo (one dtype at one length, cache on and off) and one conversation, which the ` +
      `estimate leaves out. ${where} ${quickHow}`,
  };
}
