/**
 * llama.cpp's own programs, run as subprocesses: `llama-batched-bench` measures decode after a
 * prompt of a given length (the quantity the project's decode tokens/s measures), and
 * `llama-quantize` turns a float32 GGUF into Q4_0 / Q8_0 with llama.cpp's own code, so the
 * comparison uses llama.cpp's formats exactly as llama.cpp writes them. Nothing here is bundled:
 * the user points `--llama-cpp DIR` (or `LLAMA_CPP_BIN`) at a folder with the built programs.
 *
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";

/** The llama.cpp programs the comparison runs. */
export interface LlamaCppTools {
  /** Folder holding the programs. */
  dir: string;
  /** `llama-batched-bench`. */
  batchedBench: string;
  /** `llama-quantize`. */
  quantize: string;
}

/**
 * Finds llama.cpp's programs in a folder (a llama.cpp build's `build/bin`).
 *
 * @param dir The folder; `LLAMA_CPP_BIN` when undefined.
 * @returns The program paths.
 * @throws {TypeError} one line naming the flag, the folder and the missing program.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findLlamaCpp } from "./tools.ts";
 * assert.throws(() => findLlamaCpp("/nonexistent"), /--llama-cpp: .*llama-batched-bench/);
 * ```
 */
export function findLlamaCpp(dir?: string): LlamaCppTools {
  const from = dir ?? Deno.env.get("LLAMA_CPP_BIN");
  if (!from) {
    throw new TypeError(
      "--llama-cpp: give the folder with llama.cpp's built programs (llama-batched-bench, " +
        "llama-quantize), e.g. llama.cpp/build/bin, or set LLAMA_CPP_BIN",
    );
  }
  const tools = {
    dir: from,
    batchedBench: join(from, "llama-batched-bench"),
    quantize: join(from, "llama-quantize"),
  };
  for (const path of [tools.batchedBench, tools.quantize]) {
    if (!existsSync(path)) throw new TypeError(`--llama-cpp: '${path}' does not exist`);
  }
  return tools;
}

/** llama.cpp's quantization types the comparison uses, by the project's dtype they match. */
export const LLAMA_CPP_TYPE: Readonly<Record<string, string>> = Object.freeze({
  fp32: "F32",
  fp16: "F16",
  q8: "Q8_0",
  q4: "Q4_0",
});

/** One `llama-batched-bench` measurement (its JSON line). */
export interface BatchedBenchResult {
  /** Prompt tokens. */
  pp: number;
  /** Decode steps after the prompt. */
  tg: number;
  /** Sequences. */
  pl: number;
  /** Threads it ran with. */
  n_threads: number;
  /** Seconds of the prompt. */
  t_pp: number;
  /** Seconds of the `tg` decode steps. */
  t_tg: number;
  /** Decode tokens/s (`pl · tg / t_tg`). */
  speed_tg: number;
}

/**
 * Reads the JSON line of `llama-batched-bench --output-format jsonl` from its output (the
 * program logs other lines too).
 *
 * @param output Its stdout and stderr.
 * @returns The measurement.
 * @throws {SyntaxError} when no line holds one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBatchedBench } from "./tools.ts";
 * const r = parseBatchedBench('load...\n{"n_threads": 2, "pp": 128, "tg": 31, "pl": 1, ' +
 *   '"t_pp": 0.1, "speed_pp": 1280, "t_tg": 0.031, "speed_tg": 1000.0}\n');
 * assert.equal(r.speed_tg, 1000);
 * assert.equal(r.tg, 31);
 * ```
 */
export function parseBatchedBench(output: string): BatchedBenchResult {
  for (const line of output.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{") || !t.includes('"speed_tg"')) continue;
    const j = JSON.parse(t);
    const num = (k: string) => {
      const v = j[k];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new SyntaxError(`llama-batched-bench: '${k}' missing from its JSON line`);
      }
      return v;
    };
    return {
      pp: num("pp"),
      tg: num("tg"),
      pl: num("pl"),
      n_threads: num("n_threads"),
      t_pp: num("t_pp"),
      t_tg: num("t_tg"),
      speed_tg: num("speed_tg"),
    };
  }
  throw new SyntaxError(
    `llama-batched-bench printed no JSON result; its last lines:\n${
      output.trim().split("\n").slice(-3).join("\n")
    }`,
  );
}

