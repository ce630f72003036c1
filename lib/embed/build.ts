/**
 * Builds an encoder directory in the Hugging Face / transformers.js feature-extraction layout:
 * `config.json`, `tokenizer.json`, `tokenizer_config.json`, `model.safetensors` and
 * `onnx/model*.onnx` (fp32 plus quantized variants from lib/quantize). Everything is written into
 * a temp folder next to the output and renamed at the end; `ensureEncoder` caches presets in
 * `<repo>/.cache/models/<preset>-s<seed>` and is safe when several processes call it at once.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX } from "../dtypes.ts";
import { writeSafetensors } from "../model/safetensors.ts";
import { weightChunks } from "../model/weights.ts";
import { isQuantizeDtype, QUANTIZE_DTYPES, quantizeModel } from "../quantize/mod.ts";
import { writeEncoderOnnx } from "./encoder_graph.ts";
import {
  type EncoderConfig,
  encoderParameterCount,
  encoderParameterSpecs,
  encoderPresetConfig,
} from "./presets.ts";
import { WORDPIECE_SPECIALS, wordPieceTokenizerFiles, wordPieceVocab } from "./wordpiece.ts";

/** Version of the encoder builder, recorded in `config.json` (bump when the output changes). */
export const ENCODER_BUILDER_VERSION = "1.0.0";

/** Seed used when none is given (the brief's fixed seed). */
export const ENCODER_DEFAULT_SEED = 42;

/** Options of {@linkcode buildEncoder}. */
export interface BuildEncoderOptions {
  /** A key of `ENCODER_PRESETS`. */
  preset: string;
  /** Output directory; must not exist unless `force`. */
  outDir: string;
  /** Weight and vocabulary seed. @default 42 */
  seed?: number;
  /** ONNX variants; fp32 is always written (the quantizer's source). @default ["fp32"] */
  dtypes?: readonly Dtype[];
  /** Replace an existing `outDir`. @default false */
  force?: boolean;
}

/** What {@linkcode buildEncoder} produced. */
export interface EncoderBuildReport {
  /** The final directory. */
  outDir: string;
  /** The resolved configuration. */
  config: EncoderConfig;
  /** Parameter count. */
  parameters: number;
  /** ONNX files by dtype (paths in the final directory). */
  files: Partial<Record<Dtype, string>>;
  /** Wall time of the build, milliseconds. */
  totalMs: number;
}

/**
 * Builds an encoder directory from a preset with deterministic weights and vocabulary.
 *
 * @param options Preset, output directory, seed, dtypes, force.
 * @returns The directory, configuration and files.
 * @throws {RangeError} on an unknown preset or a dtype the quantizer cannot write, or an existing
 * `outDir` without `force`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEncoder } from "./build.ts";
 * const outDir = `${Deno.makeTempDirSync()}/enc`;
 * const report = await buildEncoder({ preset: "minilm-tiny", outDir, dtypes: ["q8"] });
 * assert(report.files.q8!.endsWith("onnx/model_quantized.onnx"));
 * ```
 */
export async function buildEncoder(options: BuildEncoderOptions): Promise<EncoderBuildReport> {
  const started = performance.now();
  const config = encoderPresetConfig(options.preset);
  const seed = options.seed ?? ENCODER_DEFAULT_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(
      `Cannot build encoder: 'seed' must be a non-negative integer, got ${seed}`,
    );
  }
  const dtypes = checkDtypes(options.dtypes ?? []);
  if (exists(options.outDir) && !options.force) {
    throw new RangeError(
      `Cannot build encoder: output directory '${options.outDir}' already exists (use force)`,
    );
  }
  Deno.mkdirSync(dirname(options.outDir), { recursive: true });
  const staging = stagingPath(options.outDir);
  try {
    await writeEncoderDir(staging, config, { preset: options.preset, seed, dtypes });
    if (exists(options.outDir)) Deno.removeSync(options.outDir, { recursive: true });
    Deno.renameSync(staging, options.outDir);
  } catch (error) {
    removeQuietly(staging);
    throw error;
  }
  const files: Partial<Record<Dtype, string>> = {};
  for (const d of dtypes) files[d] = join(options.outDir, onnxFileOf(d));
  return {
    outDir: options.outDir,
    config,
    parameters: encoderParameterCount(config),
    files,
    totalMs: performance.now() - started,
  };
}

/** Options of {@linkcode ensureEncoder}. */
export interface EnsureEncoderOptions {
  /** Weight and vocabulary seed. @default 42 */
  seed?: number;
  /** Variants that must exist. @default ["fp32"] */
  dtypes?: readonly Dtype[];
  /** Cache root. @default `<repo>/.cache/models` */
  cacheDir?: string;
}

/**
 * Returns the directory of a built encoder preset, building it (or quantizing its missing
 * dtypes) first if needed.
 *
 * @param preset A key of `ENCODER_PRESETS`.
 * @param options Seed, dtypes, cache root.
 * @returns `<cacheDir>/<preset>-s<seed>`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureEncoder } from "./build.ts";
 * const dir = await ensureEncoder("minilm-tiny", { cacheDir: Deno.makeTempDirSync() });
 * assert(dir.endsWith("minilm-tiny-s42"));
 * ```
 */
