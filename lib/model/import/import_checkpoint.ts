/**
 * `importCheckpoint()`: a Hugging Face checkpoint directory (`config.json`, `model.safetensors`
 * or sharded `model-0000i-of-0000n.safetensors` + index, tensors in F32, F16 or BF16, a
 * `tokenizer.json`) becomes a model directory in the layout the builder writes: `config.json`,
 * `generation_config.json`, the tokenizer files copied, `onnx/model*.onnx` (external data where
 * large). Everything is checked before anything is written (architecture, fields, every tensor's
 * presence and shape, the tokenizer), the output is written into a staging folder and renamed
 * at the end, and tensors stream from the safetensors files one bounded chunk at a time.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { type Dtype, DTYPES, isDtype } from "../../dtypes.ts";
import { EXTERNAL_DATA_THRESHOLD_BYTES } from "../../onnx/external_data.ts";
import { exists, peakRssBytes, removeQuietly, stagingPath, writeJsonAtomic } from "../_files.ts";
import {
  ATTENTION_KINDS,
  type BuiltFile,
  DEFAULT_ATTENTION,
  externalDataFiles,
  quantizeInto,
} from "../build.ts";
import { INPUT_DEFAULTS } from "../input_defaults.ts";
import { NORM_KINDS, type NormKind, writeLlamaOnnx } from "../llama_graph.ts";
import { type LlamaConfig, parameterCount } from "../presets.ts";
import { checkpointTensors, type SafetensorsTensorInfo, tensorChunks } from "../safetensors.ts";
import { type ParameterSpec, parameterSpecs } from "../weights.ts";
import { type CheckpointConfig, parseCheckpointConfig } from "./checkpoint_config.ts";

/** Version of the importer, recorded in `config.json` (bump when the output changes). */
export const IMPORTER_VERSION = "1.2.0"; // 1.1.0: in_place graph by default, num_logits_to_keep default; 1.2.0: in_place attention grouped 5-D

/** Tokenizer files copied when present; `tokenizer.json` and `tokenizer_config.json` are required. */
const TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/** Options of {@linkcode importCheckpoint}. */
export interface ImportCheckpointOptions {
  /** The checkpoint directory. */
  from: string;
  /** Output directory; must not exist unless `force`. */
  outDir: string;
  /** ONNX variants; fp32 is always written (the quantizer's source). @default ["fp32"] */
  dtypes?: Dtype[];
  /** Replace an existing `outDir`. @default false */
  force?: boolean;
  /** Positions the RoPE caches cover. @default the checkpoint's `max_position_embeddings` */
  maxPositions?: number;
  /** Store fp32 weights as external data; `auto` does so past 1.8 GB. @default "auto" */
  externalData?: boolean | "auto";
  /**
   * The graph's attention (see `BuildModelOptions.attention`): `in_place` by default, `standard`
   * for the Optimum-layout copy path. @default "in_place"
   */
  attention?: typeof ATTENTION_KINDS[number];
  /** How RMSNorm and the residual adds are written (see `BuildModelOptions.norms`). @default "plain" */
  norms?: NormKind;
}

/** What {@linkcode importCheckpoint} produced. */
export interface ImportReport {
  /** The checkpoint directory (absolute). */
  from: string;
  /** The final directory. */
  outDir: string;
  /** Architecture of the checkpoint. */
  architecture: string;
  /** The configuration the graph was built from. */
  config: LlamaConfig;
  /** Parameter count (a tied head counted once). */
  parameters: number;
  /** Tensors read, by element type (`BF16: 37`). */
  sourceDtypes: Record<string, number>;
  /** What was adapted (positions, ignored tensors). */
  notes: string[];
  /** ONNX variants, fp32 first. */
  files: BuiltFile[];
  /** Wall time, milliseconds. */
  totalMs: number;
  /** Peak resident set size of the process at the end, bytes. */
  peakRssBytes: number;
}

