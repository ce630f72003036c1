/**
 * The sweep worker: a child process that loads one model + dtype + device. In `arm` mode it is
 * one live arm of a block (lib/sweep/arm_worker.ts: its repetitions on command, round after
 * round, so each arm's memory is its own); `probe` times a short prefill and decode for the
 * estimate; `ppl` runs perplexity; `check` only loads the model, so a bad model reference fails
 * before the first block.
 *
 * Run by the orchestrator as `deno run -A lib/sweep/worker.ts JOB.json`.
 *
 * @module
 */
import { generate, loadDecoder, promptIds, resolveModel } from "../engine/mod.ts";
import type { DecoderModel } from "../engine/mod.ts";
import { readCommands, runArm } from "./arm_worker.ts";
import { encodeMessage, type WorkerJob, type WorkerMessage } from "./protocol.ts";
import type { ProbePoint } from "./estimate.ts";

export { CRASH_AFTER_ENV, CRASH_AT_ENV } from "./arm_worker.ts";

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
      case "arm":
        await runArm(job, send, readCommands(Deno.stdin.readable));
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
