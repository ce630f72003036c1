/**
 * `deno task load`: a load generator for any OpenAI-compatible server (this project's
 * `deno task serve`, a llama.cpp server, vLLM): seeded Poisson/gamma arrivals at a request rate or
 * a fixed concurrency, streamed requests, and vLLM's serving metrics (TTFT, TPOT, ITL, E2E,
 * throughput, goodput) written as JSONL, JSON, CSV and a figure.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { join } from "node:path";
import { modeLabel, runLoad, type StaggerUsed } from "../load/runner.ts";
import { summarizeLoad } from "../load/metrics.ts";
import { jsonlPrompts, type PromptTokenizer, syntheticPrompts } from "../load/prompts.ts";
import { type LoadSetting, writeLoadOutputs } from "../load/output.ts";
import { type LoadFlags, loadSettings } from "../load/settings.ts";
import { resolveModel } from "../engine/resolve.ts";
import { parseFlags, runCli } from "./_cli.ts";
import { WindowTelemetry } from "../measure/window_telemetry.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";
import { writeTelemetry } from "../results/telemetry_table.ts";

const USAGE = `Usage: deno task load --model NAME --output DIR [--url http://127.0.0.1:8000/v1]
  (--request-rate R[,R...] [--burstiness B] | --concurrency C[,C...])
  [--input-tokens 512] [--output-tokens 128] [--num-requests 200] [--warmup 2]
  [--goodput ttft:MS,tpot:MS,e2e:MS] [--api completions|chat] [--prompts FILE.jsonl]
  [--tokenizer REF] [--seed 42] [--max-duration 600] [--timeout 120]
  [--stagger jitter|none|SECONDS] [--temperature 0] [--top-p P] [--top-k K]

--stagger (concurrency runs): how the workers start. jitter (default): each worker but the first
waits a seeded random time within the warmups' mean latency, so arrivals are not simultaneous;
none: all at once (lock-step); SECONDS: worker w starts at w × SECONDS. The summary says which.
--temperature/--top-p/--top-k: sampling asked of the server (default greedy); request i sends
seed --seed + i, so a run repeats. Input tokens are the tokenizer's exact counts when it is known
(completions), else the server's usage.

Sends only to --url. Prompts are synthetic, each with a unique prefix (no prefix-cache reuse),
with exact token counts when the tokenizer is known (--tokenizer REF, or --model when it names
a local model or preset); else a JSONL file of {"prompt": ..., "output_tokens"?: N}.
Telemetry of THIS machine (the client; the server may be elsewhere) is sampled every 100 ms during
each setting: DIR/telemetry_<setting>.csv.`;

const FLAGS = {
  url: { type: "string" },
  model: { type: "string" },
  api: { type: "string" },
  "input-tokens": { type: "string" },
  "output-tokens": { type: "string" },
  "num-requests": { type: "string" },
  "request-rate": { type: "string" },
  burstiness: { type: "string" },
  concurrency: { type: "string" },
  warmup: { type: "string" },
  goodput: { type: "string" },
  prompts: { type: "string" },
  tokenizer: { type: "string" },
  seed: { type: "string" },
  "max-duration": { type: "string" },
  timeout: { type: "string" },
  output: { type: "string" },
  stagger: { type: "string" },
  temperature: { type: "string" },
  "top-p": { type: "string" },
  "top-k": { type: "string" },
} as const;

async function tokenizerFor(
  ref: string | undefined,
  required: boolean,
): Promise<PromptTokenizer | null> {
  if (ref === undefined) return null;
  try {
    const model = await resolveModel(ref, { offline: true });
    return model.tokenizer as unknown as PromptTokenizer;
  } catch (error) {
    if (required) {
      throw new RangeError(
        `'--tokenizer' ${JSON.stringify(ref)} cannot be loaded: ${
          (error as Error).message.split("\n")[0]
        }`,
      );
    }
    return null;
  }
}

/** The server must accept a connection before any request is planned or anything written. */
async function checkReachable(base: string): Promise<void> {
  const url = new URL(base);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const conn = await Promise.race([
      Deno.connect({ hostname, port }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
      }),
    ]);
    conn.close();
  } catch (error) {
    throw new Error(
      `'--url' ${base} cannot be reached: ${(error as Error).message.split("\n")[0]}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

async function checkOutput(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const probe = join(dir, `.write-test-${Deno.pid}`);
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    throw new Error(
      `'--output' ${JSON.stringify(dir)} is not a writable directory: ${
        (error as Error).message.split("\n")[0]
      }`,
    );
  }
}

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, FLAGS);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const s = loadSettings(values as LoadFlags);
    let promptsText: string | null = null;
    if (s.promptsFile !== undefined) {
      try {
        promptsText = await Deno.readTextFile(s.promptsFile);
      } catch (error) {
        throw new Error(
          `'--prompts' ${JSON.stringify(s.promptsFile)} cannot be read: ${
            (error as Error).message.split("\n")[0]
          }`,
        );
      }
    }
    const tokenizerRef = s.tokenizer ?? s.model;
    const tokenizer = await tokenizerFor(tokenizerRef, s.tokenizer !== undefined);
    const outputExisted = await Deno.stat(s.output).then(() => true, () => false);
    await checkOutput(s.output);
    await checkReachable(s.url).catch(async (error) => {
      if (!outputExisted) await Deno.remove(s.output).catch(() => {}); // only if still empty
      throw error;
    });
    const total = s.numRequests + s.warmup;
    const all = promptsText === null
      ? syntheticPrompts(total, {
        inputTokens: s.inputTokens,
        outputTokens: s.outputTokens,
        seed: s.seed,
        ...(tokenizer ? { tokenizer } : {}),
      })
      : jsonlPrompts(promptsText, {
        outputTokens: s.outputTokens,
        ...(tokenizer ? { tokenizer } : {}),
      });
    const pick = (n: number, offset: number) =>
      Array.from({ length: n }, (_, i) => all[(offset + i) % all.length]!);
    const settings: LoadSetting[] = [];
    const telemetry: { label: string; run: TelemetryRun }[] = [];
    const startedAt = new Date().toISOString();
    for (const mode of s.modes) {
      const label = modeLabel(mode);
      let stagger = null as StaggerUsed | null; // set by onStagger
      // This machine's telemetry over the setting (the client's; the server may be elsewhere).
      const window = await WindowTelemetry.start(label, { gpu: { index: 0 } }).catch(() => null);
      const records = await runLoad({
        endpoint: {
          baseUrl: s.url,
          model: s.model,
          api: s.api,
          timeoutMs: s.timeoutS * 1000,
          sampling: s.sampling,
          ...(Deno.env.get("OPENAI_API_KEY") ? { apiKey: Deno.env.get("OPENAI_API_KEY")! } : {}),
        },
        prompts: pick(s.numRequests, s.warmup),
        warmup: pick(s.warmup, 0),
        mode,
        maxDurationS: s.maxDurationS,
        stagger: s.stagger,
        onStagger: (used) => {
          stagger = used;
          console.error(`${label}: worker starts staggered: ${used.label}`);
        },
        onProgress: (done, n) => {
          if (done === n || done % Math.max(1, Math.floor(n / 10)) === 0) {
            console.error(`${label}: ${done}/${n} requests`);
          }
        },
      });
      const t = await window?.finish().catch(() => null);
      if (t) telemetry.push({ label, run: t.run });
      const summary = summarizeLoad(records, s.slo);
      settings.push({ label, mode, records, summary, stagger });
      const f = (
        v: number | undefined | null,
        d = 1,
      ) => (v === undefined || v === null ? "—" : v.toFixed(d));
      console.log(
        `${label}: ${summary.completed} ok, ${summary.failed} failed | ` +
          `${f(summary.requestThroughput, 2)} req/s, ${
            f(summary.outputThroughput)
          } output tok/s | ` +
          `TTFT median ${f(summary.ttftMs?.median)} p99 ${f(summary.ttftMs?.p99)} ms | ` +
          `TPOT median ${f(summary.tpotMs?.median)} ms | E2E p99 ${f(summary.e2eMs?.p99)} ms` +
          (stagger ? ` | starts: ${stagger.label}` : "") +
          (summary.goodput ? ` | goodput ${f(summary.goodput.requestsPerS, 2)} req/s` : ""),
      );
      for (const [why, n] of Object.entries(summary.failures)) {
        console.log(`  failed ×${n}: ${why}`);
      }
    }
    const written = await writeLoadOutputs(s.output, {
      url: s.url,
      model: s.model,
      api: s.api,
      inputTokens: promptsText === null ? s.inputTokens : null,
      outputTokens: s.outputTokens,
      numRequests: s.numRequests,
      warmup: s.warmup,
      seed: s.seed,
      tokenizer: tokenizer ? tokenizerRef : null,
      prompts: s.promptsFile ?? "synthetic (unique prefix per request)",
      startedAt,
      sampling: s.sampling,
    }, settings);
    for (const { label, run } of telemetry) {
      const path = join(s.output, `telemetry_${label.replace(/[^A-Za-z0-9.]+/g, "_")}.csv`);
      await writeTelemetry(path, run);
      written.push(path);
    }
    console.error(`wrote ${written.join(", ")} (telemetry: this machine, the load client)`);
    return settings.every((x) => x.summary.completed === 0) ? 1 : 0;
  });
}
