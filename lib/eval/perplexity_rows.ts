/**
 * Perplexity results as `PerplexityRow`s (lib/results/schema.ts), the rows the sweep writes to
 * `benchmarks/perplexity.csv`.
 *
 * @module
 */
import type { PerplexityRow } from "../results/schema.ts";
import { gitCommit } from "../runtime/system_info.ts";
import {
  evaluatePerplexity,
  type EvaluatePerplexityOptions,
  type PerplexityReport,
} from "./perplexity_report.ts";
import { effectiveStride } from "./windows.ts";

/**
 * One row per result of a report.
 *
 * @param report A `ppl.json` report.
 * @param commit The project's git commit.
 * @returns The rows, in the report's order (the baseline first).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { perplexityRows } from "./perplexity_rows.ts";
 * const rows = perplexityRows({
 *   model: "preset:tiny", method: "hf", window: 8, stride: 4, max_tokens: null, baseline: "fp32",
 *   started_at: "2026-01-01T00:00:00.000Z", device: "cpu", text_tokens: 100,
 *   results: [{
 *     dtype: "fp32", ppl: 9.5, scored_tokens: 99, stderr: 0.1, bits_per_byte: 1.2,
 *     delta_ppl_pct: 0, kl: 0, top1_agreement: 100, seconds: 1, tokens_per_s: 99,
 *     execution_provider: "CPUExecutionProvider", status: "ok", error: "",
 *   }],
 * }, "unknown");
 * assert(rows[0]!.ppl === 9.5 && rows[0]!.baseline === "fp32");
 * ```
 */
export function perplexityRows(report: PerplexityReport, commit: string): PerplexityRow[] {
  return report.results.map((r) => ({
    timestamp: report.started_at,
    model: report.model,
    dtype: r.dtype,
    device: report.device,
    execution_provider: r.execution_provider,
    method: report.method,
    window: report.window,
    stride: report.stride,
    max_tokens: report.max_tokens,
    scored_tokens: r.scored_tokens,
    ppl: r.ppl,
    stderr: r.stderr,
    bits_per_byte: r.bits_per_byte,
    baseline: report.baseline,
    delta_ppl_pct: r.delta_ppl_pct,
    kl: r.kl,
    top1_agreement: r.top1_agreement,
    seconds: r.seconds,
    tokens_per_s: r.tokens_per_s,
    status: r.status,
    error: r.error,
    git_commit: commit,
  }));
}

/**
 * Runs {@linkcode evaluatePerplexity} and returns its rows. Never throws for a failure of the
 * evaluation itself: when the model or the text cannot be loaded, every dtype gets a row with
 * status `error` (`skipped` when no WikiText text is available) and the one-line reason (window
 * and stride as given, 0 when not given).
 *
 * @param options As for `evaluatePerplexity`.
 * @returns One row per evaluated dtype (the baseline, possibly added, first).
 * @example
 * ```ts ignore
 * import { evaluatePerplexityRows } from "./perplexity_rows.ts";
 * const rows = await evaluatePerplexityRows({
 *   model: "preset:small", dtypes: ["fp32", "q4"], maxTokens: 4096, window: 512,
 * });
 * console.table(rows);
 * ```
 */
export async function evaluatePerplexityRows(
  options: EvaluatePerplexityOptions,
): Promise<PerplexityRow[]> {
  const commit = await gitCommit();
  const timestamp = new Date().toISOString();
  try {
    return perplexityRows(await evaluatePerplexity(options), commit);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    const method = options.method ?? "hf";
    let stride = 0;
    if (options.window !== undefined) {
      try {
        stride = effectiveStride({
          window: options.window,
          method,
          ...(options.stride === undefined ? {} : { stride: options.stride }),
        });
      } catch {
        stride = options.stride ?? 0;
      }
    }
    return options.dtypes.map((dtype) => ({
      timestamp,
      model: options.model,
      dtype,
      device: options.device ?? "cpu",
      execution_provider: "",
      method,
      window: options.window ?? 0,
      stride,
      max_tokens: options.maxTokens ?? null,
      scored_tokens: null,
      ppl: null,
      stderr: null,
      bits_per_byte: null,
      baseline: options.baseline ?? "",
      delta_ppl_pct: null,
      kl: null,
      top1_agreement: null,
      seconds: null,
      tokens_per_s: null,
      status: /--wikitext|WIKITEXT_PATH/.test(message) ? "skipped" as const : "error" as const,
      error: message,
      git_commit: commit,
    }));
  }
}
