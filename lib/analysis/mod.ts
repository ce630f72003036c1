/**
 * The one analysis layer: every statistic a report, figure, notebook table, dashboard or CLI
 * prints about decode speed comes from here. A cell's rate is pooled over its repetitions with an
 * interval from rounds (`cellRate`); two arms are compared round by round (`compare`); a block's
 * arms are judged against its baseline and its A/A control (`analyzeBlock`, `blockSettled`);
 * arms that speed up with context are flagged (`contextDrift`); the ΔPPL budget has one rule
 * (`withinPplBudget`). lib/measure/stats.ts stays the primitive summary of raw samples.
 *
 * @module
 */
export * from "./student_t.ts";
export * from "./cell.ts";
export * from "./compare.ts";
export * from "./block.ts";
export * from "./drift.ts";
export * from "./quality.ts";
export * from "./arms.ts";
export * from "./memory.ts";
export * from "./samples.ts";
