/**
 * What the notebooks call: parameters read from environment variables (so a headless run can set
 * them), one function that runs a quick grid through the sweep (or loads an existing results.csv)
 * and returns everything to display, and Markdown displays whose numbers come from the results.
 * The notebooks stay thin: every decision is here, tested.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Device, type Dtype, isDevice, parseDtypes } from "../dtypes.ts";
import {
  buildFigures,
  type BuiltFigure,
  type ComparisonTable,
  comparisonTable,
  type FinalReport,
  finalReport,
  JUPYTER_DISPLAY,
  loadReportData,
  type ReportData,
  reportMarkdown,
  writeAllOutputs,
} from "../report/mod.ts";
import { parseSweepSpec, type SweepSpec } from "../sweep/spec.ts";
import { runSweep } from "../sweep/orchestrator.ts";
import type { Displayable } from "../report/display.ts";
import { randomWeightModels } from "../report/verdicts.ts";

/** The project root (where `benchmarks/` of the reference run lives). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Notebook parameters. Each field has an environment variable, named in brackets. */
export interface NotebookParams {
  /** Quick mode: tiny preset, two lengths, one run [TURBO_QUICK=1]. */
  quick: boolean;
  /** Model reference [TURBO_MODEL]. @default preset:tiny (quick) or preset:small */
  model: string;
  /** Dtypes [TURBO_DTYPES, comma-separated]. @default fp32,fp16,q8,q4 */
  dtypes: Dtype[];
  /** Prompt lengths [TURBO_LENGTHS]. @default 32,64 (quick) or 128,256,512,1024,2048 */
  lengths: number[];
  /** Measured runs per prompt [TURBO_RUNS]. @default 1 (quick) or 3 */
  runs: number;
  /** Warmup runs per cell [TURBO_WARMUP]. @default 1 */
  warmup: number;
  /** New tokens per run [TURBO_NEW_TOKENS]. @default 4 (quick) or 16 */
  maxNewTokens: number;
  /** Device [TURBO_DEVICE]. @default cpu */
  device: Device;
  /** Load this results.csv instead of running [TURBO_RESULTS]. @default none */
  results: string | null;
  /** Output root of a notebook run [TURBO_OUT]. @default .cache/notebook-run */
  outDir: string;
}

/**
 * Reads the notebook parameters from an environment.
 *
 * @param env Variables (default: the process environment).
 * @returns The parameters.
 * @throws {RangeError} naming the variable for a bad value.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notebookParams } from "./session.ts";
 * const p = notebookParams({ TURBO_QUICK: "1", TURBO_DTYPES: "fp32,q4" });
 * assert(p.model === "preset:tiny" && p.dtypes.join() === "fp32,q4");
 * ```
 */
export function notebookParams(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): NotebookParams {
  const quick = env.TURBO_QUICK === "1" || env.TURBO_QUICK === "true";
  const ints = (name: string, fallback: number[]) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    return raw.split(",").map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n <= 0) {
        throw new RangeError(`${name} must be positive integers, got ${JSON.stringify(raw)}`);
      }
      return n;
    });
  };
  const device = env.TURBO_DEVICE ?? "cpu";
  if (!isDevice(device)) {
    throw new RangeError(`TURBO_DEVICE must be cpu, cuda or webgpu, got ${JSON.stringify(device)}`);
  }
  return {
    quick,
    model: env.TURBO_MODEL || (quick ? "preset:tiny" : "preset:small"),
    dtypes: parseDtypes(env.TURBO_DTYPES || "fp32,fp16,q8,q4", "TURBO_DTYPES"),
    lengths: ints("TURBO_LENGTHS", quick ? [32, 64] : [128, 256, 512, 1024, 2048]),
    runs: ints("TURBO_RUNS", [quick ? 1 : 3])[0]!,
    warmup: env.TURBO_WARMUP === "0" ? 0 : ints("TURBO_WARMUP", [1])[0]!,
    maxNewTokens: ints("TURBO_NEW_TOKENS", [quick ? 4 : 16])[0]!,
    device,
    results: env.TURBO_RESULTS || null,
    outDir: env.TURBO_OUT || join(PROJECT_ROOT, ".cache", "notebook-run"),
  };
}

