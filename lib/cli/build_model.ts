/**
 * `deno task build-model --preset tiny --out DIR [--seed 42] [--dtypes fp32,q4] [--force]`:
 * builds a model directory and prints a summary (parameters, per-dtype bytes and build time, peak
 * RSS). `--from CHECKPOINT` imports a Hugging Face checkpoint instead of a preset. The report goes
 * to stdout as JSON with `--json`.
 *
 * @module
 */
import "./_quiet.ts"; // first: silences DEP0040 before any dependency loads
import { parseDtypes } from "../dtypes.ts";
import { ATTENTION_KINDS, buildModel, type BuildReport } from "../model/build.ts";
import { PRESETS } from "../model/presets.ts";
import { IMPORT_ARCHITECTURES, importCheckpoint, type ImportReport } from "../model/import/mod.ts";
import { basename, dirname, join } from "node:path";
import { checkOutDir, intFlag, parseFlags, runCli } from "./_cli.ts";

const USAGE = `Usage: deno task build-model (--preset NAME | --from CHECKPOINT) --out DIR [options]

Builds a Llama-architecture causal LM (random deterministic weights) in the Hugging Face /
transformers.js layout: config.json, tokenizer.json, model.safetensors, onnx/model*.onnx.
With --from, converts a Hugging Face checkpoint (config.json, model.safetensors or sharded
model-*.safetensors + model.safetensors.index.json in F32/F16/BF16, tokenizer.json) instead.

Options:
  --preset NAME     one of ${Object.keys(PRESETS).join(", ")}
  --from DIR        a Hugging Face checkpoint: ${Object.keys(IMPORT_ARCHITECTURES).join(", ")}
  --max-positions N with --from: positions the RoPE caches cover (default: the checkpoint's)
  --out DIR         output directory (must not exist unless --force)
  --seed N          weight seed (default 42; presets only)
  --dtypes LIST     ONNX variants, e.g. fp32,fp16,q8,q4,q4f16 (default fp32; others need the quantizer)
  --attention KIND  standard (opset-17 ops, honours left padding), gqa (com.microsoft
                    GroupQueryAttention, onnxruntime-genai style) or in_place (a fixed-size
                    cache input the engine never moves, only new K/V out); default standard
  --force           replace an existing output directory
  --json            print the build report as JSON on stdout
  --verbose         stack traces on errors`;

/**
 * Formats a build report as a few human-readable lines.
 *
 * @param report The report of `buildModel`.
 * @returns The summary text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBuildReport } from "./build_model.ts";
 * const text = formatBuildReport({
 *   preset: "tiny", outDir: "/m", seed: 42, config: {} as never, parameters: 1000,
 *   safetensorsBytes: 4000, files: [{ dtype: "fp32", path: "/m/onnx/model.onnx", bytes: 5000, buildMs: 12 }],
 *   totalMs: 50, peakRssBytes: 2 ** 26,
 * });
 * assert(text.includes("fp32"));
 * ```
 */
export function formatBuildReport(report: BuildReport): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const lines = [
    `built ${report.preset} (seed ${report.seed}) in ${report.outDir}`,
    `  parameters      ${report.parameters.toLocaleString("en-US")}`,
    `  safetensors     ${mib(report.safetensorsBytes)}`,
    ...report.files.map((f) =>
      `  ${f.dtype.padEnd(15)} ${mib(f.bytes).padStart(12)}  ${
        f.buildMs.toFixed(0).padStart(7)
      } ms  ${f.path}`
    ),
    `  total time      ${report.totalMs.toFixed(0)} ms`,
    `  peak RSS        ${mib(report.peakRssBytes)}`,
  ];
  return lines.join("\n");
}

/**
 * Formats an import report as a few human-readable lines.
 *
 * @param report The report of `importCheckpoint`.
 * @returns The summary text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatImportReport } from "./build_model.ts";
 * const text = formatImportReport({
 *   from: "/ckpt", outDir: "/m", architecture: "LlamaForCausalLM", config: {} as never,
 *   parameters: 1000, sourceDtypes: { BF16: 3 }, notes: [], totalMs: 5, peakRssBytes: 2 ** 26,
 *   files: [{ dtype: "fp32", path: "/m/onnx/model.onnx", bytes: 5000, buildMs: 12 }],
 * });
 * assert(text.includes("LlamaForCausalLM") && text.includes("BF16"));
 * ```
 */
