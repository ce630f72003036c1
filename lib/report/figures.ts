/**
 * The list of figures, each a file stem (what it plots) and a spec function, and the step that
 * writes `.vl.json`, `.svg` and `.png` for each.
 *
 * @module
 */
import { latencyVsContextSpec } from "./latency_vs_context.ts";
import { memoryFootprintSpec } from "./memory_footprint.ts";
import { pplDegradationSpec } from "./ppl_degradation.ts";
import { prefillVsDecodeSpec } from "./prefill_vs_decode.ts";
import { rooflineSkipReason, rooflineSpec } from "./roofline.ts";
import { type RenderedFigure, renderSpec, type VegaLiteSpec } from "./render.ts";
import type { ReportData } from "./report_data.ts";
import { summaryTableSpec } from "./summary_table.ts";
import { throughputVsBatchSkipReason, throughputVsBatchSpec } from "./throughput_vs_batch.ts";
import { tokensPerSVsLengthSpec } from "./tokens_per_s_vs_length.ts";

/** One figure: where it goes and how its spec is made. */
export interface FigureDefinition {
  /** Path stem relative to the output directory, without extension. */
  stem: string;
  /** The spec function. */
  spec: (data: ReportData) => VegaLiteSpec;
  /** Why the figure is not drawn for this data (no file is written), or null to draw it. */
  skip?: (data: ReportData) => string | null;
}

/** Every figure the project produces, in report order. */
export const FIGURES: readonly FigureDefinition[] = Object.freeze([
  { stem: "benchmarks/summary_table", spec: summaryTableSpec },
  { stem: "figures/prefill_vs_decode", spec: prefillVsDecodeSpec },
  { stem: "figures/tokens_per_s_vs_length", spec: tokensPerSVsLengthSpec },
  { stem: "benchmarks/latency_vs_context", spec: latencyVsContextSpec },
  { stem: "benchmarks/memory_footprint", spec: memoryFootprintSpec },
  { stem: "figures/ppl_degradation", spec: pplDegradationSpec },
  { stem: "figures/roofline", spec: rooflineSpec, skip: rooflineSkipReason },
  {
    stem: "figures/throughput_vs_batch",
    spec: throughputVsBatchSpec,
    skip: throughputVsBatchSkipReason,
  },
]);

/** A figure's spec and its rendering. */
export interface BuiltFigure extends RenderedFigure {
  /** Path stem relative to the output directory. */
  stem: string;
  /** The Vega-Lite spec (data inline). */
  spec: VegaLiteSpec;
}

/**
 * Builds and renders every figure in memory.
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns One entry per {@linkcode FIGURES} item, less those whose `skip` gives a reason
 * (`figures/throughput_vs_batch` with one batch size).
 * @example
 * ```ts ignore
 * import { buildFigures, loadReportData } from "./mod.ts";
 * const figures = await buildFigures(await loadReportData({ resultsCsv: "benchmarks/results.csv" }));
 * ```
 */
export async function buildFigures(data: ReportData): Promise<BuiltFigure[]> {
  const out: BuiltFigure[] = [];
  for (const figure of FIGURES) {
    if (figure.skip?.(data) != null) continue;
    const spec = figure.spec(data);
    out.push({ stem: figure.stem, spec, ...(await renderSpec(spec)) });
  }
  return out;
}

/**
 * Writes `<stem>.vl.json`, `<stem>.svg` and `<stem>.png` under `outDir` for each figure.
 *
 * @param figures From {@linkcode buildFigures}.
 * @param outDir The output root (the repository root by default in the CLIs).
 * @returns The paths written.
 * @example
 * ```ts ignore
 * import { buildFigures, loadReportData, writeFigures } from "./mod.ts";
 * const data = await loadReportData({ resultsCsv: "benchmarks/results.csv" });
 * console.log(await writeFigures(await buildFigures(data), "."));
 * ```
 */
export async function writeFigures(
  figures: readonly BuiltFigure[],
  outDir: string,
): Promise<string[]> {
  const files: string[] = [];
  for (const figure of figures) {
    const base = `${outDir}/${figure.stem}`;
    await Deno.mkdir(base.slice(0, base.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(`${base}.vl.json`, JSON.stringify(figure.spec, null, 2) + "\n");
    await Deno.writeTextFile(`${base}.svg`, figure.svg);
    await Deno.writeFile(`${base}.png`, figure.png);
    files.push(`${base}.vl.json`, `${base}.svg`, `${base}.png`);
  }
  return files;
}