/** A checkpoint checked and ready to convert. */
export interface CheckedCheckpoint extends CheckpointConfig {
  /** The checkpoint directory (absolute). */
  from: string;
  /** `config.json` as parsed. */
  raw: Record<string, unknown>;
  /** The tensor of each parameter, by Hugging Face name. */
  tensors: Map<string, SafetensorsTensorInfo>;
}

/**
 * Checks a checkpoint without writing anything: config, tokenizer, every tensor's presence,
 * shape and element type.
 *
 * @param from The checkpoint directory.
 * @param options Positions override.
 * @returns The mapped configuration and the tensors.
 * @throws {RangeError} (one line, naming the file, field or tensor) for anything that does not
 * convert; {@linkcode Deno.errors.NotFound} for a missing file; {@linkcode SyntaxError} for
 * malformed JSON or safetensors.
 * @example
 * ```ts ignore
 * import { checkCheckpoint } from "./import_checkpoint.ts";
 * const checked = checkCheckpoint("models/wikitext-llama");
 * console.log(checked.architecture, checked.config.hidden_size);
 * ```
 */
export function checkCheckpoint(
  from: string,
  options: { maxPositions?: number } = {},
): CheckedCheckpoint {
  const dir = resolve(from);
  if (!isDirectory(dir)) {
    throw new Deno.errors.NotFound(`Cannot import checkpoint: '${from}' is not a directory`);
  }
  const raw = readJson(join(dir, "config.json"));
  const parsed = parseCheckpointConfig(raw, {
    source: join(from, "config.json"),
    ...(options.maxPositions === undefined ? {} : { maxPositions: options.maxPositions }),
  });
  checkTokenizer(from, parsed.config.vocab_size);
  let all: Map<string, SafetensorsTensorInfo>;
  try {
    all = checkpointTensors(dir);
  } catch (error) {
    throw prefixed(error);
  }
  const tensors = new Map<string, SafetensorsTensorInfo>();
  const notes = [...parsed.notes];
  for (const spec of parameterSpecs(parsed.config)) {
    const info = all.get(spec.name);
    if (!info) {
      throw new RangeError(
        `Cannot import checkpoint: '${from}' has no tensor '${spec.name}' ` +
          `(${parsed.architecture}, ${parsed.config.num_hidden_layers} layers` +
          `${parsed.config.tie_word_embeddings ? ", tied embeddings" : ""})`,
      );
    }
    if (info.shape.join() !== spec.shape.join()) {
      throw new RangeError(
        `Cannot import checkpoint: tensor '${spec.name}' has shape [${info.shape}], config.json ` +
          `implies [${spec.shape}]`,
      );
    }
    tensors.set(spec.name, info);
    all.delete(spec.name);
  }
  const ignorable = (name: string) =>
    name.endsWith(".rotary_emb.inv_freq") ||
    (name === "lm_head.weight" && parsed.config.tie_word_embeddings);
  const unexpected = [...all.keys()].filter((n) => !ignorable(n));
  if (unexpected.length > 0) {
    throw new RangeError(
      `Cannot import checkpoint: tensor '${unexpected[0]}' is not part of ${parsed.architecture} ` +
        `as config.json describes it (${unexpected.length} unexpected tensor(s))`,
    );
  }
  for (const name of all.keys()) notes.push(`ignored tensor '${name}'`);
  return { ...parsed, notes, from: dir, raw, tensors };
}

/**
 * Converts a Hugging Face checkpoint into a model directory (see the module doc).
 *
 * @param options Checkpoint, output, dtypes, force, positions.
 * @returns Per-dtype files with sizes and times, parameters, source element types, peak RSS.
 * @throws {RangeError} for an existing `outDir` without `force`, an unknown dtype, and everything
 * {@linkcode checkCheckpoint} rejects; nothing is left in `outDir` on failure.
 * @example
 * ```ts ignore
 * import { importCheckpoint } from "./import_checkpoint.ts";
 * const report = await importCheckpoint({ from: "models/wikitext-llama", outDir: "/tmp/wl" });
 * console.log(report.files.map((f) => f.path));
 * ```
 */
