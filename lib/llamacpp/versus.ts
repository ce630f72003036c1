/**
 * This project's decode against llama.cpp's on the same weights, measured as an experiment: for
 * every dtype and context one block of three arms — this project's decoder (loaded once, in
 * process), `llama-batched-bench` on the matching GGUF, and a second `llama-batched-bench` run as
 * the A/A control — taking turns in interleaved rounds (lib/measure/rounds.ts, order drawn afresh
 * every round). Each turn is one generation of `newTokens` tokens after a `context`-token prompt;
 * both engines time only the decode steps after the first token, so both rates are
 * `(newTokens − 1) / decode time`. The statistics come from lib/analysis (`versusCell`).
 *
 * The GGUF files are made once and cached: the builder's float32 safetensors converted by
 * `convertToGguf`, then quantized by llama.cpp's own `llama-quantize` (Q4_0, Q8_0), so llama.cpp
 * runs its own formats on the same weights.
 *
 * @module
 */
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { pooledRate, type RepRow } from "../analysis/cell.ts";
import { versusCell, type VersusCellStats } from "../analysis/versus.ts";
import { loadDecoder } from "../engine/decoder.ts";
import { generate } from "../engine/generate.ts";
import { promptIds } from "../engine/prompts.ts";
import { resolveModel } from "../engine/resolve.ts";
import { runRounds } from "../measure/rounds.ts";
import { summarize } from "../measure/stats.ts";
import { quantizationLabel, readQuantizationMetadata } from "../quantize/quantization_metadata.ts";
import { parseSpeedSetting } from "../speed/setting.ts";
import { prepareVariant } from "../speed/side_by_side.ts";
import { convertToGguf } from "./convert.ts";
import { LLAMA_CPP_TYPE, type LlamaCppTools, quantizeGguf, runBatchedBench } from "./tools.ts";
import { readStoredWeights, type StoredWeights } from "../quantize/step_bytes.ts";
import { readGgufHeader } from "./gguf_read.ts";
import { kvDtypeBytes } from "../runtime/tensors.ts";
import { ggufStoredWeights, type VersusRoofline, versusRoofline } from "./step_bytes.ts";

