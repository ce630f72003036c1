/**
 * Synthetic results for the tests of lib/report (private; never re-exported): a deterministic
 * grid with noise from a seeded generator, a few failed runs, and perplexity rows.
 *
 * @module
 */
import { toFrame } from "../results/table.ts";
import type { BenchRow, PerplexityRow } from "../results/schema.ts";

/** Options of {@linkcode syntheticResults}. */
export interface FixtureOptions {
  /** Models in the grid. @default ["preset:tiny"] */
  models?: string[];
  /** Dtypes in the grid. @default ["fp32", "fp16", "q8", "q4"] */
  dtypes?: string[];
  /** Context lengths. @default [128, 512, 2048] */
  contexts?: number[];
  /** Measured runs per cell. @default 3 */
  runs?: number;
  /** Peak VRAM bytes present. @default false */
  vram?: boolean;
  /** Relative speed per dtype, overriding the defaults (fp32 1 … q4f16 2.8). */
  speed?: Record<string, number>;
  /** Weight memory per dtype in GB, overriding the defaults (fp32 4 … q4f16 0.5). */
  memory?: Record<string, number>;
  /**
   * Rows as written before rounds existed (no `round`, `block`, `replica`). Otherwise every
   * measured run of a cell is its own round of the cell's block. @default false
   */
  legacy?: boolean;
  /** Add an A/A control (a second worker of fp16 with the cache on) to every block. @default false */
  aa?: boolean;
}

const SPEED: Record<string, number> = { fp32: 1, fp16: 1.4, q8: 2, q4: 2.6, q4f16: 2.8 };
const MEMORY: Record<string, number> = { fp32: 4, fp16: 2, q8: 1, q4: 0.6, q4f16: 0.5 };

/** Builds synthetic `BenchRow`s: cache on is faster than off, speed grows as precision drops. */
export function syntheticRows(options: FixtureOptions = {}): BenchRow[] {
  const models = options.models ?? ["preset:tiny"];
  const dtypes = options.dtypes ?? ["fp32", "fp16", "q8", "q4"];
  const contexts = options.contexts ?? [128, 512, 2048];
  const runs = options.runs ?? 3;
  let seed = 42;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return 0.9 + 0.2 * (seed / 2147483648);
  };
  const rows: BenchRow[] = [];
  for (const model of models) {
    for (const dtype of dtypes) {
      for (const useCache of [true, false]) {
        for (const context of contexts) {
          const cell = `${model}|${dtype}|cpu|${useCache}|${context}|conversational|1`;
          const replicas = options.aa && dtype === "fp16" && useCache ? [0, 1] : [0];
          for (let run = 0; run < runs; run++) {
            for (const replica of replicas) {
              const speed = options.speed?.[dtype] ?? SPEED[dtype] ?? 1;
              const prefill = (context / 4) / speed * noise();
              const perToken = useCache
                ? 20 / speed * noise()
                : (20 + context / 8) / speed * noise();
              const newTokens = 16;
              const decode = perToken * (newTokens - 1);
              const rss = (options.memory?.[dtype] ?? MEMORY[dtype] ?? 1) * 1e9 +
                context * 1e5 * (useCache ? 2 : 1);
              rows.push({
                run_id: `${cell}#0#${run}`,
                cell_id: cell,
                timestamp: "2026-11-23T10:00:00Z",
                model,
                dtype,
                device: "cpu",
                execution_provider: "CPUExecutionProvider",
                nodes_off_provider: 0,
                logits_positions: "last",
                use_cache: useCache,
                batch: 1,
                context_tokens: context,
                family: "conversational",
                prompt_id: 0,
                run_index: run,
                new_tokens: newTokens,
                prefill_ms: prefill,
                decode_ms: decode,
                decode_tokens_per_s: (newTokens - 1) / decode * 1000,
                token_p50_ms: perToken,
                token_p95_ms: perToken * 1.2,
                total_ms: prefill + decode,
                peak_rss_bytes: Math.round(rss * noise()),
                peak_vram_bytes: options.vram ? Math.round(rss * 0.8) : null,
                status: "ok",
                error: "",
                git_commit: "abc1234",
                deno_version: "2.9.6",
                ort_version: "1.30.0",
                transformers_version: "4.3.1",
                device_name: "Synthetic CPU, 2 cores",
                ...(options.legacy ? {} : {
                  round: run + 1,
                  round_position: 0,
                  replica,
                  block: `${model}|cpu|${context}|b1|conversational`,
                }),
                ...(replica === 1 ? { cell_id: `${cell}~aa`, run_id: `${cell}~aa#0#${run}` } : {}),
              });
            }
          }
        }
      }
    }
    // One failed cell with two failed runs, and one with a single failure.
    for (
      const [i, reason] of [[0, "out of memory, allocating 4 GiB"], [
        1,
        "out of memory, allocating 4 GiB",
      ]] as const
    ) {
      rows.push(failedRow(model, `${model}|q4f16|cpu|true|2048|code|1`, i, reason));
    }
    rows.push(failedRow(model, `${model}|fp16|cpu|false|4096|code|1`, 0, "context too long"));
  }
  return rows;
}

