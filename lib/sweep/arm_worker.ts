/**
 * One live arm of a block (worker mode `arm`): loads one model + dtype + device, warms up, says
 * `start`, then waits on stdin for the scheduler's commands — `turn` (run this arm's
 * repetitions of one round and report their rows) and `end` (report the arm's memory,
 * quantisation and telemetry, then exit). The process lives for the whole block, so its memory
 * is its own arm's and no other's.
 *
 * A repetition decodes until its time floor (`min_rep_seconds`) or the token cap, and records
 * the tokens it made, its round and position, and the scheduler's drift signals
 * (lib/measure/schedstat.ts). Peak memory is measured per turn (one peak per arm per round), the
 * baseline once, with the model loaded, before the warmups.
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import { generate, loadDecoder, promptIds, resolveModel } from "../engine/mod.ts";
import type { DecoderModel } from "../engine/mod.ts";
import type { GenerationResult } from "../engine/generate.ts";
import { summarize, supportedPercentile } from "../measure/stats.ts";
import { MemorySampler } from "../measure/memory_sampler.ts";
import { currentRssBytes } from "../measure/rss.ts";
import { schedDelta, schedMark } from "../measure/schedstat.ts";
import { quantizationLabel, readQuantizationMetadata } from "../quantize/quantization_metadata.ts";
import { readStoredWeights, rooflineColumns } from "../quantize/step_bytes.ts";
import { kvDtypeBytes } from "../runtime/tensors.ts";
import { gpuOptionFor, WindowTelemetry } from "../measure/window_telemetry.ts";
import { TELEMETRY_FIELDS, type TelemetryFields } from "../measure/telemetry_summary.ts";
import { type Cell, newTokensOf, promptSlots } from "./grid.ts";
import { errorRow } from "./rows.ts";
import type { ArmCommand, WorkerJob, WorkerMessage } from "./protocol.ts";
import { batchMemoryProblem } from "./batch_memory.ts";

/** Environment variable naming a cell at whose start the worker kills itself (crash tests). */
export const CRASH_AT_ENV = "TURBO_SWEEP_CRASH_AT";

/** Environment variable naming a cell after whose result the worker kills itself (crash tests). */
export const CRASH_AFTER_ENV = "TURBO_SWEEP_CRASH_AFTER";

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((l) => l.trim()) ?? text;
}

/**
 * Tokens a repetition may make at most: the spec's cap for the cache mode, within the model's
 * positions.
 *
 * @param job The worker's job.
 * @param model The loaded model.
 * @param cell The arm's cell.
 * @returns The cap (at least 2, so one decode step is timed).
 */
export function tokenCap(job: WorkerJob, model: DecoderModel, cell: Cell): number {
  const room = model.config.maxPositions - cell.contextTokens;
  return Math.max(Math.min(2, room), Math.min(newTokensOf(job.spec, cell), room));
}

/**
 * Runs the arm: load, warmups, then turns until `end` (or stdin closes).
 *
 * @param job The job (`cells[0]` is the arm's cell; `replica` 1 for the A/A control).
 * @param send Writes one protocol message.
 * @param commands The scheduler's commands, in order.
 */