export function formatImportReport(report: ImportReport): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const tensors = Object.entries(report.sourceDtypes).map(([k, v]) => `${v} ${k}`).join(", ");
  return [
    `imported ${report.architecture} from ${report.from} into ${report.outDir}`,
    `  parameters      ${report.parameters.toLocaleString("en-US")} (tensors: ${tensors})`,
    ...report.notes.map((n) => `  note            ${n}`),
    ...report.files.map((f) =>
      `  ${f.dtype.padEnd(15)} ${mib(f.bytes).padStart(12)}  ${
        f.buildMs.toFixed(0).padStart(7)
      } ms  ${f.path}`
    ),
    `  total time      ${report.totalMs.toFixed(0)} ms`,
    `  peak RSS        ${mib(report.peakRssBytes)}`,
  ].join("\n");
}

function attentionFlag(value: string | undefined): typeof ATTENTION_KINDS[number] {
  if (value === undefined) return "standard";
  const kind = ATTENTION_KINDS.find((k) => k === value);
  if (kind === undefined) {
    throw new RangeError(
      `'--attention' must be one of ${ATTENTION_KINDS.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return kind;
}

/** Staging folders beside `--out` (`OUT.tmp-PID-RANDOM`, lib/model's `stagingPath`) of `pid`. */
function stagingOf(out: string, pid: number | null): RegExp {
  const name = basename(out).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${name}\\.tmp-(${pid ?? "\\d+"})-[0-9a-z]+$`);
}

function stagingDirs(out: string, pid: number | null): [string, number][] {
  const found: [string, number][] = [];
  const pattern = stagingOf(out, pid);
  try {
    for (const entry of Deno.readDirSync(dirname(out))) {
      const match = pattern.exec(entry.name);
      if (match) found.push([join(dirname(out), entry.name), Number(match[1])]);
    }
  } catch {
    // no parent directory yet: nothing staged
  }
  return found;
}

/** Removes what a build killed earlier (kill -9, power loss) left beside `--out`. */
async function removeDeadStaging(out: string): Promise<void> {
  for (const [path, pid] of stagingDirs(out, null)) {
    const alive = pid === Deno.pid || await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (alive) continue;
    await Deno.remove(path, { recursive: true }).catch(() => {});
    console.error(`note: removed ${path}, left by an interrupted build (process ${pid})`);
  }
}

/**
 * Ctrl-C: remove this build's staging folder, say so in one line, exit 130. Synchronous, so the
 * build cannot go on (and fail on the removed folder) before the exit.
 */
function onInterrupt(out: string): void {
  Deno.addSignalListener("SIGINT", () => {
    for (const [path] of stagingDirs(out, Deno.pid)) {
      try {
        Deno.removeSync(path, { recursive: true });
      } catch {
        // a later run removes it
      }
    }
    console.error(
      `interrupted: '--out' ${out} was not written (the partial build was removed); ` +
        `run the same command again to build it`,
    );
    Deno.exit(130);
  });
}

if (import.meta.main) {
  await runCli(async () => {
    const { values } = parseFlags(Deno.args, {
      preset: { type: "string" },
      from: { type: "string" },
      "max-positions": { type: "string" },
      out: { type: "string" },
      seed: { type: "string" },
      dtypes: { type: "string" },
      force: { type: "boolean", default: false },
      attention: { type: "string" },
      json: { type: "boolean", default: false },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (values.out === undefined) throw new TypeError("missing required flag --out");
    // --force replaces a model directory, never a file (nor a file with a directory).
    await checkOutDir(values.out, "--out");
    await removeDeadStaging(values.out);
    onInterrupt(values.out);
    const dtypes = values.dtypes === undefined
      ? ["fp32" as const]
      : parseDtypes(values.dtypes, "--dtypes");
    if (values.from !== undefined) {
      if (values.preset !== undefined) {
        throw new TypeError("pass either --preset or --from, not both");
      }
      const maxPositions = values["max-positions"] === undefined
        ? undefined
        : intFlag(values["max-positions"], "--max-positions", { min: 1, fallback: 1 });
      const report = await importCheckpoint({
        from: values.from,
        outDir: values.out,
        dtypes,
        force: values.force,
        ...(maxPositions === undefined ? {} : { maxPositions }),
      });
      if (values.json) console.log(JSON.stringify(report, null, 2));
      else console.log(formatImportReport(report));
      return 0;
    }
    if (values.preset === undefined) {
      throw new TypeError("missing required flag --preset or --from");
    }
    const report = await buildModel({
      preset: values.preset,
      outDir: values.out,
      seed: intFlag(values.seed, "--seed", { min: 0, fallback: 42 }),
      dtypes,
      force: values.force,
      attention: attentionFlag(values.attention),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatBuildReport(report));
    return 0;
  });
}
