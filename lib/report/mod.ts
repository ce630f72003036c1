/**
 * From the sweep's CSVs to every deliverable: typed readers, the polars summary, Vega-Lite figure
 * specs and their one rendering step, the final report (JSON, Markdown, HTML) and notebook display
 * helpers.
 *
 * @module
 */
export * from "./results_table.ts";
export * from "./summary.ts";
export * from "./report_data.ts";
export * from "./comparison_table.ts";
export * from "./font_metrics.ts";
export * from "./render.ts";
export * from "./prefill_vs_decode.ts";
export * from "./tokens_per_s_vs_length.ts";
export * from "./latency_vs_context.ts";
export * from "./memory_footprint.ts";
export * from "./ppl_degradation.ts";
export * from "./throughput_vs_batch.ts";
export * from "./batch_scaling.ts";
export * from "./summary_table.ts";
export * from "./figures.ts";
export * from "./final_report.ts";
export * from "./report_document.ts";
export * from "./display.ts";
export * from "./ratio_words.ts";
export * from "./write_all_outputs.ts";
export * from "./verdicts.ts";
