/**
 * The sweep's perplexity pass: one worker per model runs every perplexity dtype; a worker that
 * dies or times out becomes one error row per dtype with the reason.
 *
 * @module
 */
import type { PerplexityRow } from "../results/schema.ts";
import type { Provenance } from "./protocol.ts";
import type { SweepSpec } from "./spec.ts";
import { exitReason, spawnWorker, type WorkerOptions } from "./worker_process.ts";

/**
 * Runs the perplexity of one model over the spec's perplexity dtypes.
 *
 * @param spec A spec with `perplexity` set.
 * @param model Model reference.
 * @param provenance Row provenance.
 * @param log Progress sink.
 * @param workers Worker environment and stderr sink.
 * @returns One row per dtype.
 */
export async function runPerplexity(
  spec: SweepSpec,
  model: string,
  provenance: Provenance,
  log: (line: string) => void,
  workers: WorkerOptions = {},
): Promise<PerplexityRow[]> {
  const p = spec.perplexity!;
  const worker = await spawnWorker(
    {
      mode: "ppl",
      spec,
      model,
      dtype: p.dtypes[0]!,
      device: spec.devices[0]!,
      cells: [],
      provenance,
      deadlineMs: null,
    },
    // Each dtype is a bounded piece of work: the timeout grows with their number.
    { ...workers, timeoutMs: spec.cell_timeout_s * 1000 * (p.dtypes.length + 1) },
  );
  let rows: PerplexityRow[] = [];
  for await (const message of worker.messages) {
    if (message.type === "ppl") rows = message.rows;
  }
  const status = await worker.status;
  if (rows.length > 0) return rows;
  const reason = worker.timedOut()
    ? `timeout: perplexity ran longer than ${p.dtypes.length + 1} × ` +
      `cell_timeout_s=${spec.cell_timeout_s}`
    : `perplexity ${exitReason(status, worker.lastStderr())}`;
  log(`  ${reason}`);
  return p.dtypes.map((dtype) => ({
    timestamp: new Date().toISOString(),
    model,
    dtype,
    device: spec.devices[0]!,
    execution_provider: "",
    method: p.method,
    window: p.window,
    stride: p.stride,
    max_tokens: p.max_tokens,
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
    status: "error" as const,
    error: reason.slice(0, 500),
    git_commit: provenance.gitCommit,
  }));
}

/**
 * Whether `rows` already hold an ok measurement of every perplexity dtype of `model` with the
 * spec's method, window, stride and token cap (then the pass skips the model).
 *
 * @param rows Existing perplexity rows.
 * @param spec A spec with `perplexity` set.
 * @param model Model reference.
 * @returns Whether the model's perplexity is complete.
 */
export function perplexityComplete(
  rows: readonly PerplexityRow[],
  spec: SweepSpec,
  model: string,
): boolean {
  const p = spec.perplexity!;
  return p.dtypes.every((dtype) =>
    rows.some((r) =>
      r.model === model && r.dtype === dtype && r.status === "ok" && r.method === p.method &&
      r.window === p.window && r.stride === p.stride && r.max_tokens === p.max_tokens
    )
  );
}

/** Options of {@linkcode perplexityStep}. */
export interface PerplexityStepOptions {
  /** Models whose perplexity is not complete (the others are skipped). */
  pending: readonly string[];
  /** The run's perplexity rows: updated in place, a model's new rows replacing its old ones. */
  store: PerplexityRow[];
  /** No model starts past this (epoch ms), or null. */
  deadlineMs: number | null;
  /** Row provenance. */
  provenance: Provenance;
  /** Progress sink. */
  log: (line: string) => void;
  /** Worker environment and stderr sink. */
  workers: WorkerOptions;
  /** Columns stamped on each new row of a model (weights, shard, host, spec hash). */
  stamp: (model: string) => Partial<PerplexityRow>;
}

/**
 * The sweep's perplexity step: each pending model in turn, inside the budget.
 *
 * @param spec The sweep spec (with perplexity settings).
 * @param models The models of this run (or shard).
 * @param options Pending models, the row store, deadline, logging.
 * @returns Rows written, and models the budget left unmeasured.
 */
export async function perplexityStep(
  spec: SweepSpec,
  models: readonly string[],
  options: PerplexityStepOptions,
): Promise<{ rows: number; left: number }> {
  const { store, log } = options;
  let written = 0;
  let left = 0;
  for (const model of models) {
    if (!options.pending.includes(model)) {
      log(`perplexity of ${model}: complete, skipped`);
      continue;
    }
    if (options.deadlineMs !== null && Date.now() > options.deadlineMs) {
      left++;
      continue;
    }
    log(`perplexity of ${model}: ${spec.perplexity!.dtypes.join(", ")}`);
    const stamp = options.stamp(model);
    const rows = (await runPerplexity(spec, model, options.provenance, log, options.workers))
      .map((r) => ({ ...r, ...stamp, weights: r.weights || stamp.weights || "" }));
    written += rows.length;
    const keep = store.filter((r) => !(r.model === model && rows.some((n) => n.dtype === r.dtype)));
    store.splice(0, store.length, ...keep, ...rows);
    for (const r of rows) {
      log(
        `  ${r.dtype}: ${
          r.status === "ok" ? `ppl ${r.ppl?.toFixed(3)}` : `${r.status}: ${r.error}`
        }`,
      );
    }
  }
  return { rows: written, left };
}