/**
 * The sweep spec a notebook run uses: the parameters' grid, both cache modes, one prompt per
 * length, perplexity on a capped WikiText-2 sample when `WIKITEXT_PATH` is set.
 *
 * @param params Notebook parameters.
 * @returns A validated spec.
 */
export function notebookSpec(params: NotebookParams): SweepSpec {
  const window = params.quick ? 64 : 256;
  return parseSweepSpec({
    name: params.quick ? "notebook-quick" : "notebook",
    models: [params.model],
    dtypes: params.dtypes,
    devices: [params.device],
    use_cache: [true, false],
    context_lengths: params.lengths,
    prompts_per_length: 1,
    max_new_tokens: params.maxNewTokens,
    warmup: params.warmup,
    runs: params.runs,
    perplexity: {
      dtypes: params.dtypes,
      window,
      stride: window / 2,
      max_tokens: params.quick ? 512 : 2048,
    },
  }, "notebook parameters");
}

/** Everything a notebook displays. */
export interface NotebookResults {
  /** `ran` (a sweep now) or `loaded` (an existing results.csv). */
  source: "ran" | "loaded";
  /** The results.csv read. */
  resultsCsv: string;
  /** Output root holding benchmarks/, figures/, metrics/. */
  outDir: string;
  /** Report tables. */
  data: ReportData;
  /** final_report.json's content. */
  report: FinalReport;
  /** The comparison table. */
  table: ComparisonTable;
  /** Rendered figures (specs, SVG, PNG). */
  figures: BuiltFigure[];
}

/**
 * Runs the notebook's grid through the sweep (resumable; results in `params.outDir`), or loads
 * `params.results`, and prepares everything to display.
 *
 * @param params Notebook parameters.
 * @param options `force` reruns finished cells; `spec` overrides the grid (the live demo).
 * @returns Tables, report, comparison table and figures.
 */
export async function runOrLoad(
  params: NotebookParams,
  options: { force?: boolean; spec?: SweepSpec } = {},
): Promise<NotebookResults> {
  let resultsCsv: string;
  let outDir: string;
  let source: NotebookResults["source"];
  if (params.results && !options.spec) {
    resultsCsv = params.results;
    outDir = join(resultsCsv, "..", "..");
    source = "loaded";
  } else {
    outDir = params.outDir;
    await runSweep(options.spec ?? notebookSpec(params), {
      outDir,
      force: options.force ?? false,
      skipProbe: true,
      log: (line) => console.error(line),
    });
    resultsCsv = join(outDir, "benchmarks", "results.csv");
    source = "ran";
  }
  const perplexityCsv = join(resultsCsv, "..", "perplexity.csv");
  const hasPpl = await Deno.stat(perplexityCsv).then(() => true, () => false);
  const data = await loadReportData({ resultsCsv, perplexityCsv: hasPpl ? perplexityCsv : null });
  const figures = await buildFigures(data);
  return {
    source,
    resultsCsv,
    outDir,
    data,
    report: finalReport(data),
    table: comparisonTable(data),
    figures,
  };
}

/**
 * Writes a notebook run's deliverables (summary, figures, metrics) next to its results.
 *
 * @param results From {@linkcode runOrLoad}.
 * @returns The files written.
 */
export async function saveOutputs(results: NotebookResults): Promise<string[]> {
  const perplexityCsv = join(results.resultsCsv, "..", "perplexity.csv");
  const hasPpl = await Deno.stat(perplexityCsv).then(() => true, () => false);
  const out = await writeAllOutputs({
    resultsCsv: results.resultsCsv,
    perplexityCsv: hasPpl ? perplexityCsv : null,
    outDir: results.outDir,
  });
  return out.files;
}