export async function runArm(
  job: WorkerJob,
  send: (message: WorkerMessage) => void,
  commands: AsyncIterable<ArmCommand>,
): Promise<void> {
  const cell = job.cells[0]!;
  const { spec, provenance } = job;
  let model: DecoderModel;
  try {
    const resolved = await resolveModel(job.model, { dtypes: [job.dtype] });
    model = await loadDecoder(resolved, {
      dtype: job.dtype,
      device: job.device,
      threads: spec.threads,
    });
  } catch (error) {
    const reason = `cannot load ${job.model} (${job.dtype}) on ${job.device}: ${oneLine(error)}`;
    send({ type: "cell", cellId: cell.id, rows: [errorRow(cell, reason, provenance)] });
    return;
  }
  try {
    const cap = tokenCap(job, model, cell);
    if (cell.device === "cpu") {
      const problem = batchMemoryProblem({
        batch: cell.batch,
        contextTokens: cell.contextTokens,
        newTokens: cap,
        numLayers: model.numLayers,
        numHeads: model.config.numHeads,
        numKvHeads: model.numKvHeads,
        headDim: model.headDim,
        vocabSize: model.vocabSize,
        kvElementBytes: kvDtypeBytes(model.kvDtype),
        logitsPositions: model.logitsPositions,
        useCache: cell.useCache,
      }, Deno.systemMemoryInfo().available);
      if (problem !== null) throw new Error(problem);
    }
    const tokenizer = model.resolved.tokenizer;
    const slots = promptSlots(spec).map((slot) => ({
      slot,
      prompts: Array.from(
        { length: cell.batch },
        (_, j) =>
          promptIds(
            tokenizer,
            slot.family,
            cell.contextTokens,
            slot.promptId * cell.batch + j,
            spec.seed,
          ),
      ),
    }));
    const options = {
      maxNewTokens: cap,
      useCache: cell.useCache,
      ...(spec.min_rep_seconds > 0 ? { decodeFloorMs: spec.min_rep_seconds * 1000 } : {}),
    };
    // The roofline columns: bytes a decode step reads (weights as stored + the KV cache at this
    // context) against the sweep's measured read bandwidth (lib/quantize/step_bytes.ts).
    const stored = await readStoredWeights(model.session.modelPath).catch(() => null);
    const kv = {
      layers: model.numLayers,
      kvHeads: model.numKvHeads,
      headDim: model.headDim,
      elementBytes: kvDtypeBytes(model.kvDtype),
    };
    const bound = cell.device === "cpu" ? provenance.readGbS ?? null : null;
    const baseline = currentRssBytes();
    for (let i = 0; i < spec.warmup; i++) await generate(model, slots[0]!.prompts, options);
    send({ type: "start", cellId: cell.id });
    if (Deno.env.get(CRASH_AT_ENV) === cell.id) Deno.kill(Deno.pid, "SIGKILL");
    const window = spec.telemetry_interval_ms === 0 ? null : await WindowTelemetry.start(cell.id, {
      intervalMs: spec.telemetry_interval_ms,
      gpu: gpuOptionFor(cell.device),
    }).catch(() => null);
    for await (const command of commands) {
      if (command.type === "end") break;
      window?.onWindow("start");
      // Peak memory of this turn only (the kernel's peak is reset as the sampler starts): one
      // peak per arm per round, so memory is replicated across rounds like speed.
      const sampler = new MemorySampler({
        gpu: cell.device !== "cpu",
        intervalMs: cell.device === "cpu" ? 250 : 50,
      }).start();
      const turn: BenchRow[] = [];
      for (const { slot, prompts } of slots) {
        for (let k = 0; k < spec.runs; k++) {
          const timestamp = new Date().toISOString();
          const before = schedMark();
          const r = await generate(model, prompts, options);
          const drift = schedDelta(before, schedMark());
          if (!Number.isFinite(r.totalMs) || r.tokens.some((t) => t.some((id) => !(id >= 0)))) {
            throw new Error("invalid output (NaN logits or timings)");
          }
          const runIndex = (command.round - 1) * spec.runs + k;
          const row = repRow(job, model, r, slot, runIndex, timestamp);
          turn.push({
            ...row,
            ...rooflineColumns(stored, kv, {
              batch: row.batch,
              contextTokens: row.context_tokens,
              newTokens: row.new_tokens,
              useCache: row.use_cache,
              decodeMs: row.decode_ms,
            }, bound),
            round: command.round,
            round_position: command.position,
            replica: job.replica ?? 0,
            block: job.block ?? "",
            ...drift,
          });
        }
      }
      window?.onWindow("end");
      const memory = sampler.stop();
      for (const row of turn) {
        row.peak_rss_bytes = memory.peakRssBytes;
        row.peak_vram_bytes = memory.peakGpuUsedBytes;
        row.rss_baseline_bytes = baseline;
        row.peak_rss_increase_bytes = memory.peakRssBytes === null || baseline === null
          ? null
          : Math.max(0, memory.peakRssBytes - baseline);
      }
      send({ type: "turn", cellId: cell.id, rows: turn });
    }
    const telemetry = window ? await window.finish().catch(() => null) : null;
    const quantization = quantizationLabel(
      await readQuantizationMetadata(model.session.modelPath).catch(() => null),
    );
    const fields = {
      quantization,
      ...(telemetry?.fields ?? NO_TELEMETRY),
    } as unknown as Partial<BenchRow>;
    send({
      type: "arm_end",
      cellId: cell.id,
      fields,
      ...(telemetry ? { telemetry: telemetry.run } : {}),
    });
    if (Deno.env.get(CRASH_AFTER_ENV) === cell.id) Deno.kill(Deno.pid, "SIGKILL");
  } catch (error) {
    send({ type: "cell", cellId: cell.id, rows: [errorRow(cell, oneLine(error), provenance)] });
  } finally {
    await model.dispose();
  }
}

