/**
 * `deno task vs-llamacpp --model REF --llama-cpp DIR [--dtypes q4] [--contexts 128,2016]
 * [--new-tokens 32] [--rounds 5] [--warmup 1] [--threads N] [--target 0.8] [--output DIR]` —
 * this project's decode against llama.cpp's on the same weights, in interleaved rounds with a
 * llama.cpp A/A control (lib/llamacpp/versus.ts). A Markdown table on stdout, progress on stderr,
 * `turns.csv`, `cells.csv` and `run.json` in the output folder.
 *
 * @module
 */
import "./_quiet.ts";
import { join } from "node:path";
import { resolveModel } from "../engine/resolve.ts";
import { physicalCores } from "../runtime/session_options.ts";
import { systemInfo } from "../runtime/system_info.ts";
import { writeVersusFiles } from "../llamacpp/files.ts";
import { findLlamaCpp, llamaCppVersion } from "../llamacpp/tools.ts";
import { runVersus } from "../llamacpp/versus.ts";
import { measureReadBandwidth } from "../measure/bandwidth.ts";
import { versusTable } from "../llamacpp/table.ts";
import { intFlag, parseFlags, runCli } from "./_cli.ts";

const HELP = `Usage: deno task vs-llamacpp --model REF --llama-cpp DIR [options]

Decode tokens/s of this project against llama.cpp on the same weights: the model's safetensors
converted to GGUF (F32) and quantized by llama.cpp's llama-quantize (q4 → Q4_0, q8 → Q8_0,
fp16 → F16, fp32 → F32). Per dtype and context, one block of interleaved rounds: this project's
decoder, llama-batched-bench, and llama-batched-bench again as the A/A control. Each turn makes
--new-tokens tokens after a --context-token prompt; both rates cover tokens 2..N. Each cell also
gives the bytes a step of each side must read (weights as stored, KV cache at the mean decode
position: f32 ours, f16 for an fp16 model, and f16 llama.cpp's) and the GB/s each side's median
rate makes of them, against the machine's read bandwidth, measured once before the rounds with
--threads threads.

  --model REF        preset:NAME, a checkpoint folder or a built folder (default preset:small)
  --llama-cpp DIR    folder with llama-batched-bench and llama-quantize (default LLAMA_CPP_BIN)
  --dtypes LIST      this project's dtypes, comma-separated (default q4)
  --contexts LIST    prompt lengths, comma-separated (default 128)
  --new-tokens N     tokens per generation (default 32)
  --rounds N         measured rounds per block (default 6; the arms rotate through the positions,
                     so a multiple of 3 puts each arm first, middle and last alike)
  --warmup N         unrecorded rounds first (default 1)
  --threads N        threads of both sides: llama.cpp's -t and this project's intra-op threads
                     (default: the physical cores, this project's decode default)
  --target X         judge ours ÷ llama.cpp against X on the interval (met / missed / not established)
  --output DIR       where turns.csv, cells.csv, run.json go (default benchmarks/llamacpp/<model>)`;

/** A folder name for a model reference: `preset:small` → `small`. */
function slug(ref: string): string {
  const last = ref.replace(/^preset:/, "").replace(/\/+$/, "").split("/").pop() ?? "model";
  return last.replace(/[^A-Za-z0-9._+-]/g, "_");
}

/** Comma-separated positive integers of a flag. */
function intList(value: string, flag: string): number[] {
  return value.split(",").filter((s) => s.trim() !== "").map((s) =>
    intFlag(s.trim(), flag, { min: 1, fallback: 1 })
  );
}

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      model: { type: "string", default: "preset:small" },
      "llama-cpp": { type: "string" },
      dtypes: { type: "string", default: "q4" },
      contexts: { type: "string", default: "128" },
      "new-tokens": { type: "string" },
      rounds: { type: "string" },
      warmup: { type: "string" },
      threads: { type: "string" },
      target: { type: "string" },
      output: { type: "string" },
    });
    if (values.help) {
      console.log(HELP);
      return;
    }
    const tools = findLlamaCpp(values["llama-cpp"]);
    let target: number | null = null;
    if (values.target !== undefined) {
      target = Number(values.target);
      if (!Number.isFinite(target) || target <= 0) {
        throw new RangeError(`--target must be a positive number, got '${values.target}'`);
      }
    }
    const dtypes = values.dtypes.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const contexts = intList(values.contexts, "--contexts");
    const threads = intFlag(values.threads, "--threads", { min: 1, fallback: physicalCores() });
    const modelDir = (await resolveModel(values.model, { dtypes: ["fp32"] })).dir;
    const info = await systemInfo();
    const version = await llamaCppVersion(tools);
    const loadBefore = Deno.loadavg();
    const started = new Date().toISOString();
    // The bound of the cells' GB/s (lib/measure/bandwidth.ts); a failed probe leaves the
    // fractions empty and says so.
    const bandwidth = await measureReadBandwidth({ threads }).catch((error) => {
      console.error(`bandwidth probe failed: ${String(error).split("\n")[0]}`);
      return null;
    });
    const result = await runVersus({
      modelDir,
      modelName: values.model,
      tools,
      dtypes,
      contexts,
      newTokens: intFlag(values["new-tokens"], "--new-tokens", { min: 2, fallback: 32 }),
      rounds: intFlag(values.rounds, "--rounds", { min: 2, fallback: 6 }),
      warmup: intFlag(values.warmup, "--warmup", { min: 0, fallback: 1 }),
      threads,
      target,
      readGbS: bandwidth?.read_gb_s ?? null,
      cacheDir: join(Deno.cwd(), ".cache"),
      onProgress: (line) => console.error(line),
    });
    const out = values.output ?? join("benchmarks", "llamacpp", slug(values.model));
    await writeVersusFiles(out, result, {
      model: values.model,
      llama_cpp_version: version,
      llama_cpp_threads: threads,
      ours_threads: threads,
      started,
      finished: new Date().toISOString(),
      load_average_before: loadBefore,
      load_average_after: Deno.loadavg(),
      git_commit: info.gitCommit,
      cpu: info.cpuModel,
      onnxruntime: info.onnxruntime,
      read_bandwidth: bandwidth,
    });
    console.log(versusTable(result.cells));
    console.error(`wrote ${out}/{cells.csv,turns.csv,run.json}`);
  });
}
