/**
 * What the notebooks call: parameters read from environment variables (so a headless run can set
 * them), one function that runs a quick grid through the sweep (or loads an existing results.csv)
 * and returns everything to display, and Markdown displays whose numbers come from the results.
 * The notebooks stay thin: every decision is here, tested.
 *
 * @module
 */
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
  loadReportData,
  type ReportData,
  writeAllOutputs,
} from "../report/mod.ts";
import { parseSweepSpec, type SweepSpec } from "../sweep/spec.ts";
import { runSweep } from "../sweep/orchestrator.ts";
import type { SweepProgress } from "./progress_display.ts";

/** The project root (where `benchmarks/` of the reference run lives). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Notebook parameters. Each field has an environment variable, named in brackets. */
export interface NotebookParams {
  /** Quick mode: tiny preset, two lengths, one run [TURBO_QUICK=1]. */
  quick: boolean;
  /** Model reference [TURBO_MODEL]. @default preset:tiny (quick), else the default sweep's */
  model: string;
  /** Dtypes [TURBO_DTYPES, comma-separated]. @default fp32,fp16,q8,q4 (quick), else the default sweep's */
  dtypes: Dtype[];
  /** Prompt lengths [TURBO_LENGTHS]. @default 32,64 (quick), else the default sweep's */
  lengths: number[];
  /** Measured runs per prompt [TURBO_RUNS]. @default 1 (quick), else the default sweep's */
  runs: number;
  /** Warmup runs per cell [TURBO_WARMUP]. @default 1 (quick), else the default sweep's */
  warmup: number;
  /** New tokens per run [TURBO_NEW_TOKENS]. @default 4 (quick), else the default sweep's */
  maxNewTokens: number;
  /** Device [TURBO_DEVICE]. @default cpu */
  device: Device;
  /** Load this results.csv instead of running [TURBO_RESULTS]. @default none */
  results: string | null;
  /** Output root of a notebook run [TURBO_OUT]. @default notebooks/run (served by Jupyter) */
  outDir: string;
}

/** The grid of `sweeps/default.json`, the notebook's defaults outside quick mode. */
function defaultSweep(): {
  models: string[];
  dtypes: string[];
  context_lengths: number[];
  runs: number;
  warmup: number;
  max_new_tokens: number;
} {
  return JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "sweeps", "default.json")));
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
  const base = quick
    ? {
      models: ["preset:tiny"],
      dtypes: ["fp32", "fp16", "q8", "q4"],
      context_lengths: [32, 64],
      runs: 1,
      warmup: 1,
      max_new_tokens: 4,
    }
    : defaultSweep();
  return {
    quick,
    model: env.TURBO_MODEL || base.models[0]!,
    dtypes: parseDtypes(env.TURBO_DTYPES || base.dtypes.join(","), "TURBO_DTYPES"),
    lengths: ints("TURBO_LENGTHS", base.context_lengths),
    runs: ints("TURBO_RUNS", [base.runs])[0]!,
    warmup: env.TURBO_WARMUP === "0" ? 0 : ints("TURBO_WARMUP", [base.warmup])[0]!,
    maxNewTokens: ints("TURBO_NEW_TOKENS", [base.max_new_tokens])[0]!,
    device,
    results: env.TURBO_RESULTS || null,
    outDir: env.TURBO_OUT || join(PROJECT_ROOT, "notebooks", "run"),
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
 * @param options `force` reruns finished cells; `spec` overrides the grid (the live demo);
 * `progress` receives the sweep's log and the workers' stderr (a notebook's in-place display)
 * instead of this process's stderr.
 * @returns Tables, report, comparison table and figures.
 */
export async function runOrLoad(
  params: NotebookParams,
  options: { force?: boolean; spec?: SweepSpec; progress?: SweepProgress } = {},
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
    const progress = options.progress;
    const decoder = new TextDecoder();
    try {
      await runSweep(options.spec ?? notebookSpec(params), {
        outDir,
        force: options.force ?? false,
        skipProbe: true,
        log: progress ? (line) => progress.log(line) : (line) => console.error(line),
        ...(progress
          ? { workerStderr: (chunk: Uint8Array) => progress.worker(decoder.decode(chunk)) }
          : {}),
      });
    } finally {
      await progress?.close();
    }
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
