/**
 * The sweep's perplexity step (run inside a worker): the spec's perplexity settings →
 * `evaluatePerplexityRows` (which never throws: failures and a missing text come back as rows
 * with `status` error / skipped and the reason).
 *
 * @module
 */
import { evaluatePerplexityRows } from "../eval/perplexity_rows.ts";
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
  const rows = await evaluatePerplexityRows({
    model: job.model,
    dtypes: p.dtypes,
    device: job.device,
    split: p.split,
    window: p.window,
    stride: p.stride,
    maxTokens: p.max_tokens,
    method: p.method,
    batch: p.batch,
    pairwise: p.pairwise,
    threads: job.spec.threads,
    onProgress: (line) => Deno.stderr.writeSync(new TextEncoder().encode(line)),
  });
  return rows.map((row) => ({ ...row, git_commit: job.provenance.gitCommit }));
}
