/**
 * The sweep worker: a child process that loads one model + dtype + device, runs the cells it is
 * given (the scheduler gives it one, so each cell's memory is its own) and reports each finished
 * cell's rows as one protocol message, so the orchestrator can write them atomically. Warmups
 * are never recorded. A failing cell becomes a row with `status = "error"`; the worker goes on
 * with the next cell. In `check` mode it only loads the model, so a bad model reference fails
 * before the first cell.
 *
 * Run by the orchestrator as `deno run -A lib/sweep/worker.ts JOB.json`.
 *
 * @module
 */
import type { BenchRow } from "../results/schema.ts";
import { generate, loadDecoder, measureRuns, promptIds, resolveModel } from "../engine/mod.ts";
import type { DecoderModel } from "../engine/mod.ts";
import { summarize, supportedPercentile } from "../measure/stats.ts";
import { quantizationLabel, readQuantizationMetadata } from "../quantize/quantization_metadata.ts";
import { readStoredWeights, rooflineColumns } from "../quantize/step_bytes.ts";
import { type Cell, newTokensOf, promptSlots } from "./grid.ts";
import { errorRow } from "./rows.ts";
import { encodeMessage, type WorkerJob, type WorkerMessage } from "./protocol.ts";
import type { ProbePoint } from "./estimate.ts";
import { batchMemoryProblem } from "./batch_memory.ts";
import { gpuOptionFor, WindowTelemetry } from "../measure/window_telemetry.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";
import { TELEMETRY_FIELDS, type TelemetryFields } from "../measure/telemetry_summary.ts";

/** Environment variable naming a cell at whose start the worker kills itself (crash tests). */
export const CRASH_AT_ENV = "TURBO_SWEEP_CRASH_AT";

/** Environment variable naming a cell after whose result the worker kills itself (crash tests). */
export const CRASH_AFTER_ENV = "TURBO_SWEEP_CRASH_AFTER";

function send(message: WorkerMessage): void {
  // writeSync may write part of a buffer: loop so a message is never cut.
  const bytes = new TextEncoder().encode(encodeMessage(message));
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((l) => l.trim()) ?? text;
}

async function load(job: WorkerJob): Promise<DecoderModel> {
  const resolved = await resolveModel(job.model, { dtypes: [job.dtype] });
  return await loadDecoder(resolved, {
    dtype: job.dtype,
    device: job.device,
    threads: job.spec.threads,
  });
}

/**
 * Runs one cell through the shared warmup/measure loop ({@linkcode measureRuns}) and returns
 * its rows (warmups discarded). On CPU a cell whose batch would not fit in the available memory
 * (lib/sweep/batch_memory.ts) throws before any run, so it becomes an error row. Memory covers the measured runs; the baseline is the RSS with
 * the model loaded, before the warmups. The orchestrator runs each cell in a fresh worker, so
 * nothing an earlier cell allocated is in either figure.
 *
 * Telemetry is sampled every `telemetry_interval_ms` over the measured runs only (marked by
 * `measureRuns`' window); its summary columns are the same on every row of the cell. A sampler
 * that cannot start leaves them null and the cell is still measured.
 *
 * @param job The worker's job.
 * @param model The loaded decoder.
 * @param cell The cell.
 * @returns One row per measured run, and the window's telemetry (null when none was sampled).
 */
