/**
 * The run's outputs that come from files beside `results.csv` rather than from its summary:
 * the telemetry figure (`telemetry.csv`), and the warnings, tokens per joule and pre-flight
 * verdicts (`preflight.json`) that go into `final_report.json` and `report.md`.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { readTable } from "../results/table.ts";
import { readTelemetry } from "../results/telemetry_table.ts";
import type { BuiltFigure } from "./figures.ts";
import { renderSpec } from "./render.ts";
import {
  type EnergyEntry,
  healthMarkdown,
  type PreflightSummary,
  runWarnings,
  tokensPerJouleBySetup,
} from "./run_health.ts";
import { telemetryFigure } from "./telemetry_figure.ts";

/** Stem of the telemetry figure. */
export const TELEMETRY_FIGURE_STEM = "figures/telemetry_over_time";

/**
 * The telemetry figure of the run whose `results.csv` is given, when a `telemetry.csv` with
 * samples lies beside it (none: no figure).
 *
 * @param resultsCsv Path of `results.csv`.
 * @returns Zero or one figure.
 */
export async function telemetryFigures(resultsCsv: string): Promise<BuiltFigure[]> {
  const path = join(dirname(resultsCsv), "telemetry.csv");
  const rows = await readTelemetry(path).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  });
  if (rows.length === 0) return [];
  const spec = telemetryFigure(
    rows,
    "Hardware telemetry over each cell's measured runs (cells laid end to end)",
  );
  return [{ stem: TELEMETRY_FIGURE_STEM, spec, ...(await renderSpec(spec)) }];
}

/** What {@linkcode runHealth} adds to the report. */
export interface RunHealth {
  /** Keys added to `final_report.json`: `warnings`, `tokens_per_joule`, `preflight`. */
  json: {
    warnings: string[];
    tokens_per_joule: EnergyEntry[];
    preflight: PreflightSummary | null;
  };
  /** The "Warnings" and "Energy" sections of `report.md`. */
  markdown: string;
}

/**
 * Reads the rows and `preflight.json` beside `results.csv` and derives the warnings and energy.
 *
 * @param resultsCsv Path of `results.csv`.
 * @returns JSON keys and Markdown sections.
 */
export async function runHealth(resultsCsv: string): Promise<RunHealth> {
  const rows = await readTable(resultsCsv, "bench", { anyOrder: true });
  let preflight: PreflightSummary | null = null;
  try {
    const value = JSON.parse(
      await Deno.readTextFile(join(dirname(resultsCsv), "preflight.json")),
    ) as PreflightSummary;
    if (Array.isArray(value.checks)) preflight = value;
  } catch {
    preflight = null; // a run without a pre-flight (bench outputs, older runs)
  }
  const warnings = runWarnings(rows, preflight);
  const energy = tokensPerJouleBySetup(rows);
  return {
    json: { warnings, tokens_per_joule: energy, preflight },
    markdown: healthMarkdown(warnings, energy),
  };
}
