/**
 * Figure: perplexity change (ΔPPL %) against the baseline per dtype, with a rule at the 5 %
 * budget; says "no perplexity measured" when there is none, and says so in its subtitle when a
 * model's weights are random (its ΔPPL is agreement between dtypes, not language quality).
 *
 * @module
 */
import { CONFIG, dtypeColor, emptyFigure, PANEL, SCHEMA, title } from "./_figure.ts";
import { compareDtypes, displayLabel, setupsOf } from "./_util.ts";
import type { ReportData } from "./report_data.ts";
import { randomWeightModels } from "./verdicts.ts";
import type { VegaLiteSpec } from "./render.ts";
import { DELTA_PPL_BUDGET_PCT, withinPplBudget } from "../analysis/mod.ts";

/** The ΔPPL budget the brief sets for 4-bit, percent (one rule: lib/analysis/quality.ts). */
export { DELTA_PPL_BUDGET_PCT };

/**
 * Vega-Lite spec of ΔPPL % per dtype with a rule at 5 % (`figures/ppl_degradation`).
 *
 * @param data From `reportData` / `loadReportData`.
 * @returns The spec, data inline.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseResultsCsv, pplDegradationSpec, reportData } from "./mod.ts";
 * import { BENCH_FIELDS } from "../results/schema.ts";
 * const spec = pplDegradationSpec(reportData(parseResultsCsv(BENCH_FIELDS.join(",") + "\n"), null));
 * assert(JSON.stringify(spec).includes("no perplexity measured"));
 * ```
 */
export function pplDegradationSpec(data: ReportData): VegaLiteSpec {
  const heading = "Perplexity degradation by dtype";
  const setups = setupsOf(data.perplexity.map((p) => ({ model: p.model, device: "" })));
  const values = data.perplexity
    .filter((p) => p.delta_ppl_pct !== null)
    .toSorted((a, b) => compareDtypes(a.dtype, b.dtype))
    .map((p) => ({
      setup: p.model,
      dtype: p.dtype,
      dtype_label: displayLabel(p.dtype),
      delta_ppl_pct: p.delta_ppl_pct,
      ppl: p.ppl,
      baseline: p.baseline,
      within_budget: withinPplBudget(p.delta_ppl_pct) === true,
    }));
  if (values.length === 0) {
    const issue = data.perplexityIssues[0];
    return emptyFigure(
      heading,
      "no perplexity measured",
      issue ? `${issue.status}: ${issue.reason}` : undefined,
    );
  }
  const baselines = [...new Set(values.map((v) => v.baseline))].join(", ");
  const random = randomWeightModels(data);
  const color = dtypeColor(values.map((v) => v.dtype));
  const inner = {
    layer: [
      {
        mark: { type: "bar", width: { band: 0.7 } },
        encoding: {
          x: {
            field: "dtype_label",
            type: "nominal",
            title: "dtype",
            sort: color.scale.domain,
            // Long labels ("4bit-gptq (q4gptq)") side by side overlapped: slanted, they fit.
            axis: { labelAngle: -30, labelAlign: "right", labelBaseline: "middle" },
          },
          y: { field: "delta_ppl_pct", type: "quantitative", title: `ΔPPL vs ${baselines}, %` },
          // The axis names every bar: a colour legend would only repeat it.
          color: { ...color, legend: null },
          tooltip: [
            { field: "dtype_label", title: "dtype" },
            { field: "ppl", format: ".3f" },
            { field: "delta_ppl_pct", title: "ΔPPL %", format: ".2f" },
          ],
        },
      },
      {
        mark: { type: "text", dy: -8, fontSize: 11 },
        encoding: {
          x: { field: "dtype_label", type: "nominal", sort: color.scale.domain },
          y: { field: "delta_ppl_pct", type: "quantitative" },
          text: { field: "delta_ppl_pct", type: "quantitative", format: "+.2f" },
        },
      },
      {
        data: { values: [{ budget: DELTA_PPL_BUDGET_PCT }] },
        mark: { type: "rule", color: "#c0392b", strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { field: "budget", type: "quantitative" } },
      },
      {
        data: {
          values: [{ budget: DELTA_PPL_BUDGET_PCT, text: `${DELTA_PPL_BUDGET_PCT} % budget` }],
        },
        mark: {
          type: "text",
          align: "right",
          dy: -7,
          x: "width",
          dx: -4,
          color: "#c0392b",
          fontSize: 11,
        },
        encoding: { y: { field: "budget", type: "quantitative" }, text: { field: "text" } },
      },
    ],
  };
  const top = {
    $schema: SCHEMA,
    title: title(
      heading,
      `perplexity change against ${baselines}; the dashed line is the ${DELTA_PPL_BUDGET_PCT} % budget` +
        (random.length > 0
          ? `; RANDOM WEIGHTS (${
            random.join(", ")
          }): agreement between dtypes, not language quality`
          : ""),
    ),
    config: CONFIG,
  };
  if (setups.length > 1) {
    return {
      ...top,
      hconcat: setups.map((s) => ({
        title: s.model,
        data: { values: values.filter((v) => v.setup === s.model) },
        ...inner,
        width: PANEL.width,
        height: PANEL.height,
      })),
    } as unknown as VegaLiteSpec;
  }
  return { ...top, data: { values }, ...inner, ...PANEL } as unknown as VegaLiteSpec;
}