export async function ensureEncoder(
  preset: string,
  options: EnsureEncoderOptions = {},
): Promise<string> {
  encoderPresetConfig(preset);
  const seed = options.seed ?? ENCODER_DEFAULT_SEED;
  const dtypes = checkDtypes(options.dtypes ?? []);
  const root = options.cacheDir ?? new URL("../../.cache/models", import.meta.url).pathname;
  Deno.mkdirSync(root, { recursive: true });
  const dir = join(root, `${preset}-s${seed}`);
  if (!isCurrent(dir)) {
    const staging = stagingPath(dir);
    try {
      await buildEncoder({ preset, outDir: staging, seed, dtypes });
      if (exists(dir) && !isCurrent(dir)) {
        const old = stagingPath(dir);
        Deno.renameSync(dir, old);
        removeQuietly(old);
      }
      try {
        Deno.renameSync(staging, dir);
      } catch (error) {
        if (!isCurrent(dir)) throw error; // else another process won the race with the same files
      }
    } finally {
      removeQuietly(staging);
    }
  }
  const missing = dtypes.filter((d) => !exists(join(dir, onnxFileOf(d))));
  for (const d of missing) {
    try {
      // The quantizer writes under a temp name and renames, so readers never see half a file.
      await quantizeModel(join(dir, "onnx", "model.onnx"), [d]);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  return dir;
}

async function writeEncoderDir(
  dir: string,
  config: EncoderConfig,
  options: { preset: string; seed: number; dtypes: Dtype[] },
): Promise<void> {
  Deno.mkdirSync(join(dir, "onnx"), { recursive: true });
  const vocab = wordPieceVocab(config.vocab_size, options.seed);
  const { tokenizerJson, tokenizerConfig } = wordPieceTokenizerFiles(vocab, {
    modelMaxLength: config.max_position_embeddings,
  });
  Deno.writeTextFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  Deno.writeTextFileSync(join(dir, "tokenizer_config.json"), json(tokenizerConfig));
  const std = config.initializer_range;
  writeSafetensors(
    join(dir, "model.safetensors"),
    encoderParameterSpecs(config).map((spec) => ({
      name: spec.name,
      shape: spec.shape,
      chunks: () => weightChunks(spec, { seed: options.seed, std }),
    })),
    { format: "pt" },
  );
  const fp32 = join(dir, "onnx", "model.onnx");
  await writeEncoderOnnx(config, fp32, { seed: options.seed });
  const variants = options.dtypes.filter((d) => d !== "fp32");
  if (variants.length > 0) await quantizeModel(fp32, variants);
  // config.json last: a directory with it is complete.
  Deno.writeTextFileSync(join(dir, "config.json"), json(encoderConfigJson(config, options)));
}

/**
 * The `config.json` of an encoder: Hugging Face `BertModel` fields and a `turbo_inference`
 * provenance block.
 *
 * @param config The configuration.
 * @param extra Preset and seed.
 * @returns The JSON object.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderConfigJson } from "./build.ts";
 * import { ENCODER_PRESETS } from "./presets.ts";
 * const json = encoderConfigJson({ ...ENCODER_PRESETS["minilm-l6"]! }, { preset: "minilm-l6", seed: 42 });
 * assert(json.model_type === "bert" && json.hidden_act === "gelu");
 * ```
 */
export function encoderConfigJson(
  config: EncoderConfig,
  extra: { preset: string; seed: number },
): Record<string, unknown> {
  return {
    architectures: ["BertModel"],
    model_type: "bert",
    ...config,
    hidden_act: "gelu",
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    position_embedding_type: "absolute",
    pad_token_id: WORDPIECE_SPECIALS.pad.id,
    torch_dtype: "float32",
    turbo_inference: {
      preset: extra.preset,
      seed: extra.seed,
      builder_version: ENCODER_BUILDER_VERSION,
    },
  };
}

function checkDtypes(dtypes: readonly Dtype[]): Dtype[] {
  const out: Dtype[] = ["fp32"];
  for (const d of dtypes) {
    if (d !== "fp32" && !isQuantizeDtype(d)) {
      throw new RangeError(
        `Cannot build encoder: dtype '${d}' cannot be built (known: fp32, ${
          QUANTIZE_DTYPES.join(", ")
        })`,
      );
    }
    if (!out.includes(d)) out.push(d);
  }
  return out;
}

function onnxFileOf(dtype: Dtype): string {
  return join("onnx", `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`);
}

function isCurrent(dir: string): boolean {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    return config?.turbo_inference?.builder_version === ENCODER_BUILDER_VERSION &&
      exists(join(dir, "onnx", "model.onnx"));
  } catch {
    return false;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function stagingPath(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return `${path}.tmp-${Deno.pid}-${random}`;
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // already gone
  }
}