/** Options of {@linkcode runBatchedBench}. */
export interface BatchedBenchOptions {
  /** The GGUF file. */
  model: string;
  /** Prompt tokens. */
  context: number;
  /** Decode steps after the prompt (the project's new tokens − 1). */
  decodeSteps: number;
  /** Threads (`-t`). */
  threads: number;
}

/**
 * Runs `llama-batched-bench` once: one sequence, a prompt of `context` tokens, then
 * `decodeSteps` single-token decode steps, each producing logits — the same work as one of the
 * project's generations after its first token. Only the decode steps are timed by llama.cpp.
 *
 * @param tools The programs.
 * @param options Model, context, steps, threads.
 * @returns The measurement.
 * @throws {Error} naming the program and its last output lines when it fails.
 * @example
 * ```ts ignore
 * const r = await runBatchedBench(findLlamaCpp(), { model: "q4.gguf", context: 128, decodeSteps: 31, threads: 2 });
 * ```
 */
export async function runBatchedBench(
  tools: LlamaCppTools,
  options: BatchedBenchOptions,
): Promise<BatchedBenchResult> {
  const n = options.context + options.decodeSteps;
  const args = [
    "-m",
    options.model,
    "-c",
    String(n + 16),
    "-b",
    String(Math.max(2048, options.context)),
    "-ub",
    "512",
    "-npp",
    String(options.context),
    "-ntg",
    String(options.decodeSteps),
    "-npl",
    "1",
    "-t",
    String(options.threads),
    "-tb",
    String(options.threads),
    "--output-format",
    "jsonl",
  ];
  const out = await new Deno.Command(tools.batchedBench, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `llama-batched-bench exited with ${out.code}; its last lines:\n${
        text.trim().split("\n").slice(-3).join("\n")
      }`,
    );
  }
  const r = parseBatchedBench(text);
  // A result for other work than asked (another build's flags, a silently clamped context) or an
  // impossible time is not a measurement of this turn.
  const asked = { pp: options.context, tg: options.decodeSteps, pl: 1, n_threads: options.threads };
  for (const [k, v] of Object.entries(asked)) {
    if (r[k as keyof typeof asked] !== v) {
      throw new Error(`llama-batched-bench ran ${k} = ${r[k as keyof typeof asked]}, not ${v}`);
    }
  }
  if (!(r.t_tg > 0)) throw new Error(`llama-batched-bench reported t_tg = ${r.t_tg} s`);
  return r;
}

/**
 * Quantizes a float32 GGUF with `llama-quantize` into a temporary file renamed into place, so a
 * failed run leaves nothing behind.
 *
 * @param tools The programs.
 * @param f32 The float32 GGUF.
 * @param type llama.cpp's type name (`Q4_0`, `Q8_0`, `F16`).
 * @param out The file to write.
 * @param threads Threads.
 * @throws {Error} naming the program and its last output lines when it fails.
 * @example
 * ```ts ignore
 * await quantizeGguf(findLlamaCpp(), "F32.gguf", "Q4_0", "Q4_0.gguf", 2);
 * ```
 */
export async function quantizeGguf(
  tools: LlamaCppTools,
  f32: string,
  type: string,
  out: string,
  threads: number,
): Promise<void> {
  const tmp = `${out}.partial`;
  const r = await new Deno.Command(tools.quantize, {
    args: [f32, tmp, type, String(threads)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    await Deno.remove(tmp).catch(() => {});
    const text = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3).join("\n");
    throw new Error(`llama-quantize ${type} exited with ${r.code}: ${text}`);
  }
  await Deno.rename(tmp, out);
}

/**
 * The llama.cpp build's version line (`version: 1 (c392e50)` → `1 (c392e50)`), recorded with
 * every comparison; `unknown` when the program does not say.
 *
 * @param tools The programs.
 * @returns The version text.
 * @example
 * ```ts ignore
 * console.log(await llamaCppVersion(findLlamaCpp()));
 * ```
 */
export async function llamaCppVersion(tools: LlamaCppTools): Promise<string> {
  const r = await new Deno.Command(tools.batchedBench, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return /version:\s*(.+)/.exec(text)?.[1]?.trim() ?? "unknown";
}
