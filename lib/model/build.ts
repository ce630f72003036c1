/**
 * Builds a model directory in the Hugging Face / transformers.js layout: `config.json`,
 * `generation_config.json`, `tokenizer.json`, `tokenizer_config.json`, `model.safetensors` and
 * `onnx/model*.onnx`. Everything is written into a temp folder next to the output and renamed at
 * the end, so a failure never leaves a half-written model.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX, DTYPES, isDtype } from "../dtypes.ts";
import {
  exists,
  loadQuantizer,
  peakRssBytes,
  removeQuietly,
  stagingPath,
  writeJsonAtomic,
} from "./_files.ts";
import { EXTERNAL_DATA_THRESHOLD_BYTES } from "../onnx/external_data.ts";
import { configJson, externalDataFiles } from "./config_json.ts";
import { NORM_KINDS, type NormKind, writeLlamaOnnx } from "./llama_graph.ts";
import { type LlamaConfig, parameterCount, presetConfig, validateConfig } from "./presets.ts";
import { writeSafetensors } from "./safetensors.ts";
import { tokenizerFiles, trainTokenizer } from "./tokenizer.ts";

export { BUILDER_VERSION, configJson, externalDataFiles } from "./config_json.ts";
import { parameterSpecs, weightChunks } from "./weights.ts";

/** Seed used when none is given (the brief's fixed seed). */
export const DEFAULT_SEED = 42;

/** Attention implementations the builder can emit. */
export const ATTENTION_KINDS = ["standard", "gqa", "in_place"] as const;

/**
 * The graph every model gets unless asked otherwise: `in_place` (a fixed-size cache the engine
 * owns, only the step's new keys and values out), the fastest correct decode on a CPU. The
 * Optimum-layout copy path (`standard`, what transformers.js loads) stays available by name.
 */
export const DEFAULT_ATTENTION: typeof ATTENTION_KINDS[number] = "in_place";

/**
 * Names a model reference may append after `+` to pick its graph: the attention kinds, and
 * `copy_kv` for the Optimum-layout graph whose `present.*` the engine copies back each step
 * (the same graph as `standard`).
 *
 * @param text What followed the `+`.
 * @returns The attention kind, or `null` when the name is unknown.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attentionOf } from "./build.ts";
 * assert(attentionOf("copy_kv") === "standard" && attentionOf("in_place") === "in_place");
 * assert(attentionOf("bogus") === null);
 * ```
 */
export function attentionOf(text: string): typeof ATTENTION_KINDS[number] | null {
  if (text === "copy_kv") return "standard";
  return ATTENTION_KINDS.find((k) => k === text) ?? null;
}

/** Options of {@linkcode buildModel}. */
export interface BuildModelOptions {
  /** A key of `PRESETS`. */
  preset: string;
  /** Output directory; must not exist unless `force`. */
  outDir: string;
  /** Weight seed. @default 42 */
  seed?: number;
  /** ONNX variants to write; fp32 is always written (the quantizer's source). @default ["fp32"] */
  dtypes?: Dtype[];
  /** Replace an existing `outDir`. @default false */
  force?: boolean;
  /**
   * `in_place`: a fixed-size cache input the engine writes in place, only the step's new keys
   * and values out (honours left padding; not loadable by transformers.js). `standard`: the
   * Optimum layout (`present.*` out; the copy path, what transformers.js loads). `gqa`:
   * com.microsoft GroupQueryAttention with rotary inside (onnxruntime-genai style; rows must not
   * be left-padded). @default "in_place"
   */
  attention?: typeof ATTENTION_KINDS[number];
  /** Overrides of the preset's fields (experiments and tests). @default {} */
  config?: Partial<LlamaConfig>;
  /** Store fp32 weights as external data; `auto` does so past 2 GB. @default "auto" */
  externalData?: boolean | "auto";
  /**
   * `fused`: RMSNorm as `SimplifiedLayerNormalization`, each residual add with the norm after it
   * as com.microsoft `SkipSimplifiedLayerNormalization`; `plain`: standard operators (see
   * {@linkcode NormKind}). @default "plain"
   */
  norms?: NormKind;
}

/** One file of a build. */
export interface BuiltFile {
  /** The variant. */
  dtype: Dtype;
  /** Path of the `.onnx` file (in the final directory). */
  path: string;
  /** Bytes of the `.onnx` file plus its external data. */
  bytes: number;
  /** Wall time to write (fp32) or quantize (others), in milliseconds. */
  buildMs: number;
}