export async function runCell(
  job: WorkerJob,
  model: DecoderModel,
  cell: Cell,
): Promise<{ rows: BenchRow[]; telemetry: TelemetryRun | null }> {
  const { spec, provenance } = job;
  if (cell.device === "cpu") {
    const problem = batchMemoryProblem({
      batch: cell.batch,
      contextTokens: cell.contextTokens,
      newTokens: newTokensOf(spec, cell),
      numLayers: model.numLayers,
      numHeads: model.config.numHeads,
      numKvHeads: model.numKvHeads,
      headDim: model.headDim,
      vocabSize: model.vocabSize,
      kvElementBytes: model.kvDtype === "float16" ? 2 : 4,
      logitsPositions: model.logitsPositions,
      useCache: cell.useCache,
    }, Deno.systemMemoryInfo().available);
    if (problem !== null) throw new Error(problem);
  }
  const slots = promptSlots(spec);
  const tokenizer = model.resolved.tokenizer;
  const batchIds = (family: typeof slots[number]["family"], promptId: number) =>
    Array.from(
      { length: cell.batch },
      (_, j) =>
        promptIds(tokenizer, family, cell.contextTokens, promptId * cell.batch + j, spec.seed),
    );
  const plan = slots.flatMap((slot) =>
    Array.from(
      { length: spec.runs },
      (_, run) => ({ slot, run, prompts: batchIds(slot.family, slot.promptId) }),
    )
  );
  const rows: BenchRow[] = [];
  const window = spec.telemetry_interval_ms === 0 ? null : await WindowTelemetry.start(cell.id, {
    intervalMs: spec.telemetry_interval_ms ?? 100,
    gpu: gpuOptionFor(cell.device),
  }).catch((error) => {
    console.error(`telemetry off for ${cell.id}: ${oneLine(error)}`);
    return null;
  });
  const measured = await measureRuns(model, plan.map((p) => p.prompts), {
    maxNewTokens: newTokensOf(spec, cell),
    useCache: cell.useCache,
    warmup: spec.warmup,
    sampleGpu: cell.device !== "cpu",
    ...(window ? { onWindow: window.onWindow } : {}),
    onRun: (r, i, timestamp) => {
      if (!Number.isFinite(r.totalMs) || r.tokens.some((t) => t.some((id) => !(id >= 0)))) {
        throw new Error("invalid output (NaN logits or timings)");
      }
      const { slot, run } = plan[i]!;
      const lat = r.tokenLatenciesMs.length > 0 ? summarize(r.tokenLatenciesMs) : null;
      rows.push({
        run_id: `${cell.id}#${slot.promptId}#${run}`,
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
        run_index: run,
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
      });
    },
  }).catch(async (error) => {
    await window?.finish().catch(() => null);
    throw error;
  });
  const telemetry = window ? await window.finish().catch(() => null) : null;
  // Read after the measured runs, so reading the ONNX file is in neither memory figure.
  const quantization = quantizationLabel(
    await readQuantizationMetadata(model.session.modelPath).catch(() => null),
  );
  const stored = await readStoredWeights(model.session.modelPath).catch(() => null);
  const kv = {
    layers: model.numLayers,
    kvHeads: model.numKvHeads,
    headDim: model.headDim,
    elementBytes: model.kvDtype === "float16" ? 2 : 4,
  };
  const bound = cell.device === "cpu" ? job.provenance.readGbS ?? null : null;
  for (const row of rows) {
    Object.assign(
      row,
      rooflineColumns(stored, kv, {
        batch: row.batch,
        contextTokens: row.context_tokens,
        newTokens: row.new_tokens,
        useCache: row.use_cache,
        decodeMs: row.decode_ms,
      }, bound),
    );
    row.quantization = quantization;
    row.peak_rss_bytes = measured.memory.peakRssBytes;
    row.peak_vram_bytes = measured.memory.peakGpuUsedBytes;
    row.rss_baseline_bytes = measured.baselineRssBytes;
    row.peak_rss_increase_bytes = measured.peakRssIncreaseBytes;
    Object.assign(row, telemetry?.fields ?? NO_TELEMETRY);
  }
  return { rows, telemetry: telemetry?.run ?? null };
}

/** The telemetry columns of a cell without telemetry: all null. */
const NO_TELEMETRY = Object.fromEntries(
  TELEMETRY_FIELDS.map((f) => [f, null]),
) as unknown as TelemetryFields;

