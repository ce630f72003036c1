/**
 * Perplexity on WikiText-2 and the quality of quantised dtypes against a baseline.
 *
 * @module
 */
export * from "./logits.ts";
export * from "./windows.ts";
export * from "./perplexity.ts";
export * from "./quality.ts";
export * from "./wikitext.ts";
export * from "./perplexity_report.ts";
export * from "./perplexity_rows.ts";
