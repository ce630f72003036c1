/**
 * What the notebooks call: parameters read from environment variables (so a headless run can set
 * them), one function that runs a quick grid through the sweep (or loads an existing results.csv)
 * and returns everything to display, and Markdown displays whose numbers come from the results.
 * The notebooks stay thin: every decision is here, tested.
 *
 * @module
 */
import { join, resolve } from "node:path";
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

/** The project root (where `sweeps/`, `models/` and the reference run's `benchmarks/` live). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The spec file a notebook run follows outside quick mode (what `make sweep` runs). */
export const DEFAULT_SPEC = "sweeps/default.json";

/** Notebook parameters. Each field has an environment variable, named in brackets. */
export interface NotebookParams {
  /** Quick mode: tiny preset, two lengths, one run [TURBO_QUICK=1]. */
  quick: boolean;
  /**
   * The sweep spec file, relative to the project root [TURBO_SPEC]; null in quick mode.
   * @default sweeps/default.json (what `make sweep` runs)
   */
  spec: string | null;
  /** Model reference [TURBO_MODEL]. @default preset:tiny (quick), else the spec's first */
  model: string;
  /** Dtypes [TURBO_DTYPES, comma-separated]. @default fp32,fp16,q8,q4 (quick), else the spec's */
  dtypes: Dtype[];
  /** Prompt lengths [TURBO_LENGTHS]. @default 32,64 (quick), else the spec's */
  lengths: number[];
  /** Measured runs per prompt [TURBO_RUNS]. @default 1 (quick), else the spec's */
  runs: number;
  /** Warmup runs per cell [TURBO_WARMUP]. @default 1 (quick), else the spec's */
  warmup: number;
  /** New tokens per run with the cache [TURBO_NEW_TOKENS]. @default 4 (quick), else the spec's */
  maxNewTokens: number;
  /** Device [TURBO_DEVICE]. @default the spec's first (quick: cpu) */
  device: Device;
  /** Load this results.csv instead of running [TURBO_RESULTS]. @default none */
  results: string | null;
  /**
   * Output folder of this run [TURBO_OUT]: a fresh `notebooks/run/<time>-<spec name>` per
   * parameters cell, so a run never merges with an earlier one; an earlier run's folder resumes it.
   */
  outDir: string;
  /** Whether `outDir` was given (TURBO_OUT): finished cells there are kept, the run resumes. */
  resume: boolean;
  /** Spec fields the environment overrides (applied on top of the spec file). */
  overrides: Record<string, unknown>;
}

/** The quick grid: the tiny preset, two short prompts, one run (checks that everything works). */
const QUICK_SPEC = {
  name: "notebook-quick",
  models: ["preset:tiny"],
  dtypes: ["fp32", "fp16", "q8", "q4"],
  devices: ["cpu"],
  use_cache: [true, false],
  context_lengths: [32, 64],
  prompts_per_length: 1,
  runs: 1,
  warmup: 1,
  max_new_tokens: 4,
  perplexity: { window: 64, stride: 32, max_tokens: 512 },
};

/** A spec file's JSON (relative paths from the project root), not yet validated. */
function readSpecJson(path: string): Record<string, unknown> {
  const file = resolve(PROJECT_ROOT, path);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    throw new TypeError(`TURBO_SPEC: cannot read sweep spec '${path}' (from ${PROJECT_ROOT})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`TURBO_SPEC: invalid JSON in '${path}': ${(error as Error).message}`);
  }
}

/** `2026-12-07T03-53-51`: a run folder's time stamp (UTC, sortable, no colons). */
function runStamp(now: Date): string {
  return now.toISOString().slice(0, 19).replaceAll(":", "-");
}

/**
 * Reads the notebook parameters from an environment. Outside quick mode the grid is the spec
 * file's (`sweeps/default.json`, as `make sweep`), with only the variables that are set applied
 * on top; relative paths resolve from the project root, whatever the kernel's directory.
 *
 * @param env Variables (default: the process environment).
 * @param now The time naming a fresh run folder. @default now
 * @returns The parameters.
 * @throws {RangeError} naming the variable for a bad value; `TypeError` for an unreadable spec.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { notebookParams } from "./session.ts";
 * const p = notebookParams({ TURBO_QUICK: "1", TURBO_DTYPES: "fp32,q4" });
 * assert(p.model === "preset:tiny" && p.dtypes.join() === "fp32,q4");
 * assert(p.outDir.includes("notebooks/run/") && p.outDir.endsWith("-quick") && !p.resume);
 * ```
 */
export function notebookParams(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  now: Date = new Date(),
): NotebookParams {
  const quick = env.TURBO_QUICK === "1" || env.TURBO_QUICK === "true";
  const set = (name: string) => env[name] !== undefined && env[name] !== "";
  const ints = (name: string): number[] =>
    env[name]!.split(",").map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n <= 0) {
        throw new RangeError(`${name} must be positive integers, got ${JSON.stringify(env[name])}`);
      }
      return n;
    });
  const specPath = quick ? null : (env.TURBO_SPEC || DEFAULT_SPEC);
  const base = specPath === null ? QUICK_SPEC : readSpecJson(specPath);
  const overrides: Record<string, unknown> = {};
  if (set("TURBO_MODEL")) overrides.models = [env.TURBO_MODEL];
  if (set("TURBO_DTYPES")) overrides.dtypes = parseDtypes(env.TURBO_DTYPES!, "TURBO_DTYPES");
  if (set("TURBO_LENGTHS")) overrides.context_lengths = ints("TURBO_LENGTHS");
  if (set("TURBO_RUNS")) overrides.runs = ints("TURBO_RUNS")[0];
  if (env.TURBO_WARMUP === "0") overrides.warmup = 0;
  else if (set("TURBO_WARMUP")) overrides.warmup = ints("TURBO_WARMUP")[0];
  if (set("TURBO_NEW_TOKENS")) overrides.max_new_tokens = ints("TURBO_NEW_TOKENS")[0];
  if (set("TURBO_DEVICE")) {
    if (!isDevice(env.TURBO_DEVICE!)) {
      throw new RangeError(
        `TURBO_DEVICE must be cpu, cuda or webgpu, got ${JSON.stringify(env.TURBO_DEVICE)}`,
      );
    }
    overrides.devices = [env.TURBO_DEVICE];
  }
  const grid = { ...base, ...overrides } as {
    name?: string;
    models: string[];
    dtypes: string[];
    devices?: string[];
    context_lengths: number[];
    runs: number;
    warmup: number;
    max_new_tokens: number;
  };
  const device = grid.devices?.[0] ?? "cpu";
  if (!isDevice(device)) throw new RangeError(`${specPath}: unknown device '${device}'`);
  const name = quick ? "quick" : String(grid.name ?? "run").replace(/[^\w.-]+/g, "-");
  return {
    quick,
    spec: specPath,
    model: grid.models[0]!,
    dtypes: parseDtypes(grid.dtypes.join(","), specPath ?? "quick grid"),
    lengths: grid.context_lengths,
    runs: grid.runs,
    warmup: grid.warmup,
    maxNewTokens: grid.max_new_tokens,
    device,
    results: env.TURBO_RESULTS ? resolve(PROJECT_ROOT, env.TURBO_RESULTS) : null,
    outDir: set("TURBO_OUT")
      ? resolve(PROJECT_ROOT, env.TURBO_OUT!)
      : join(PROJECT_ROOT, "notebooks", "run", `${runStamp(now)}-${name}`),
    resume: set("TURBO_OUT"),
    overrides,
  };
}