/** What {@linkcode buildModel} produced. */
export interface BuildReport {
  /** Preset name. */
  preset: string;
  /** The final directory. */
  outDir: string;
  /** Weight seed. */
  seed: number;
  /** The resolved configuration. */
  config: LlamaConfig;
  /** Parameter count (a tied head counted once). */
  parameters: number;
  /** Bytes of `model.safetensors`. */
  safetensorsBytes: number;
  /** ONNX variants, fp32 first. */
  files: BuiltFile[];
  /** Wall time of the whole build, in milliseconds. */
  totalMs: number;
  /** Peak resident set size of the process at the end of the build, in bytes. */
  peakRssBytes: number;
}

/**
 * Builds a model directory from a preset with deterministic weights.
 *
 * @param options Preset, output directory, seed, dtypes, force.
 * @returns Per-dtype files with sizes and build times, parameter count, peak RSS.
 * @throws {RangeError} on an unknown preset or dtype, dimensions that do not fit, an existing
 * `outDir` without `force`, or a dtype that needs the quantizer while it is unavailable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildModel } from "./build.ts";
 * const outDir = `${Deno.makeTempDirSync()}/tiny`;
 * const report = await buildModel({ preset: "tiny", outDir });
 * assert(report.files[0]!.path.endsWith("onnx/model.onnx"));
 * ```
 */
export async function buildModel(options: BuildModelOptions): Promise<BuildReport> {
  const started = performance.now();
  const { config, seed, dtypes, attention, norms } = resolveOptions(options);
  const outDir = options.outDir;
  if (exists(outDir) && !options.force) {
    throw new RangeError(
      `Cannot build model: output directory '${outDir}' already exists (use force / --force)`,
    );
  }
  Deno.mkdirSync(dirname(outDir), { recursive: true });
  const staging = stagingPath(outDir);
  try {
    const { files, safetensorsBytes } = await writeModelDir(staging, config, {
      preset: options.preset,
      seed,
      dtypes,
      attention,
      externalData: options.externalData ?? "auto",
      norms,
    });
    if (exists(outDir)) {
      const old = stagingPath(outDir);
      Deno.renameSync(outDir, old);
      removeQuietly(old);
    }
    Deno.renameSync(staging, outDir);
    return {
      preset: options.preset,
      outDir,
      seed,
      config,
      parameters: parameterCount(config),
      safetensorsBytes,
      files: files.map((f) => ({ ...f, path: join(outDir, f.path) })),
      totalMs: performance.now() - started,
      peakRssBytes: peakRssBytes(),
    };
  } catch (error) {
    removeQuietly(staging);
    throw error;
  }
}

/** Validated build inputs. */
interface Resolved {
  config: LlamaConfig;
  seed: number;
  dtypes: Dtype[];
  attention: typeof ATTENTION_KINDS[number];
  norms: NormKind;
}

function resolveOptions(options: BuildModelOptions): Resolved {
  const config: LlamaConfig = { ...presetConfig(options.preset), ...(options.config ?? {}) };
  validateConfig(config);
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`Cannot build model: 'seed' must be a non-negative integer, got ${seed}`);
  }
  const dtypes: Dtype[] = ["fp32"];
  for (const d of options.dtypes ?? []) {
    if (!isDtype(d)) {
      throw new RangeError(
        `Cannot build model: 'dtypes' has unknown dtype '${d}' (known: ${DTYPES.join(", ")})`,
      );
    }
    if (!dtypes.includes(d)) dtypes.push(d);
  }
  const attention = options.attention ?? DEFAULT_ATTENTION;
  if (!ATTENTION_KINDS.includes(attention)) {
    throw new RangeError(
      `Cannot build model: 'attention' must be one of ${
        ATTENTION_KINDS.join(", ")
      }, got '${attention}'`,
    );
  }
  if (!(config.max_position_embeddings >= 1)) {
    throw new RangeError("Cannot build model: 'max_position_embeddings' must be positive");
  }
  const norms = options.norms ?? "plain";
  if (!NORM_KINDS.includes(norms)) {
    throw new RangeError(
      `Cannot build model: 'norms' must be one of ${NORM_KINDS.join(", ")}, got '${norms}'`,
    );
  }
  return { config, seed, dtypes, attention, norms };
}

/** Options of {@linkcode writeModelDir}. */
export interface WriteModelDirOptions {
  /** Preset name recorded in `config.json`. */
  preset: string;
  /** Weight seed. */
  seed: number;
  /** Variants (fp32 first). */
  dtypes: Dtype[];
  /** Attention implementation. */
  attention: typeof ATTENTION_KINDS[number];
  /** External-data choice for fp32. */
  externalData: boolean | "auto";
  /** How RMSNorm and the residual adds are written. @default "plain" */
  norms?: NormKind;
}

