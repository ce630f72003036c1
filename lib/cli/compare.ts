/**
 * `deno task compare`: decoding speed of three ways to run the same model, dtype and prompt in
 * one process — (a) a minimal raw `session.run` greedy loop, (b) this project's engine
 * (`generate()`), (c) transformers.js `model.generate()` — with the decode tokens/s of each
 * (tokens 2..N) and the ratios b/a and b/c. Rounds interleave the three so drift hits all alike;
 * the reported figures are medians over rounds, the ratios medians of per-round ratios.
 * Targets: (b) within 3 % of (a), ≥ 1.3× (c).
 *
 * ```
 * deno task compare --model preset:small --dtype q4 --prompt-tokens 128 --max-new-tokens 64
 * ```
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import * as ort from "onnxruntime-node";
import { AutoModelForCausalLM, BaseStreamer, Tensor as HfTensor } from "@huggingface/transformers";
import { DTYPES, isDtype } from "../dtypes.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { generate } from "../engine/generate.ts";
import { PROMPT_FAMILIES, type PromptFamily, promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { summarize } from "../measure/stats.ts";
import type { OnnxSession } from "../runtime/session.ts";
import { emptyKv } from "../runtime/tensors.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";
import type { DecoderModel } from "../engine/decoder.ts";

const USAGE = `Usage: deno task compare [--model preset:small] [--dtype q4] [--prompt-tokens 128]
  [--max-new-tokens 64] [--warmup 2] [--rounds 5] [--threads 0] [--family conversational]
  [--output compare.json]`;

const FLAGS = {
  model: { type: "string", default: "preset:small" },
  dtype: { type: "string", default: "q4" },
  "prompt-tokens": { type: "string" },
  "max-new-tokens": { type: "string" },
  warmup: { type: "string" },
  rounds: { type: "string" },
  threads: { type: "string" },
  family: { type: "string", default: "conversational" },
  output: { type: "string" },
} as const;

/** One way of generating: returns the decode tokens/s of one run and the tokens made. */
type Contender = (
  prompt: number[],
  n: number,
) => Promise<{ decodeTokensPerS: number; tokens: number[] }>;

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
    // Only the last position's logits are read: ask for just those where the graph can.
    if (s.inputNames.includes("num_logits_to_keep")) {
      feeds.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(1n), []);
    }
    for (const name of past) {
      feeds[name] = emptyKv(model.kvDtype, 1, model.numKvHeads, model.headDim);
    }
    const tokens: number[] = [];
    let start = 0;
    for (let t = 0; t < n; t++) {
      const out = await s.session.run(feeds);
      const logits = out.logits!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      const offset = (logits.dims[1]! - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (data[offset + v]! > data[offset + best]!) best = v;
      tokens.push(best);
      if (t === 0) start = performance.now();
      feeds.input_ids = ids([best]);
      feeds.attention_mask = ones(len + t + 1);
      if (withPositions) feeds.position_ids = range(len + t, 1);
      past.forEach((name, i) => feeds[name] = out[present[i]!]!);
    }
    return { decodeTokensPerS: (n - 1) / (performance.now() - start) * 1000, tokens };
  };
}

/** (b) This project's engine. */
function engine(model: DecoderModel): Contender {
  return async (prompt, n) => {
    const r = await generate(model, [prompt], { maxNewTokens: n });
    return { decodeTokensPerS: r.decodeTokensPerS!, tokens: r.tokens[0]! };
  };
}

