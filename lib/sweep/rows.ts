/**
 * Rows the sweep records for cells that fail as a whole.
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import type { Cell } from "./grid.ts";
import type { Provenance } from "./protocol.ts";

/**
 * The single row recorded for a cell that failed as a whole.
 *
 * @param cell The cell.
 * @param reason One line saying why.
 * @param provenance Row provenance.
 * @returns A row with `status = "error"`.
 */
export function errorRow(cell: Cell, reason: string, provenance: Provenance): BenchRow {
  return {
    run_id: `${cell.id}#error`,
    cell_id: cell.id,
    timestamp: new Date().toISOString(),
    model: cell.model,
    dtype: cell.dtype,
    device: cell.device,
    execution_provider: "",
    nodes_off_provider: null,
    logits_positions: "",
    use_cache: cell.useCache,
    batch: cell.batch,
    context_tokens: cell.contextTokens,
    family: "",
    prompt_id: 0,
    run_index: 0,
    new_tokens: 0,
    prefill_ms: null,
    decode_ms: null,
    decode_tokens_per_s: null,
    decode_tokens_per_s_per_seq: null,
    token_p50_ms: null,
    token_p95_ms: null,
    total_ms: null,
    peak_rss_bytes: null,
    peak_vram_bytes: null,
    status: "error",
    error: reason.split("\n")[0]!.slice(0, 500),
    git_commit: provenance.gitCommit,
    deno_version: provenance.denoVersion,
    ort_version: provenance.ortVersion,
    transformers_version: provenance.transformersVersion,
    device_name: cell.device === "cpu" ? provenance.cpuName : provenance.gpuName ?? "",
    quantization: "",
  };
}