/**
 * Writes every file of a model into `dir` (created; the caller handles atomicity).
 *
 * @param dir Target directory.
 * @param config A validated configuration.
 * @param options Preset name, seed, dtypes.
 * @returns ONNX files relative to `dir` and the safetensors size.
 * @example
 * ```ts ignore
 * import { writeModelDir } from "./build.ts";
 * import { PRESETS } from "./presets.ts";
 * await writeModelDir("/tmp/m", { ...PRESETS.tiny! }, {
 *   preset: "tiny", seed: 42, dtypes: ["fp32"], attention: "standard", externalData: "auto",
 * });
 * ```
 */
export async function writeModelDir(
  dir: string,
  config: LlamaConfig,
  options: WriteModelDirOptions,
): Promise<{ files: BuiltFile[]; safetensorsBytes: number }> {
  Deno.mkdirSync(join(dir, "onnx"), { recursive: true });
  const tokenizer = trainTokenizer(config.tokenizer_vocab_size);
  const { tokenizerJson, tokenizerConfig } = tokenizerFiles(tokenizer, {
    modelMaxLength: config.max_position_embeddings,
  });
  Deno.writeTextFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  writeJsonAtomic(join(dir, "tokenizer_config.json"), tokenizerConfig);
  const ids = { bos: tokenizer.bosTokenId, eos: tokenizer.eosTokenId };
  writeJsonAtomic(join(dir, "generation_config.json"), {
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    pad_token_id: ids.eos,
    do_sample: false,
  });

  const std = config.initializer_range;
  const safetensorsBytes = writeSafetensors(
    join(dir, "model.safetensors"),
    parameterSpecs(config).map((spec) => ({
      name: spec.name,
      shape: spec.shape,
      chunks: () => weightChunks(spec, { seed: options.seed, std }),
    })),
    { format: "pt" },
  );

  const files: BuiltFile[] = [];
  const fp32Path = join(dir, "onnx", "model.onnx");
  const fp32Started = performance.now();
  const external = options.externalData === "auto"
    ? parameterCount(config) * 4 > EXTERNAL_DATA_THRESHOLD_BYTES
    : options.externalData;
  const fp32 = await writeLlamaOnnx(config, fp32Path, {
    seed: options.seed,
    externalData: external,
    attention: options.attention,
    norms: options.norms ?? "plain",
  });
  files.push({
    dtype: "fp32",
    path: "onnx/model.onnx",
    bytes: fp32.bytes,
    buildMs: performance.now() - fp32Started,
  });
  files.push(...await quantizeInto(fp32Path, options.dtypes.filter((d) => d !== "fp32")));

  writeJsonAtomic(
    join(dir, "config.json"),
    configJson(config, {
      preset: options.preset,
      seed: options.seed,
      attention: options.attention,
      bos: ids.bos,
      eos: ids.eos,
      externalDataFiles: externalDataFiles(join(dir, "onnx")),
    }),
  );
  return { files, safetensorsBytes };
}

/**
 * Runs the quantizer on an fp32 ONNX file for each dtype (each timed on its own).
 *
 * @param fp32Path The fp32 `.onnx` file; variants are written next to it.
 * @param dtypes Variants to make (not fp32).
 * @returns One entry per dtype, paths relative to the model directory.
 * @throws {RangeError} when the quantizer (lib/quantize/mod.ts) is not available.
 * @example
 * ```ts ignore
 * import { quantizeInto } from "./build.ts";
 * await quantizeInto("/tmp/m/onnx/model.onnx", ["q4"]);
 * ```
 */
export async function quantizeInto(fp32Path: string, dtypes: Dtype[]): Promise<BuiltFile[]> {
  if (dtypes.length === 0) return [];
  const quantize = await loadQuantizer();
  if (quantize === null) {
    throw new RangeError(
      `Cannot build model: dtypes ${dtypes.join(", ")} need the quantizer ` +
        `(lib/quantize/mod.ts quantizeModel), which is not available yet; build fp32 only`,
    );
  }
  const out: BuiltFile[] = [];
  for (const dtype of dtypes) {
    const started = performance.now();
    await quantize(fp32Path, [dtype]);
    const buildMs = performance.now() - started;
    const path = join(dirname(fp32Path), `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`);
    if (!exists(path)) {
      throw new Error(`Cannot build model: the quantizer wrote no '${path}' for dtype '${dtype}'`);
    }
    out.push({
      dtype,
      path: `onnx/model${DTYPE_FILE_SUFFIX[dtype]}.onnx`,
      bytes: onnxBytes(path),
      buildMs,
    });
  }
  return out;
}

/** Bytes of an `.onnx` file plus its external-data files. */
function onnxBytes(path: string): number {
  let bytes = Deno.statSync(path).size;
  const dir = dirname(path);
  const base = path.slice(dir.length + 1);
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && entry.name.startsWith(`${base}_data`)) {
      bytes += Deno.statSync(join(dir, entry.name)).size;
    }
  }
  return bytes;
}