export async function importCheckpoint(options: ImportCheckpointOptions): Promise<ImportReport> {
  const started = performance.now();
  const dtypes: Dtype[] = ["fp32"];
  for (const d of options.dtypes ?? []) {
    if (!isDtype(d)) {
      throw new RangeError(
        `Cannot import checkpoint: 'dtypes' has unknown dtype '${d}' (known: ${DTYPES.join(", ")})`,
      );
    }
    if (!dtypes.includes(d)) dtypes.push(d);
  }
  const attention = options.attention ?? DEFAULT_ATTENTION;
  if (!ATTENTION_KINDS.includes(attention)) {
    throw new RangeError(
      `Cannot import checkpoint: 'attention' must be one of ${
        ATTENTION_KINDS.join(", ")
      }, got '${attention}'`,
    );
  }
  const norms = options.norms ?? "plain";
  if (!NORM_KINDS.includes(norms)) {
    throw new RangeError(
      `Cannot import checkpoint: 'norms' must be one of ${NORM_KINDS.join(", ")}, got '${norms}'`,
    );
  }
  const outDir = options.outDir;
  if (exists(outDir) && !options.force) {
    throw new RangeError(
      `Cannot import checkpoint: output directory '${outDir}' already exists (use --force)`,
    );
  }
  const checked = checkCheckpoint(options.from, {
    ...(options.maxPositions === undefined ? {} : { maxPositions: options.maxPositions }),
  });
  Deno.mkdirSync(dirname(resolve(outDir)), { recursive: true });
  const staging = stagingPath(outDir);
  try {
    const files = await writeImported(
      staging,
      checked,
      dtypes,
      options.externalData ?? "auto",
      attention,
      norms,
    );
    if (exists(outDir)) {
      const old = stagingPath(outDir);
      Deno.renameSync(outDir, old);
      removeQuietly(old);
    }
    Deno.renameSync(staging, outDir);
    const sourceDtypes: Record<string, number> = {};
    for (const t of checked.tensors.values()) {
      sourceDtypes[t.dtype] = (sourceDtypes[t.dtype] ?? 0) + 1;
    }
    return {
      from: checked.from,
      outDir,
      architecture: checked.architecture,
      config: checked.config,
      parameters: parameterCount(checked.config),
      sourceDtypes,
      notes: checked.notes,
      files: files.map((f) => ({ ...f, path: join(outDir, f.path) })),
      totalMs: performance.now() - started,
      peakRssBytes: peakRssBytes(),
    };
  } catch (error) {
    removeQuietly(staging);
    throw error;
  }
}