/** The telemetry columns of an arm without telemetry: all null. */
const NO_TELEMETRY = Object.fromEntries(
  TELEMETRY_FIELDS.map((f) => [f, null]),
) as unknown as TelemetryFields;

/** One repetition's row, without the round columns. */
function repRow(
  job: WorkerJob,
  model: DecoderModel,
  r: GenerationResult,
  slot: ReturnType<typeof promptSlots>[number],
  runIndex: number,
  timestamp: string,
): BenchRow {
  const cell = job.cells[0]!;
  const { provenance } = job;
  const lat = r.tokenLatenciesMs.length > 0 ? summarize(r.tokenLatenciesMs) : null;
  return {
    run_id: `${cell.id}#${slot.promptId}#${runIndex}`,
    cell_id: cell.id,
    timestamp,
    model: cell.model,
    dtype: cell.dtype,
    device: cell.device,
    execution_provider: model.executionProvider,
    nodes_off_provider: model.nodesOffProvider,
    logits_positions: r.logitsPositions,
    decode_tokens_per_s_per_seq: r.decodeTokensPerS === null
      ? null
      : r.decodeTokensPerS / cell.batch,
    use_cache: cell.useCache,
    batch: cell.batch,
    context_tokens: cell.contextTokens,
    family: slot.family,
    prompt_id: slot.promptId,
    run_index: runIndex,
    new_tokens: r.newTokens,
    prefill_ms: r.prefillMs,
    decode_ms: r.decodeMs,
    decode_tokens_per_s: r.decodeTokensPerS,
    token_p50_ms: lat ? supportedPercentile(lat, "p50") : null,
    token_p95_ms: lat ? supportedPercentile(lat, "p95") : null,
    total_ms: r.totalMs,
    peak_rss_bytes: null,
    peak_vram_bytes: null,
    status: "ok",
    error: "",
    git_commit: provenance.gitCommit,
    deno_version: provenance.denoVersion,
    ort_version: provenance.ortVersion,
    transformers_version: provenance.transformersVersion,
    device_name: cell.device === "cpu" ? provenance.cpuName : provenance.gpuName ?? "",
    kv_mode: r.kvMode ?? "",
    kv_cache_bytes: r.kvReservedBytes,
    quantization: "",
    rss_baseline_bytes: null,
    peak_rss_increase_bytes: null,
    load1_before: null,
    load1_after: null,
    weights: model.resolved.weights,
  };
}

/**
 * The scheduler's commands from a stream of JSON lines (the worker's stdin).
 *
 * @param stream The stream.
 * @returns The commands, until the stream closes.
 */
export async function* readCommands(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<ArmCommand> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield JSON.parse(line) as ArmCommand;
    }
  }
}