/**
 * A Markdown display (`text/markdown` + `text/plain`).
 *
 * @param text Markdown.
 * @returns A displayable object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownDisplay } from "./session.ts";
 * import { JUPYTER_DISPLAY } from "../report/display.ts";
 * assert(markdownDisplay("**hi**")[JUPYTER_DISPLAY]()["text/markdown"] === "**hi**");
 * ```
 */
export function markdownDisplay(text: string): Displayable {
  const bundle = { "text/markdown": text, "text/plain": text };
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/**
 * The section of the written report whose heading starts with `heading` (e.g. `"1."` for the KV
 * cache question), as a Markdown display; the numbers in it come from the results.
 *
 * @param results From {@linkcode runOrLoad}.
 * @param heading Start of the section heading: `"1."`, `"2."`, `"3."`, `"Environment"`, ….
 * @returns The section (every setup's, when several models ran), or a note that it is absent.
 */
export function reportSection(results: NotebookResults, heading: string): Displayable {
  const md = reportMarkdown({
    data: results.data,
    report: results.report,
    table: results.table,
    figures: [],
  });
  const sections = md.split(/\n(?=#{2,3} )/);
  const picked = sections.filter((s) => s.replace(/^#+ /, "").startsWith(heading));
  return markdownDisplay(
    picked.length > 0 ? picked.join("\n\n") : `_No section “${heading}” in this run's report._`,
  );
}

/**
 * One of the run's figures as a display: the Vega-Lite v5 spec (interactive in JupyterLab) with
 * its SVG and PNG renderings as fallbacks.
 *
 * @param results From {@linkcode runOrLoad}.
 * @param stem Figure stem, e.g. `figures/tokens_per_s_vs_length` (see `FIGURES`).
 * @returns A displayable object.
 * @throws {RangeError} naming the known stems for an unknown one.
 */
export function figureDisplay(results: NotebookResults, stem: string): Displayable {
  const figure = results.figures.find((f) => f.stem === stem);
  if (!figure) {
    throw new RangeError(
      `unknown figure '${stem}' (known: ${results.figures.map((f) => f.stem).join(", ")})`,
    );
  }
  const bundle = {
    "application/vnd.vegalite.v5+json": figure.spec,
    "image/svg+xml": figure.svg,
    "image/png": Buffer.from(figure.png).toString("base64"),
  };
  return { [JUPYTER_DISPLAY]: () => bundle };
}

/**
 * The perplexity rows of the run as a Markdown table (PPL, ΔPPL, KL, top-1 per dtype).
 *
 * @param results From {@linkcode runOrLoad}.
 * @returns A Markdown display (a note when no perplexity was measured).
 */
export function perplexityDisplay(results: NotebookResults): Displayable {
  const rows = results.data.perplexity;
  if (rows.length === 0) {
    return markdownDisplay(
      "_No perplexity measured (set WIKITEXT_PATH to a WikiText-2 text file to measure it)._",
    );
  }
  const num = (v: number | null, digits: number) => v === null ? "–" : v.toFixed(digits);
  const random = randomWeightModels(results.data);
  const lines = [
    ...(random.length > 0
      ? [
        `**Random weights** (${random.join(", ")}): this perplexity measures agreement between ` +
        `dtypes, not language quality, so the report gives no quality verdict for it.`,
        "",
      ]
      : []),
    "| model | dtype | PPL | ± | ΔPPL % | KL (nats) | top-1 % | scored tokens | tokens/s |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.model} | ${r.dtype} | ${num(r.ppl, 3)} | ${num(r.stderr, 3)} | ${
        num(r.delta_ppl_pct, 2)
      } | ${num(r.kl, 5)} | ${num(r.top1_agreement, 1)} | ${r.scored_tokens ?? "–"} | ${
        num(r.tokens_per_s, 0)
      } |`
    ),
  ];
  return markdownDisplay(lines.join("\n"));
}
