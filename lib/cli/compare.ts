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
 * Presets and checkpoint folders decode in place by default, so for `preset:NAME[@SEED]` (or a
 * checkpoint folder) the copy contenders run its `+copy_kv` graph and the in-place contender the
 * default one; for a directory this project built, the in-place twin is
 * `preset:NAME[@SEED]+in_place`. `--in-place-model REF` names one explicitly.
 * A model with no in-place twin (a Hub export) runs the other three.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { join } from "node:path";
import { DTYPES, isDtype } from "../dtypes.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { kvCacheBytes } from "../engine/kv_cache.ts";
import { PROMPT_FAMILIES, type PromptFamily, promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { isCheckpointDir } from "../model/ensure.ts";
import { summarize } from "../measure/stats.ts";
import { runRounds } from "../measure/rounds.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";
import { type Contender, engine, gqaSharedLoop, rawLoop, transformersJs } from "./_compare.ts";
import type { DecoderModel } from "../engine/decoder.ts";

const USAGE = `Usage: deno task compare [--model preset:small] [--dtype q4]
  [--prompt-tokens 128,512,2048] [--max-new-tokens 32] [--warmup 1] [--rounds 5] [--threads 0]
  [--family conversational] [--in-place-model REF] [--gqa-shared] [--output compare.json]`;

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
  "gqa-shared": { type: "boolean" },
  output: { type: "string" },
} as const;

/** The in-place twin of `preset:NAME[@SEED]` or of a directory this project built, else null. */
async function inPlaceTwin(ref: string, dir: string): Promise<string | null> {
  if (isCheckpointDir(ref)) return ref; // converted with the in-place graph by default
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
  if (values["gqa-shared"] && !/^preset:[\w.@-]+$/.test(values.model)) {
    throw new RangeError(`'--gqa-shared' needs '--model preset:NAME', got '${values.model}'`);
  }
  const lengths = lengthsFlag(values["prompt-tokens"]);
  const n = intFlag(values["max-new-tokens"], "--max-new-tokens", { min: 2, fallback: 32 });
  const warmup = intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 });
  const rounds = intFlag(values.rounds, "--rounds", { min: 1, fallback: 5 });
  const threads = intFlag(values.threads, "--threads", { min: 0, fallback: 0 });
  const dtype = values.dtype;
  // Presets and checkpoints default to the in-place graph: the copy contender is their copy_kv.
  const copyRef = /^preset:[^+]+$/.test(values.model) || isCheckpointDir(values.model)
    ? `${values.model}+copy_kv`
    : values.model;
  const resolved = await resolveModel(copyRef, { dtypes: [dtype] });
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
  let gqa: DecoderModel | null = null;
  if (values["gqa-shared"]) {
    gqa = await loadDecoder(await resolveModel(`${values.model}+gqa`, { dtypes: [dtype] }), {
      dtype,
      threads,
    });
    if (gqa.kvDtype !== "float32") {
      throw new RangeError(
        `'--gqa-shared' needs a float32 KV cache; dtype ${dtype} has ${gqa.kvDtype}`,
      );
    }
    contenders.push(["gqa, shared past/present buffer", gqaSharedLoop(gqa)]);
  }
  const iCopy = 1, iInPlace = twin ? 2 : -1, iTjs = twin ? 3 : 2;
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
    // The sweep's round loop (lib/measure/rounds.ts), rotating who goes first so no contender
    // always follows the same one (ORT pool threads spin for a while after a run, and caches
    // stay warm for whoever comes next); the first `warmup` rounds are not recorded.
    await runRounds(
      contenders.map(([name, run], i) => ({
        id: name,
        turn: async ({ round }: { round: number }) => {
          const r = await run(prompt, n);
          tokens[i] = r.tokens;
          if (round > warmup) {
            samples[i]!.push(r.decodeTokensPerS);
            cpuSamples[i]!.push(r.decodeCpuMsPerToken);
          }
          console.error(
            `${len} tokens, ${
              round <= warmup ? "warmup" : `round ${round - warmup}/${rounds}`
            } ${name}: ${r.decodeTokensPerS.toFixed(1)} tokens/s, ${
              r.decodeCpuMsPerToken.toFixed(2)
            } CPU ms/token`,
          );
          return [];
        },
      })),
      {
        minRounds: warmup + rounds,
        maxRounds: warmup + rounds,
        order: "rotate",
        onArmError: (_, error) => {
          throw error; // a contender that fails fails the comparison
        },
      },
    );
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
  await gqa?.dispose();
  if (!reports.every((r) => r.tokens_agree)) {
    console.error("warning: the contenders' greedy tokens differ (see 'tokens agree')");
  }
  return 0;
}

if (import.meta.main) await runCli(main);