async function bench(job: WorkerJob): Promise<void> {
  let model: DecoderModel;
  try {
    model = await load(job);
  } catch (error) {
    const reason = `cannot load ${job.model} (${job.dtype}) on ${job.device}: ${oneLine(error)}`;
    for (const cell of job.cells) {
      send({ type: "cell", cellId: cell.id, rows: [errorRow(cell, reason, job.provenance)] });
    }
    return;
  }
  const crashAt = Deno.env.get(CRASH_AT_ENV);
  const crashAfter = Deno.env.get(CRASH_AFTER_ENV);
  for (const cell of job.cells) {
    if (job.deadlineMs !== null && Date.now() > job.deadlineMs) {
      send({ type: "budget", cellId: cell.id });
      break;
    }
    send({ type: "start", cellId: cell.id });
    if (crashAt === cell.id) Deno.kill(Deno.pid, "SIGKILL");
    let rows: BenchRow[];
    let telemetry: TelemetryRun | null = null;
    try {
      ({ rows, telemetry } = await runCell(job, model, cell));
    } catch (error) {
      rows = [errorRow(cell, oneLine(error), job.provenance)];
    }
    send({ type: "cell", cellId: cell.id, rows, ...(telemetry ? { telemetry } : {}) });
    if (crashAfter === cell.id) Deno.kill(Deno.pid, "SIGKILL");
  }
  await model.dispose();
}

async function probe(job: WorkerJob): Promise<void> {
  const started = performance.now();
  const model = await load(job);
  const loadMs = performance.now() - started;
  // Two prompt lengths (the shortest useful one and the sweep's longest, capped) so the cost
  // model sees how prefill and decode grow with the context.
  const cap = model.config.maxPositions - 8;
  const lengths = [
    ...new Set([
      Math.min(128, cap),
      Math.min(Math.max(...job.spec.context_lengths), 1024, cap),
    ]),
  ].filter((t) => t > 0);
  const tokenizer = model.resolved.tokenizer;
  await generate(model, [promptIds(tokenizer, "conversational", lengths[0]!, 0, job.spec.seed)], {
    maxNewTokens: 2,
  });
  const points: ProbePoint[] = [];
  for (const tokens of lengths) {
    const ids = [promptIds(tokenizer, "conversational", tokens, 0, job.spec.seed)];
    const r = await generate(model, ids, { maxNewTokens: 4 });
    points.push({
      tokens,
      prefillMs: r.prefillMs,
      decodeMs: r.decodeMs / Math.max(1, r.newTokens - 1),
    });
  }
  send({ type: "probe", loadMs, points });
  await model.dispose();
}

async function check(job: WorkerJob): Promise<void> {
  // The model must exist and at least one of the spec's dtypes must load: a dtype the model
  // lacks is the cell's error, a model that loads in none is the spec's. Resolving every dtype
  // first builds a preset's missing ONNX files here, so no cell's worker (and no cell's memory
  // baseline) includes a build.
  // What a cell's worker pays before its first run: process start and imports, then the load.
  const startupMs = performance.now();
  for (const dtype of job.spec.dtypes) {
    await resolveModel(job.model, { dtypes: [dtype] }).catch(() => {});
  }
  let first: string | null = null;
  for (const dtype of job.spec.dtypes) {
    try {
      const started = performance.now();
      const model = await load({ ...job, dtype });
      const startMs = startupMs + performance.now() - started;
      send({ type: "check", weights: model.resolved.weights, error: null, startMs });
      await model.dispose();
      return;
    } catch (error) {
      first ??= `${dtype}: ${oneLine(error)}`;
    }
  }
  send({ type: "check", weights: "", error: first ?? "the spec has no dtypes" });
}

async function perplexity(job: WorkerJob): Promise<void> {
  const { sweepPerplexityRows } = await import("./_perplexity.ts");
  send({ type: "ppl", rows: await sweepPerplexityRows(job) });
}

if (import.meta.main) {
  const path = Deno.args[0];
  if (!path) {
    console.error("usage: worker.ts JOB.json");
    Deno.exit(2);
  }
  const job = JSON.parse(await Deno.readTextFile(path)) as WorkerJob;
  try {
    switch (job.mode) {
      case "bench":
        await bench(job);
        break;
      case "probe":
        await probe(job);
        break;
      case "ppl":
        await perplexity(job);
        break;
      case "check":
        await check(job);
        break;
      default: {
        const never: never = job.mode;
        throw new TypeError(`unknown worker mode ${never}`);
      }
    }
  } catch (error) {
    // One line, never a stack (a probe on a dtype the device lacks fails here).
    console.error(`worker (${job.mode}): ${oneLine(error)}`);
    Deno.exit(1);
  }
}