/** Options of {@linkcode runVersus}. */
export interface VersusOptions {
  /** The model folder (Hub layout with `onnx/model.onnx` fp32 and the safetensors it came from). */
  modelDir: string;
  /** How the user named the model (recorded). */
  modelName: string;
  /** llama.cpp's programs. */
  tools: LlamaCppTools;
  /** This project's dtypes (`q4`, `q8`, `fp32`, `fp16`), each against its llama.cpp type. */
  dtypes: readonly string[];
  /** Prompt lengths. */
  contexts: readonly number[];
  /** Tokens per generation (the first from the prompt). @default 32 */
  newTokens?: number;
  /** Measured rounds per block (a multiple of 3 puts each arm in each position alike). @default 6 */
  rounds?: number;
  /** Unrecorded rounds first. @default 1 */
  warmup?: number;
  /** Threads of both sides: llama.cpp's `-t`, this project's intra-op threads. */
  threads: number;
  /** Target ratio ours ÷ llama.cpp, judged on the interval. @default none */
  target?: number | null;
  /** Where the GGUF files and quantized variants are cached. */
  cacheDir: string;
  /**
   * The machine's measured read bandwidth, GB/s (lib/measure/bandwidth.ts), for the cells'
   * fractions of the bound; null leaves them empty. @default null
   */
  readGbS?: number | null;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

/** One turn of one arm. */
export interface VersusTurn {
  /** dtype of this project's arm. */
  dtype: string;
  /** llama.cpp's type. */
  llama_type: string;
  /** Prompt tokens. */
  context: number;
  /** Round, 1-based, warmup included. */
  round: number;
  /** Whether the round is a warmup (not analysed). */
  warmup: boolean;
  /** Position in the round's order. */
  position: number;
  /** `ours`, `llama.cpp` or `llama.cpp A/A`. */
  contender: "ours" | "llama.cpp" | "llama.cpp A/A";
  /** Tokens generated (the first from the prompt). */
  new_tokens: number;
  /** Milliseconds of the decode steps. */
  decode_ms: number;
  /** `(new_tokens − 1) / decode_ms · 1000`. */
  decode_tok_s: number;
  /**
   * Ours: milliseconds of the first decode step (the one after the prompt); null for llama.cpp,
   * whose bench reports only the total.
   */
  first_step_ms: number | null;
  /** Ours: the median of the later decode steps' milliseconds; null for llama.cpp. */
  later_step_median_ms: number | null;
}

/** One cell's result: the statistics, and each side's bytes per token against the bound. */
export interface VersusCell extends VersusCellStats, VersusRoofline {
  /** The model as named. */
  model: string;
  /** This project's dtype. */
  dtype: string;
  /** What this project's ONNX file says it was quantised with. */
  quantization: string;
  /** llama.cpp's type. */
  llama_type: string;
  /** Prompt tokens. */
  context: number;
  /** Tokens per generation. */
  new_tokens: number;
}

/**
 * The GGUF of a model in llama.cpp's type: `<cacheDir>/<model>/F32.gguf` converted once from the
 * safetensors, the other types quantized from it by `llama-quantize`.
 *
 * @param tools llama.cpp's programs.
 * @param modelDir The model folder.
 * @param type llama.cpp's type name.
 * @param cacheDir Cache root.
 * @param threads Threads for llama-quantize.
 * @returns The file.
 * @example
 * ```ts ignore
 * const q4 = await ensureGguf(findLlamaCpp(), ".cache/models/small-s42", "Q4_0", ".cache/llamacpp", 2);
 * ```
 */
export async function ensureGguf(
  tools: LlamaCppTools,
  modelDir: string,
  type: string,
  cacheDir: string,
  threads: number,
): Promise<string> {
  const source = weightsDir(modelDir);
  const dir = join(cacheDir, basename(modelDir));
  await Deno.mkdir(dir, { recursive: true });
  // The files stand for the weights they were made from: a rebuilt model (other config, other
  // safetensors) empties the folder first.
  const stampPath = join(dir, "source.json");
  const stamp = sourceStamp(source);
  const old = existsSync(stampPath) ? Deno.readTextFileSync(stampPath) : null;
  if (old !== stamp) {
    for (const e of Deno.readDirSync(dir)) if (e.isFile) Deno.removeSync(join(dir, e.name));
  }
  const f32 = join(dir, "F32.gguf");
  if (!existsSync(f32)) await convertToGguf(source, f32);
  if (old !== stamp) Deno.writeTextFileSync(stampPath, stamp);
  if (type === "F32") return f32;
  const out = join(dir, `${type}.gguf`);
  if (!existsSync(out)) await quantizeGguf(tools, f32, type, out, threads);
  return out;
}

/**
 * The folder holding a model's safetensors: the model folder itself (a built preset), or the
 * checkpoint a converted model records as its source.
 */
function weightsDir(modelDir: string): string {
  const has = (dir: string) =>
    ["model.safetensors", "model.safetensors.index.json"].some((f) => existsSync(join(dir, f)));
  if (has(modelDir)) return modelDir;
  const config = JSON.parse(Deno.readTextFileSync(join(modelDir, "config.json")));
  const source = config.turbo_inference?.source;
  if (typeof source === "string" && has(source)) return source;
  throw new RangeError(`--model: '${modelDir}' has no safetensors to convert to GGUF`);
}

/** What a model's GGUF files were made from: its config and the size and time of its weights. */
function sourceStamp(modelDir: string): string {
  const files = [...Deno.readDirSync(modelDir)]
    .filter((e) => e.isFile && /^(config\.json|.*\.safetensors(\.index\.json)?)$/.test(e.name))
    .map((e) => e.name).sort();
  return JSON.stringify(files.map((name) => {
    const st = Deno.statSync(join(modelDir, name));
    return [name, st.size, st.mtime?.getTime() ?? 0];
  })) + "\n";
}

/**
 * Runs the comparison: per dtype, the project's variant and llama.cpp's GGUF are prepared once;
 * per context, one block of interleaved rounds.
 *
 * @param options What to compare and how long.
 * @returns Every turn (warmups marked) and one cell per dtype × context.
 * @throws {RangeError} for a dtype without a llama.cpp counterpart or bad counts.
 * @example
 * ```ts ignore
 * const { cells } = await runVersus({ modelDir, modelName: "preset:small", tools: findLlamaCpp(),
 *   dtypes: ["q4"], contexts: [128, 2016], threads: 2, cacheDir: ".cache" });
 * ```
 */
export async function runVersus(
  options: VersusOptions,
): Promise<{ turns: VersusTurn[]; cells: VersusCell[] }> {
  const newTokens = options.newTokens ?? 32;
  const rounds = options.rounds ?? 6;
  const warmup = options.warmup ?? 1;
  const log = options.onProgress ?? (() => {});
  for (const dtype of options.dtypes) {
    if (!(dtype in LLAMA_CPP_TYPE)) {
      throw new RangeError(
        `--dtypes: '${dtype}' has no llama.cpp counterpart (one of ${
          Object.keys(LLAMA_CPP_TYPE).join(", ")
        })`,
      );
    }
  }
  for (const [name, v, min] of [["rounds", rounds, 2], ["warmup", warmup, 0]] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`--${name} must be an integer >= ${min}, got ${v}`);
    }
  }
  if (!Number.isInteger(newTokens) || newTokens < 2) {
    throw new RangeError(`--new-tokens must be an integer >= 2, got ${newTokens}`);
  }
  const turns: VersusTurn[] = [];
  const cells: VersusCell[] = [];
  for (const dtype of options.dtypes) {
    const llamaType = LLAMA_CPP_TYPE[dtype]!;
    log(`preparing ${dtype} and llama.cpp ${llamaType}`);
    const gguf = await ensureGguf(
      options.tools,
      options.modelDir,
      llamaType,
      join(options.cacheDir, "llamacpp"),
      options.threads,
    );
    const variant = await prepareVariant(
      options.modelDir,
      parseSpeedSetting(dtype),
      join(options.cacheDir, "speed"),
    );
    const resolved = await resolveModel(variant, { dtypes: [dtype as "q4"] });
    const decoder = await loadDecoder(resolved, { dtype: dtype as "q4", threads: options.threads });
    const quantization = quantizationLabel(
      await readQuantizationMetadata(resolved.onnxPath(dtype as "q4")),
    );
    // What a step of each side reads (lib/llamacpp/step_bytes.ts); a file that cannot be sized
    // leaves its side's roofline fields empty, and says so, rather than failing the comparison.
    const unsized = (file: string, error: unknown) => {
      log(`cannot size ${file}: ${String(error).split("\n")[0]} (its bytes columns stay empty)`);
      return null;
    };
    const ourWeights: StoredWeights | null = await readStoredWeights(
      resolved.onnxPath(dtype as "q4"),
    ).catch((error) => unsized(resolved.onnxPath(dtype as "q4"), error));
    let ggufWeights: StoredWeights | null = null;
    try {
      ggufWeights = ggufStoredWeights(readGgufHeader(gguf));
    } catch (error) {
      ggufWeights = unsized(gguf, error);
    }
    try {
      for (const context of options.contexts) {
        const prompt = promptIds(resolved.tokenizer, "conversational", context);
        const rows = { ours: [] as RepRow[], llama: [] as RepRow[], again: [] as RepRow[] };
        const record = (
          contender: VersusTurn["contender"],
          round: number,
          position: number,
          decodeMs: number,
          steps: readonly number[] = [],
        ): RepRow[] => {
          const rep: RepRow = {
            round,
            new_tokens: newTokens,
            batch: 1,
            decode_ms: decodeMs,
            status: "ok",
          };
          turns.push({
            dtype,
            llama_type: llamaType,
            context,
            round,
            warmup: round <= warmup,
            position,
            contender,
            new_tokens: newTokens,
            decode_ms: decodeMs,
            decode_tok_s: pooledRate([rep])!,
            first_step_ms: steps[0] ?? null,
            later_step_median_ms: steps.length > 1 ? summarize(steps.slice(1)).p50 : null,
          });
          return [rep];
        };
        const llamaTurn =
          (contender: "llama.cpp" | "llama.cpp A/A") =>
          async ({ round, position }: { round: number; position: number }) => {
            const r = await runBatchedBench(options.tools, {
              model: gguf,
              context,
              decodeSteps: newTokens - 1,
              threads: options.threads,
            });
            return record(contender, round, position, r.t_tg * 1000);
          };
        const arms = [
          {
            id: "ours",
            turn: async ({ round, position }: { round: number; position: number }) => {
              const r = await generate(decoder, [prompt], { maxNewTokens: newTokens });
              if (r.newTokens !== newTokens || !Number.isFinite(r.decodeMs)) {
                throw new Error(`ours made ${r.newTokens} of ${newTokens} tokens`);
              }
              return record("ours", round, position, r.decodeMs, r.tokenLatenciesMs);
            },
          },
          { id: "llama", turn: llamaTurn("llama.cpp") },
          { id: "again", turn: llamaTurn("llama.cpp A/A") },
        ];
        const { records } = await runRounds(arms, {
          minRounds: warmup + rounds,
          maxRounds: warmup + rounds,
          // Each arm takes each position in turn (first, middle, last): a position effect (what
          // ran just before, caches a process left) falls on every arm alike over 3 rounds.
          order: "rotate",
          onArmError: (_, error) => {
            throw error;
          },
          onRound: (round) =>
            log(
              `${dtype} @${context}: round ${round}/${warmup + rounds}${
                round <= warmup ? " (warmup)" : ""
              }`,
            ),
        });
        for (const r of records) {
          if (r.round > warmup) rows[r.armId as keyof typeof rows].push(r.result);
        }
        const stats = versusCell(rows.ours, rows.llama, rows.again, options.target ?? null);
        cells.push({
          model: options.modelName,
          dtype,
          quantization,
          llama_type: llamaType,
          context,
          new_tokens: newTokens,
          ...stats,
          ...versusRoofline({
            ours: ourWeights,
            llamacpp: ggufWeights,
            kv: {
              layers: decoder.numLayers,
              kvHeads: decoder.numKvHeads,
              headDim: decoder.headDim,
            },
            oursKvElementBytes: kvDtypeBytes(decoder.kvDtype),
            context,
            newTokens,
            oursTokS: stats.ours_median,
            llamacppTokS: stats.theirs_median,
            boundGbS: options.readGbS ?? null,
          }),
        });
      }
    } finally {
      await decoder.dispose();
    }
  }
  return { turns, cells };
}
