/**
 * `deno task compare`: decoding speed of four ways to run the same model, dtype and prompt in
 * one process — (a) a minimal raw `session.run` greedy loop, (b) this project's engine on its
 * copy path (`present.*` fed back), (c) the engine's in-place path (the same weights built as an
 * `in_place` graph: one fixed-size cache buffer, only the new K/V returned), (d) transformers.js
 * `model.generate()` — at one or several prompt lengths, with decode tokens/s (tokens 2..N) and
 * paired ratios. Rounds interleave the contenders so drift hits all alike; figures are medians
 * over rounds, ratios medians of per-round ratios. Targets at 2048 tokens on a CPU: in-place ≥
 * 1.5× transformers.js and ≥ 1.3× the copy path; at 128 no slower than the copy path.
 *
 * ```
 * deno task compare --model preset:small --dtype q4 --prompt-tokens 128,512,2048 --max-new-tokens 32
 * ```
 *
 * The in-place twin of `preset:NAME[@SEED]` (or of a directory this project built) is
 * `preset:NAME[@SEED]+in_place`, built on demand into `.cache/models/NAME-in_place-sSEED`;
 * `--in-place-model REF` names one explicitly.
 * A model with no in-place twin (a Hub export) runs the other three.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { AutoModelForCausalLM, BaseStreamer, Tensor as HfTensor } from "@huggingface/transformers";
import { join } from "node:path";
import process from "node:process";
import { DTYPES, isDtype } from "../dtypes.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { generate } from "../engine/generate.ts";
import { kvCacheBytes } from "../engine/kv_cache.ts";
import { PROMPT_FAMILIES, type PromptFamily, promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { summarize } from "../measure/stats.ts";
import type { OnnxSession } from "../runtime/session.ts";
import { emptyKv } from "../runtime/tensors.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";
import type { DecoderModel } from "../engine/decoder.ts";

const USAGE = `Usage: deno task compare [--model preset:small] [--dtype q4]
  [--prompt-tokens 128,512,2048] [--max-new-tokens 32] [--warmup 1] [--rounds 5] [--threads 0]
  [--family conversational] [--in-place-model REF] [--output compare.json]`;

const FLAGS = {
  model: { type: "string", default: "preset:small" },
  dtype: { type: "string", default: "q4" },
  "prompt-tokens": { type: "string" },
  "max-new-tokens": { type: "string" },
  warmup: { type: "string" },
  rounds: { type: "string" },
  threads: { type: "string" },
  family: { type: "string", default: "conversational" },
  "in-place-model": { type: "string" },
  output: { type: "string" },
} as const;

/** What one generation of a contender measured. */
interface Sample {
  /** Wall-clock decode tokens/s (tokens 2..N). */
  decodeTokensPerS: number;
  /** Process CPU time (user + system) per decode token, milliseconds. */
  decodeCpuMsPerToken: number;
  /** The generated ids. */
  tokens: number[];
}

/** One way of generating. */
type Contender = (prompt: number[], n: number) => Promise<Sample>;

/** Process CPU time (user + system) so far, milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * (a) The baseline: the least code that greedily decodes with a KV cache through ONNX Runtime.
 */
function rawLoop(s: OnnxSession, model: DecoderModel): Contender {
  const past = s.inputNames.filter((n) => n.startsWith("past_key_values."));
  const present = past.map((n) => n.replace("past_key_values.", "present."));
  const withPositions = s.inputNames.includes("position_ids");
  return async (prompt, n) => {
    const len = prompt.length;
    const ids = (values: number[]) =>
      new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [1, values.length]);
    const ones = (k: number) => new ort.Tensor("int64", new BigInt64Array(k).fill(1n), [1, k]);
    const range = (from: number, k: number) => ids(Array.from({ length: k }, (_, i) => from + i));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ids(prompt),
      attention_mask: ones(len),
    };
    if (withPositions) feeds.position_ids = range(0, len);
    for (const name of past) {
      feeds[name] = emptyKv(model.kvDtype, 1, model.numKvHeads, model.headDim);
    }
    const tokens: number[] = [];
    let start = 0;
    let cpuStart = 0;
    for (let t = 0; t < n; t++) {
      const out = await s.session.run(feeds);
      const logits = out.logits!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      const offset = (logits.dims[1]! - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (data[offset + v]! > data[offset + best]!) best = v;
      tokens.push(best);
      if (t === 0) [start, cpuStart] = [performance.now(), cpuMs()];
      feeds.input_ids = ids([best]);
      feeds.attention_mask = ones(len + t + 1);
      if (withPositions) feeds.position_ids = range(len + t, 1);
      past.forEach((name, i) => feeds[name] = out[present[i]!]!);
    }
    return {
      decodeTokensPerS: (n - 1) / (performance.now() - start) * 1000,
      decodeCpuMsPerToken: (cpuMs() - cpuStart) / (n - 1),
      tokens,
    };
  };
}