async function writeImported(
  dir: string,
  checked: CheckedCheckpoint,
  dtypes: Dtype[],
  externalData: boolean | "auto",
  attention: typeof ATTENTION_KINDS[number],
  norms: NormKind,
): Promise<BuiltFile[]> {
  Deno.mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const name of TOKENIZER_FILES) {
    const source = join(checked.from, name);
    if (exists(source)) Deno.copyFileSync(source, join(dir, name));
  }
  const generation = join(checked.from, "generation_config.json");
  if (exists(generation)) Deno.copyFileSync(generation, join(dir, "generation_config.json"));
  else {
    const ids = (key: string) => checked.raw[key] ?? null;
    writeJsonAtomic(join(dir, "generation_config.json"), {
      bos_token_id: ids("bos_token_id"),
      eos_token_id: ids("eos_token_id"),
      ...(checked.raw.pad_token_id == null ? {} : { pad_token_id: checked.raw.pad_token_id }),
    });
  }
  const source = (spec: ParameterSpec, transposed: boolean): Iterable<Float32Array> =>
    finiteChunks(spec.name, tensorChunks(checked.tensors.get(spec.name)!, { transposed }));
  const fp32Path = join(dir, "onnx", "model.onnx");
  const fp32Started = performance.now();
  const external = externalData === "auto"
    ? parameterCount(checked.config) * 4 > EXTERNAL_DATA_THRESHOLD_BYTES
    : externalData;
  const fp32 = await writeLlamaOnnx(checked.config, fp32Path, {
    seed: 0,
    externalData: external,
    source,
    attention,
    norms,
  });
  const files: BuiltFile[] = [{
    dtype: "fp32",
    path: "onnx/model.onnx",
    bytes: fp32.bytes,
    buildMs: performance.now() - fp32Started,
  }];
  // The quantizer reads the written config (BOS id for calibration): write it first, then again
  // with the external-data list.
  const config = (external: Record<string, number>) => ({
    ...checked.raw,
    max_position_embeddings: checked.config.max_position_embeddings,
    "transformers.js_config": {
      kv_cache_dtype: { q4f16: "float16", fp16: "float16" },
      ...(Object.keys(external).length > 0 ? { use_external_data_format: external } : {}),
    },
    turbo_inference: {
      importer_version: IMPORTER_VERSION,
      source: checked.from,
      architecture: checked.architecture,
      source_max_position_embeddings: checked.sourceMaxPositions,
      weights: "imported",
      attention,
      input_defaults: Object.keys(INPUT_DEFAULTS),
      notes: checked.notes,
    },
  });
  writeJsonAtomic(join(dir, "config.json"), config({}));
  files.push(...await quantizeInto(fp32Path, dtypes.filter((d) => d !== "fp32")));
  writeJsonAtomic(join(dir, "config.json"), config(externalDataFiles(join(dir, "onnx"))));
  return files;
}

/** The tokenizer must exist, parse, and fit the embedding. */
function checkTokenizer(from: string, vocabSize: number): void {
  for (const name of TOKENIZER_FILES.slice(0, 2)) {
    if (!exists(join(from, name))) {
      throw new Deno.errors.NotFound(
        `Cannot import checkpoint: '${from}' has no ${name} (a fast tokenizer is needed; ` +
          "save it with tokenizer.save_pretrained())",
      );
    }
  }
  const json = readJson(join(from, "tokenizer.json"));
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  if (vocab === null || typeof vocab !== "object") {
    throw new RangeError(
      `Cannot import checkpoint: '${join(from, "tokenizer.json")}' has no model.vocab`,
    );
  }
  const ids = new Set<number>(
    Array.isArray(vocab) ? vocab.map((_, i) => i) : Object.values(vocab as Record<string, number>),
  );
  for (const t of (json.added_tokens ?? []) as { id?: number }[]) {
    if (typeof t.id === "number") ids.add(t.id);
  }
  const largest = Math.max(...ids);
  if (largest >= vocabSize) {
    throw new RangeError(
      `Cannot import checkpoint: tokenizer.json has token id ${largest}, config.json's ` +
        `'vocab_size' is ${vocabSize}`,
    );
  }
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot import checkpoint: '${path}' does not exist`);
    }
    throw error;
  }
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error("not an object");
    }
    return value as Record<string, unknown>;
  } catch (error) {
    throw new SyntaxError(
      `Cannot import checkpoint: '${path}' is not a JSON object (${(error as Error).message})`,
    );
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function prefixed(error: unknown): unknown {
  if (error instanceof Error && !error.message.startsWith("Cannot import checkpoint")) {
    error.message = `Cannot import checkpoint: ${error.message}`;
  }
  return error;
}

/**
 * The chunks of one tensor, refused at the first NaN or infinity: a corrupt or diverged
 * checkpoint stops the import naming the tensor instead of surfacing as NaN logits at bench.
 */
function* finiteChunks(name: string, chunks: Iterable<Float32Array>): Generator<Float32Array> {
  for (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const v = chunk[i]!;
      if (v - v !== 0) {
        throw new RangeError(
          `Cannot import checkpoint: tensor '${name}' holds ${
            Number.isNaN(v) ? "NaN" : "an infinite value"
          } (a corrupt or diverged checkpoint); nothing was written`,
        );
      }
    }
    yield chunk;
  }
}