/** (c) transformers.js `generate()`, timed from the first generated token a streamer sees. */
class FirstTokenClock extends BaseStreamer {
  calls = 0;
  first = 0;
  override put(): void {
    if (++this.calls === 2) this.first = performance.now();
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
    return { decodeTokensPerS: (n - 1) / (end - clock.first) * 1000, tokens: ids };
  };
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
  const promptTokens = intFlag(values["prompt-tokens"], "--prompt-tokens", {
    min: 1,
    fallback: 128,
  });
  const n = intFlag(values["max-new-tokens"], "--max-new-tokens", { min: 2, fallback: 64 });
  const warmup = intFlag(values.warmup, "--warmup", { min: 0, fallback: 2 });
  const rounds = intFlag(values.rounds, "--rounds", { min: 1, fallback: 5 });
  const threads = intFlag(values.threads, "--threads", { min: 0, fallback: 0 });
  const dtype = values.dtype;
  const resolved = await resolveModel(values.model, { dtypes: [dtype] });
  const prompt = promptIds(resolved.tokenizer, values.family as PromptFamily, promptTokens);
  const model = await loadDecoder(resolved, { dtype, threads });
  const contenders: [string, Contender][] = [
    // The raw loop runs the engine's own session: same graph, same thread pool, so the only
    // difference is the JavaScript around session.run.
    ["raw session.run loop", rawLoop(model.session, model)],
    ["turbo engine", engine(model)],
    ["transformers.js generate()", await transformersJs(resolved.dir, dtype, threads)],
  ];
  const samples = contenders.map(() => [] as number[]);
  const tokens: number[][] = contenders.map(() => []);
  for (let round = -warmup; round < rounds; round++) {
    // Rotate who goes first, so no contender always follows the same one (ORT pool threads spin
    // for a while after a run, and caches stay warm for whoever comes next).
    const order = contenders.map((_, k) => (k + round + warmup) % contenders.length);
    for (const i of order) {
      const [name, run] = contenders[i]!;
      const r = await run(prompt, n);
      tokens[i] = r.tokens;
      if (round >= 0) samples[i]!.push(r.decodeTokensPerS);
      console.error(
        `${round < 0 ? "warmup" : `round ${round + 1}/${rounds}`} ${name}: ${
          r.decodeTokensPerS.toFixed(1)
        } tokens/s`,
      );
    }
  }
  const agree = tokens.every((t) => t.join() === tokens[0]!.join());
  const medians = samples.map((s) => summarize(s).p50);
  const [a, b, c] = medians as [number, number, number];
  // Paired per-round ratios cancel drift that a busy machine adds to all three alike.
  const paired = (x: number, y: number) =>
    summarize(samples[x]!.map((v, i) => v / samples[y]![i]!)).p50;
  const overRaw = paired(1, 0);
  const overTjs = paired(1, 2);
  const lines = [
    `${values.model} ${dtype} on ${model.executionProvider}: ${promptTokens} prompt + ${n} new tokens, median of ${rounds} rounds`,
    ...contenders.map(([name], i) =>
      `${name.padEnd(28)} ${medians[i]!.toFixed(1).padStart(10)} decode tokens/s`
    ),
    `engine / raw loop            ${(b / a).toFixed(3)} (overhead ${
      ((a / b - 1) * 100).toFixed(1)
    } %)`,
    `engine / transformers.js     ${(b / c).toFixed(2)}×`,
    `greedy tokens agree: ${agree ? "yes" : "NO"}`,
  ];
  console.log(lines.join("\n"));
  if (values.output) {
    await Deno.writeTextFile(
      values.output,
      JSON.stringify(
        {
          timestamp: new Date().toISOString(),
          model: values.model,
          dtype,
          execution_provider: model.executionProvider,
          prompt_tokens: promptTokens,
          max_new_tokens: n,
          rounds,
          threads,
          decode_tokens_per_s: Object.fromEntries(
            contenders.map(([name], i) => [name, samples[i]]),
          ),
          median_decode_tokens_per_s: { raw: a, engine: b, transformers_js: c },
          engine_over_raw: overRaw,
          engine_over_transformers_js: overTjs,
          tokens_agree: agree,
        },
        null,
        2,
      ) + "\n",
    );
  }
  await model.dispose();
  return 0;
}

if (import.meta.main) await runCli(main);