function failedRow(model: string, cell: string, run: number, reason: string): BenchRow {
  const [, dtype = "", , cache = "true", context = "0"] = cell.split("|");
  return {
    run_id: `${cell}#0#${run}`,
    cell_id: cell,
    timestamp: "2026-11-23T10:00:00Z",
    model,
    dtype,
    device: "cpu",
    execution_provider: "",
    nodes_off_provider: null,
    logits_positions: "",
    use_cache: cache === "true",
    batch: 1,
    context_tokens: Number(context),
    family: "code",
    prompt_id: 0,
    run_index: run,
    new_tokens: 16,
    prefill_ms: null,
    decode_ms: null,
    decode_tokens_per_s: null,
    token_p50_ms: null,
    token_p95_ms: null,
    total_ms: null,
    peak_rss_bytes: null,
    peak_vram_bytes: null,
    status: "error",
    error: reason,
    git_commit: "abc1234",
    deno_version: "2.9.6",
    ort_version: "1.30.0",
    transformers_version: "4.3.1",
    device_name: "Synthetic CPU, 2 cores",
  };
}

/** Builds synthetic perplexity rows (fp32 baseline; q4 at +3.5 % unless `q4Delta` says else). */
export function syntheticPerplexity(
  models: string[] = ["preset:tiny"],
  q4Delta = 3.5,
): PerplexityRow[] {
  const rows: PerplexityRow[] = [];
  for (const model of models) {
    const base = 12;
    const deltas: [string, number, number, number][] = [
      ["fp32", 0, 0, 100],
      ["fp16", 0.1, 0.0004, 99.8],
      ["q8", 1.2, 0.01, 97.5],
      ["q4", q4Delta, 0.05, 92.1],
    ];
    for (const [dtype, delta, kl, top1] of deltas) {
      rows.push({
        timestamp: "2026-11-23T11:00:00Z",
        model,
        dtype,
        device: "cpu",
        execution_provider: "CPUExecutionProvider",
        method: "hf",
        window: 512,
        stride: 256,
        max_tokens: 4096,
        scored_tokens: 4000,
        ppl: base * (1 + delta / 100),
        stderr: 0.1,
        bits_per_byte: 1.1,
        baseline: "fp32",
        delta_ppl_pct: delta,
        kl,
        top1_agreement: top1,
        seconds: 10,
        tokens_per_s: 400,
        status: "ok",
        error: "",
        git_commit: "abc1234",
      });
    }
  }
  return rows;
}

/** The synthetic results as CSV text, written by the sweep's own writer (`toFrame`). */
export function syntheticResultsCsv(options: FixtureOptions = {}): string {
  return toFrame("bench", syntheticRows(options)).writeCSV().toString();
}

/** The synthetic perplexity rows as CSV text, written by the sweep's own writer. */
export function syntheticPerplexityCsv(models?: string[], q4Delta?: number): string {
  return toFrame("perplexity", syntheticPerplexity(models, q4Delta)).writeCSV().toString();
}
