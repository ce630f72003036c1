/**
 * The sweep's perplexity step (run inside a worker): evaluate the spec's dtypes on WikiText-2 and
 * turn the report into `perplexity.csv` rows. No text available → rows with `status = skipped`
 * and the one-line reason; the sweep goes on.
 *
 * @module
 */
import { evaluatePerplexity } from "../eval/perplexity_report.ts";
import type { PerplexityRow } from "../results/schema.ts";
import type { WorkerJob } from "./protocol.ts";

/**
 * Runs the perplexity evaluation of a worker job.
 *
 * @param job A `ppl` job.
 * @returns One row per dtype (the baseline included).
 */
export async function sweepPerplexityRows(job: WorkerJob): Promise<PerplexityRow[]> {
  const p = job.spec.perplexity!;
  const timestamp = new Date().toISOString();
  const base = {
    timestamp,
    model: job.model,
    device: job.device,
    method: p.method,
    window: p.window,
    stride: p.stride,
    max_tokens: p.max_tokens,
    git_commit: job.provenance.gitCommit,
  };
  const failed = (status: "error" | "skipped", reason: string): PerplexityRow[] =>
    p.dtypes.map((dtype) => ({
      ...base,
      dtype,
      execution_provider: "",
      scored_tokens: null,
      ppl: null,
      stderr: null,
      bits_per_byte: null,
      baseline: "",
      delta_ppl_pct: null,
      kl: null,
      top1_agreement: null,
      seconds: null,
      tokens_per_s: null,
      status,
      error: reason,
    }));
  try {
    const report = await evaluatePerplexity({
      model: job.model,
      dtypes: p.dtypes,
      device: job.device,
      split: p.split,
      window: p.window,
      stride: p.stride,
      maxTokens: p.max_tokens,
      method: p.method,
      batch: p.batch,
      threads: job.spec.threads,
      onProgress: (line) => Deno.stderr.writeSync(new TextEncoder().encode(line)),
    });
    return report.results.map((r) => ({
      ...base,
      dtype: r.dtype,
      execution_provider: r.execution_provider,
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
    }));
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    const noText = /WIKITEXT_PATH|--wikitext/.test(reason);
    return failed(noText ? "skipped" : "error", reason);
  }
}