/** (b), (c) This project's engine (its KV mode follows from the model's graph). */
function engine(model: DecoderModel): Contender {
  // The same model whose step() notes the CPU clock when the first run (the prefill) returns.
  let calls = 0;
  let cpuAfterPrefill = 0;
  const timed: DecoderModel = {
    ...model,
    step: async (...args) => {
      const out = await model.step(...args);
      if (++calls === 1) cpuAfterPrefill = cpuMs();
      return out;
    },
  };
  return async (prompt, n) => {
    calls = 0;
    const r = await generate(timed, [prompt], { maxNewTokens: n });
    return {
      decodeTokensPerS: r.decodeTokensPerS!,
      decodeCpuMsPerToken: (cpuMs() - cpuAfterPrefill) / (n - 1),
      tokens: r.tokens[0]!,
    };
  };
}

/** (c) transformers.js `generate()`, timed from the first generated token a streamer sees. */
class FirstTokenClock extends BaseStreamer {
  calls = 0;
  first = 0;
  firstCpu = 0;
  override put(): void {
    if (++this.calls === 2) [this.first, this.firstCpu] = [performance.now(), cpuMs()];
  }
  override end(): void {}
}

async function transformersJs(dir: string, dtype: string, threads: number): Promise<Contender> {
  const model = await AutoModelForCausalLM.from_pretrained(dir, {
    dtype: dtype as "q4",
    device: "cpu",
    local_files_only: true,
    session_options: threads > 0 ? { intraOpNumThreads: threads } : {},
  });
  return async (prompt, n) => {
    const clock = new FirstTokenClock();
    const input = new HfTensor("int64", BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
    const out = await model.generate(
      {
        input_ids: input,
        attention_mask: new HfTensor("int64", new BigInt64Array(prompt.length).fill(1n), [
          1,
          prompt.length,
        ]),
        max_new_tokens: n,
        min_new_tokens: n,
        do_sample: false,
        streamer: clock,
      } as unknown as Parameters<typeof model.generate>[0],
    );
    const end = performance.now();
    const ids = Array.from((out as unknown as { data: BigInt64Array }).data, Number).slice(
      prompt.length,
    );
    return {
      decodeTokensPerS: (n - 1) / (end - clock.first) * 1000,
      decodeCpuMsPerToken: (cpuMs() - clock.firstCpu) / (n - 1),
      tokens: ids,
    };
  };
}

/** The in-place twin of `preset:NAME[@SEED]` or of a directory this project built, else null. */
async function inPlaceTwin(ref: string, dir: string): Promise<string | null> {
  const m = /^preset:([\w.-]+)(@\d+)?$/.exec(ref);
  if (m) return `preset:${m[1]}${m[2] ?? ""}+in_place`;
  try {
    const meta = JSON.parse(await Deno.readTextFile(join(dir, "config.json")))?.turbo_inference;
    if (typeof meta?.preset === "string" && typeof meta?.seed === "number") {
      return `preset:${meta.preset}@${meta.seed}+in_place`;
    }
  } catch {
    // No readable config: not a model this project built.
  }
  return null;
}

/** Parses `--prompt-tokens 128,512,2048`. */
function lengthsFlag(value: string | undefined): number[] {
  if (value === undefined) return [128, 512, 2048];
  return value.split(",").map((part) =>
    intFlag(part.trim(), "--prompt-tokens", { min: 1, fallback: 128 })
  );
}

interface LengthReport {
  prompt_tokens: number;
  decode_tokens_per_s: Record<string, number[]>;
  median_decode_tokens_per_s: Record<string, number>;
  decode_cpu_ms_per_token: Record<string, number[]>;
  median_decode_cpu_ms_per_token: Record<string, number>;
  /** Paired median of in-place tokens/s ÷ copy tokens/s (wall clock). */
  in_place_over_copy: number | null;
  in_place_over_transformers_js: number | null;
  copy_over_transformers_js: number;
  copy_over_raw: number;
  /** Paired median of copy CPU ms/token ÷ in-place CPU ms/token (the speed-up in CPU time). */
  in_place_over_copy_cpu: number | null;
  in_place_over_transformers_js_cpu: number | null;
  in_place_cache_bytes: number | null;
  tokens_agree: boolean;
}

async function main(): Promise<number> {
  const { values } = parseFlags(Deno.args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!isDtype(values.dtype)) {
    throw new RangeError(`'--dtype' is unknown: '${values.dtype}' (known: ${DTYPES.join(", ")})`);
  }
  if (!(PROMPT_FAMILIES as readonly string[]).includes(values.family)) {
    throw new RangeError(
      `'--family' is unknown: '${values.family}' (known: ${PROMPT_FAMILIES.join(", ")})`,
    );
  }
  const lengths = lengthsFlag(values["prompt-tokens"]);
  const n = intFlag(values["max-new-tokens"], "--max-new-tokens", { min: 2, fallback: 32 });
  const warmup = intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 });
  const rounds = intFlag(values.rounds, "--rounds", { min: 1, fallback: 5 });
  const threads = intFlag(values.threads, "--threads", { min: 0, fallback: 0 });
  const dtype = values.dtype;
  const resolved = await resolveModel(values.model, { dtypes: [dtype] });
  for (const len of lengths) {
    if (len + n > resolved.config.maxPositions) {
      throw new RangeError(
        `'--prompt-tokens' ${len} + '--max-new-tokens' ${n} exceeds the model's ${resolved.config.maxPositions} positions`,
      );
    }
  }
  const model = await loadDecoder(resolved, { dtype, threads });
  if (model.kvMode === "in_place") {
    throw new RangeError(
      `'--model' ${values.model} is an in_place graph; pass its Optimum-layout model and the in-place one as '--in-place-model'`,
    );
  }
  const twinRef = values["in-place-model"] ??
    await inPlaceTwin(values.model, resolved.dir);
  const twin = twinRef
    ? await loadDecoder(await resolveModel(twinRef, { dtypes: [dtype] }), { dtype, threads })
    : null;
  if (twin && twin.kvMode !== "in_place") {
    throw new RangeError(`'--in-place-model' ${twinRef} has no in_place graph (present_new.*)`);
  }
  const contenders: [string, Contender][] = [
    // The raw loop runs the engine's own session: same graph, same thread pool, so the only
    // difference is the JavaScript around session.run.
    ["raw session.run loop", rawLoop(model.session, model)],
    [`engine, kv ${model.kvMode}`, engine(model)],
    ...(twin ? [["engine, kv in_place", engine(twin)] as [string, Contender]] : []),
    ["transformers.js generate()", await transformersJs(resolved.dir, dtype, threads)],
  ];
  const iCopy = 1, iInPlace = twin ? 2 : -1, iTjs = contenders.length - 1;
  const reports: LengthReport[] = [];
  const lines: string[] = [
    `${values.model} ${dtype} on ${model.executionProvider}, ${
      threads || "default"
    } intra-op threads: ${n} new tokens, median of ${rounds} rounds; decode tokens/s (wall clock), then in brackets CPU ms per decode token (process user + system)`,
    `| prompt | ${
      contenders.map(([name]) => name).join(" | ")
    } | in-place / copy | in-place / tjs | tokens agree |`,
    `| -----: | ${contenders.map(() => "---:").join(" | ")} | ---: | ---: | :-: |`,
  ];
  for (const len of lengths) {
    const prompt = promptIds(resolved.tokenizer, values.family as PromptFamily, len);
    const samples = contenders.map(() => [] as number[]);
    const cpuSamples = contenders.map(() => [] as number[]);
    const tokens: number[][] = contenders.map(() => []);
    for (let round = -warmup; round < rounds; round++) {
      // Rotate who goes first, so no contender always follows the same one (ORT pool threads
      // spin for a while after a run, and caches stay warm for whoever comes next).
      const order = contenders.map((_, k) => (k + round + warmup) % contenders.length);
      for (const i of order) {
        const [name, run] = contenders[i]!;
        const r = await run(prompt, n);
        tokens[i] = r.tokens;
        if (round >= 0) {
          samples[i]!.push(r.decodeTokensPerS);
          cpuSamples[i]!.push(r.decodeCpuMsPerToken);
        }
        console.error(
          `${len} tokens, ${round < 0 ? "warmup" : `round ${round + 1}/${rounds}`} ${name}: ${
            r.decodeTokensPerS.toFixed(1)
          } tokens/s, ${r.decodeCpuMsPerToken.toFixed(2)} CPU ms/token`,
        );
      }
    }
    const medians = samples.map((s) => summarize(s).p50);
    const cpuMedians = cpuSamples.map((s) => summarize(s).p50);
    // Paired per-round ratios cancel drift that a busy machine adds to all contenders alike.
    const paired = (x: number, y: number) =>
      summarize(samples[x]!.map((v, i) => v / samples[y]![i]!)).p50;
    const pairedCpu = (x: number, y: number) =>
      summarize(cpuSamples[y]!.map((v, i) => v / cpuSamples[x]![i]!)).p50;
    const agree = tokens.every((t) => t.join() === tokens[0]!.join());
    const report: LengthReport = {
      prompt_tokens: len,
      decode_tokens_per_s: Object.fromEntries(contenders.map(([name], i) => [name, samples[i]!])),
      median_decode_tokens_per_s: Object.fromEntries(
        contenders.map(([name], i) => [name, medians[i]!]),
      ),
      decode_cpu_ms_per_token: Object.fromEntries(
        contenders.map(([name], i) => [name, cpuSamples[i]!]),
      ),
      median_decode_cpu_ms_per_token: Object.fromEntries(
        contenders.map(([name], i) => [name, cpuMedians[i]!]),
      ),
      in_place_over_copy: twin ? paired(iInPlace, iCopy) : null,
      in_place_over_transformers_js: twin ? paired(iInPlace, iTjs) : null,
      copy_over_transformers_js: paired(iCopy, iTjs),
      copy_over_raw: paired(iCopy, 0),
      in_place_over_copy_cpu: twin ? pairedCpu(iInPlace, iCopy) : null,
      in_place_over_transformers_js_cpu: twin ? pairedCpu(iInPlace, iTjs) : null,
      in_place_cache_bytes: twin
        ? kvCacheBytes({
          layers: twin.numLayers,
          batch: 1,
          kvHeads: twin.numKvHeads,
          headDim: twin.headDim,
          maxLength: len + n,
          dtype: twin.kvDtype,
        })
        : null,
      tokens_agree: agree,
    };
    reports.push(report);
    const ratio = (x: number | null) => x === null ? "n/a" : `${x.toFixed(2)}×`;
    lines.push(
      `| ${len} | ${
        medians.map((m, i) => `${m.toFixed(1)} [${cpuMedians[i]!.toFixed(2)}]`).join(" | ")
      } | ${ratio(report.in_place_over_copy)} [${ratio(report.in_place_over_copy_cpu)}] | ${
        ratio(report.in_place_over_transformers_js)
      } [${ratio(report.in_place_over_transformers_js_cpu)}] | ${agree ? "yes" : "NO"} |`,
    );
  }
  if (twin) {
    lines.push(
      `in-place cache: ${
        reports.map((r) =>
          `${r.prompt_tokens}+${n} tokens ${(r.in_place_cache_bytes! / 2 ** 20).toFixed(1)} MiB`
        ).join(", ")
      } (max length × layers × kv heads × head dim × bytes × 2)`,
    );
  } else {
    lines.push(`no in-place graph for ${values.model} (not built by this project): copy path only`);
  }
  console.log(lines.join("\n"));
  if (values.output) {
    await Deno.writeTextFile(
      values.output,
      JSON.stringify(
        {
          timestamp: new Date().toISOString(),
          model: values.model,
          in_place_model: twinRef,
          dtype,
          execution_provider: model.executionProvider,
          max_new_tokens: n,
          rounds,
          warmup,
          threads,
          lengths: reports,
          tokens_agree: reports.every((r) => r.tokens_agree),
        },
        null,
        2,
      ) + "\n",
    );
  }
  await model.dispose();
  await twin?.dispose();
  if (!reports.every((r) => r.tokens_agree)) {
    console.error("warning: the contenders' greedy tokens differ (see 'tokens agree')");
  }
  return 0;
}

if (import.meta.main) await runCli(main);