/**
 * The sweep spec a notebook run uses: the spec file (`sweeps/default.json`, as `make sweep`) with
 * the environment's overrides on top (perplexity keeps the spec's window and sample, limited to
 * the chosen dtypes), or the quick grid.
 *
 * @param params Notebook parameters.
 * @returns A validated spec.
 * @throws {TypeError} naming the spec file and the field for an invalid one.
 */
export function notebookSpec(params: NotebookParams): SweepSpec {
  const base: Record<string, unknown> = params.spec === null
    ? { ...QUICK_SPEC, perplexity: { ...QUICK_SPEC.perplexity, dtypes: params.dtypes } }
    : readSpecJson(params.spec);
  const spec: Record<string, unknown> = { ...base, ...params.overrides };
  const ppl = base.perplexity as { dtypes?: string[] } | null | undefined;
  if (ppl && params.overrides.dtypes) {
    const chosen = params.overrides.dtypes as string[];
    const dtypes = (ppl.dtypes ?? chosen).filter((d) => chosen.includes(d));
    spec.perplexity = dtypes.length > 0 ? { ...ppl, dtypes } : null;
  }
  // A baseline the chosen dtypes leave out falls back to the sweep's default (fp16, else the
  // first dtype), as in a spec that names none.
  const chosen = params.overrides.dtypes as string[] | undefined;
  if (chosen && typeof spec.baseline_dtype === "string" && !chosen.includes(spec.baseline_dtype)) {
    delete spec.baseline_dtype;
  }
  return parseSweepSpec(spec, params.spec ?? "the quick grid");
}

/** The folder the notebook's kernel started in (its links are relative to it). */
let notebookDir: string | null = null;

/**
 * Makes relative paths resolve as in `make sweep`: changes the working directory to the project
 * root (a Jupyter kernel starts in `notebooks/`), remembering the notebook's folder for links.
 *
 * @returns The project root.
 */
export function atProjectRoot(): string {
  notebookDir ??= Deno.cwd();
  Deno.chdir(PROJECT_ROOT);
  return PROJECT_ROOT;
}

/**
 * The notebook's own folder: where the kernel started before {@linkcode atProjectRoot}, else the
 * working directory.
 *
 * @returns An absolute path.
 */
export function notebookFolder(): string {
  return notebookDir ?? Deno.cwd();
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
 * Runs the notebook's spec through the sweep orchestrator, as `make sweep` does (pre-flight, probe,
 * cells, perplexity, then the same report files in `params.outDir`), or loads `params.results`,
 * and prepares everything to display from those results with the report's own functions.
 *
 * @param params Notebook parameters.
 * @param options `force` reruns finished cells; `spec` overrides the grid (the live demo, run in
 * `<outDir>/demo` so it never replaces the main run's results);
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
    // The live demo runs in a folder of its own: a forced sweep replaces its output folder's
    // whole result set, which must never be the main run's.
    outDir = options.spec ? join(params.outDir, "demo") : params.outDir;
    const progress = options.progress;
    const decoder = new TextDecoder();
    try {
      await runSweep(options.spec ?? notebookSpec(params), {
        outDir,
        force: options.force ?? false,
        // The main run probes as `make sweep` does (its ETA weighs cells by cost); the live
        // demo's two cells need no estimate.
        skipProbe: options.spec !== undefined,
        specSource: options.spec ? "the live demo" : (params.spec ?? "the quick grid"),
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
