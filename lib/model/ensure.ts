/**
 * Builds a preset on demand into the shared model cache (`<repo>/.cache/models/<preset>-s<seed>`)
 * and returns its directory; converts a Hugging Face checkpoint directory (the vendored
 * `models/wikitext-llama`, or any other) on first use into `.cache/models/import-<name>-<key>`.
 * Safe under concurrency (parallel test files in separate processes): every build goes to a
 * private temp folder and is renamed into place atomically; a loser of the race uses the winner's
 * directory.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX, DTYPES, isDtype } from "../dtypes.ts";
import {
  defaultCacheDir,
  exists,
  loadQuantizer,
  removeQuietly,
  repoRoot,
  stagingPath,
  writeJsonAtomic,
} from "./_files.ts";
import {
  ATTENTION_KINDS,
  BUILDER_VERSION,
  buildModel,
  DEFAULT_ATTENTION,
  DEFAULT_SEED,
  externalDataFiles,
  quantizeInto,
} from "./build.ts";
import { presetConfig } from "./presets.ts";
import { importCheckpoint, IMPORTER_VERSION } from "./import/import_checkpoint.ts";
import { readQuantizationMetadata } from "../quantize/quantization_metadata.ts";

/** The dtypes a cache directory gets by default once the quantizer exists. */
export const DEFAULT_DTYPES: readonly Dtype[] = Object.freeze([
  "fp32",
  "fp16",
  "q8",
  "q4",
  "q4f16",
]);

/** Options of {@linkcode ensureModel}. */
export interface EnsureModelOptions {
  /** Weight seed. @default 42 */
  seed?: number;
  /**
   * Variants that must exist. @default fp32, fp16, q8, q4, q4f16 when lib/quantize exists,
   * else fp32
   */
  dtypes?: Dtype[];
  /** Cache root. @default `<repo>/.cache/models` */
  cacheDir?: string;
  /**
   * Attention implementation; other than the default, models live in
   * `<preset>-<attention>-s<seed>` (the copy path: `<preset>-standard-s<seed>`).
   * @default "in_place"
   */
  attention?: typeof ATTENTION_KINDS[number];
}

/**
 * Returns the directory of a built preset, building it (or its missing dtypes) first if needed.
 *
 * @param preset A key of `PRESETS`.
 * @param options Seed, dtypes, cache root.
 * @returns The model directory (`<cacheDir>/<preset>-s<seed>`, or `<preset>-standard-s<seed>`,
 * `<preset>-gqa-s<seed>`).
 * @throws {RangeError} on an unknown preset, dtype or attention kind.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureModel } from "./ensure.ts";
 * const dir = await ensureModel("tiny", { dtypes: ["fp32"], cacheDir: Deno.makeTempDirSync() });
 * assert(dir.endsWith("tiny-s42"));
 * ```
 */
export async function ensureModel(
  preset: string,
  options: EnsureModelOptions = {},
): Promise<string> {
  presetConfig(preset);
  const seed = options.seed ?? DEFAULT_SEED;
  const dtypes = options.dtypes ??
    ((await loadQuantizer()) === null ? ["fp32" as const] : [...DEFAULT_DTYPES]);
  for (const d of dtypes) {
    if (!isDtype(d)) {
      throw new RangeError(
        `Cannot ensure model: 'dtypes' has unknown dtype '${d}' (known: ${DTYPES.join(", ")})`,
      );
    }
  }
  const root = options.cacheDir ?? defaultCacheDir();
  Deno.mkdirSync(root, { recursive: true });
  const attention = options.attention ?? DEFAULT_ATTENTION;
  if (!ATTENTION_KINDS.includes(attention)) {
    throw new RangeError(
      `Cannot ensure model: 'attention' must be one of ${
        ATTENTION_KINDS.join(", ")
      }, got '${attention}'`,
    );
  }
  const kind = attention === DEFAULT_ATTENTION ? "" : `-${attention}`;
  const dir = join(root, `${preset}${kind}-s${seed}`);
  if (!isComplete(dir) || isStale(dir)) {
    const staging = stagingPath(dir);
    try {
      await buildModel({ preset, outDir: staging, seed, dtypes, attention });
      if (isComplete(dir) && isStale(dir)) {
        // Built by an older builder: move it aside (readers holding files keep them).
        const old = stagingPath(dir);
        try {
          Deno.renameSync(dir, old);
          removeQuietly(old);
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
      }
      try {
        Deno.renameSync(staging, dir);
      } catch (error) {
        // Another process won the race: its directory is as good as ours.
        if (!isComplete(dir)) throw error;
      }
    } finally {
      removeQuietly(staging);
    }
  }
  const missing = await missingDtypes(dir, dtypes);
  if (missing.length > 0) await addDtypes(dir, missing);
  return dir;
}

/**
 * Checkpoints shipped in this repository's `models/` folder, with the import options their
 * conversion uses. `wikitext-llama` declares 2,048 positions (trained at 512); its RoPE caches
 * cover 4,096 so that the default sweep's 2,048-token prompts plus new tokens fit (transformers
 * computes RoPE for any position, so no logit below 2,048 changes).
 */
export const VENDORED_MODELS: Readonly<Record<string, Readonly<{ maxPositions?: number }>>> = Object
  .freeze({ "wikitext-llama": Object.freeze({ maxPositions: 4096 }) });

/** Options of {@linkcode ensureCheckpointModel}. */
export interface EnsureCheckpointOptions {
  /** Variants that must exist. @default fp32, fp16, q8, q4, q4f16 */
  dtypes?: Dtype[];
  /** Cache root. @default `<repo>/.cache/models` */
  cacheDir?: string;
  /** RoPE positions. @default {@linkcode VENDORED_MODELS}' value for a vendored model, else the checkpoint's */
  maxPositions?: number;
  /** The graph's attention (`standard`: the copy path). @default "in_place" */
  attention?: typeof ATTENTION_KINDS[number];
}

/**
 * Whether a directory is a Hugging Face checkpoint to convert (a `config.json` and safetensors
 * weights, no `onnx/` folder).
 *
 * @param dir Any directory.
 * @returns `true` for a checkpoint.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCheckpointDir } from "./ensure.ts";
 * assert(isCheckpointDir("models/wikitext-llama") && !isCheckpointDir("/nonexistent"));
 * ```
 */
export function isCheckpointDir(dir: string): boolean {
  return exists(join(dir, "config.json")) && !exists(join(dir, "onnx")) &&
    (exists(join(dir, "model.safetensors")) || exists(join(dir, "model.safetensors.index.json")));
}

/**
 * The positions a checkpoint directory will have once converted by
 * {@linkcode ensureCheckpointModel} (for pre-flight checks that must not convert).
 *
 * @param dir A checkpoint directory.
 * @returns `max_position_embeddings` of the converted model, or null when unreadable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointMaxPositions } from "./ensure.ts";
 * assert(checkpointMaxPositions("models/wikitext-llama") === 4096);
 * ```
 */
export function checkpointMaxPositions(dir: string): number | null {
  const vendored = vendoredOptions(dir).maxPositions;
  if (vendored !== undefined) return vendored;
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    const max = config.max_position_embeddings;
    return typeof max === "number" ? max : null;
  } catch {
    return null;
  }
}

/**
 * Returns the converted model directory of a Hugging Face checkpoint, converting it (and adding
 * missing dtypes) on first use. The cache key covers the importer version, the options,
 * `config.json` and each weight file's size and modification time, so a changed checkpoint is
 * converted again.
 *
 * @param checkpointDir The checkpoint (`config.json`, safetensors, tokenizer files).
 * @param options Dtypes, cache root, positions, attention.
 * @returns `<cacheDir>/import-<name>-<key>` (`import-<name>-<attention>-<key>` for a graph other
 * than the default `in_place`).
 * @throws what `importCheckpoint` throws for a checkpoint that does not convert.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureCheckpointModel } from "./ensure.ts";
 * const cacheDir = Deno.makeTempDirSync();
 * const dir = await ensureCheckpointModel("models/wikitext-llama", { dtypes: ["fp32"], cacheDir });
 * assert(dir.includes("import-wikitext-llama-"));
 * ```
 */
export async function ensureCheckpointModel(
  checkpointDir: string,
  options: EnsureCheckpointOptions = {},
): Promise<string> {
  const from = resolve(checkpointDir);
  const dtypes = options.dtypes ?? [...DEFAULT_DTYPES];
  const maxPositions = options.maxPositions ?? vendoredOptions(from).maxPositions;
  const root = options.cacheDir ?? defaultCacheDir();
  Deno.mkdirSync(root, { recursive: true });
  const attention = options.attention ?? DEFAULT_ATTENTION;
  const key = await checkpointKey(from, maxPositions, attention);
  const kind = attention === DEFAULT_ATTENTION ? "" : `${attention}-`;
  const dir = join(root, `import-${basename(from)}-${kind}${key}`);
  if (!isComplete(dir)) {
    const staging = stagingPath(dir);
    try {
      await importCheckpoint({
        from,
        outDir: staging,
        dtypes: ["fp32"],
        attention,
        ...(maxPositions === undefined ? {} : { maxPositions }),
      });
      try {
        Deno.renameSync(staging, dir);
      } catch (error) {
        if (!isComplete(dir)) throw error;
      }
    } finally {
      removeQuietly(staging);
    }
  }
  const missing = await missingDtypes(dir, dtypes);
  if (missing.length > 0) await addDtypes(dir, missing);
  return dir;
}

function vendoredOptions(dir: string): { maxPositions?: number } {
  const vendoredRoot = join(repoRoot(), "models");
  const absolute = resolve(dir);
  const name = basename(absolute);
  if (resolve(vendoredRoot, name) !== absolute || !Object.hasOwn(VENDORED_MODELS, name)) return {};
  return { ...VENDORED_MODELS[name] };
}

async function checkpointKey(
  from: string,
  maxPositions: number | undefined,
  attention: string,
): Promise<string> {
  const parts = [
    IMPORTER_VERSION,
    String(maxPositions ?? ""),
    attention,
    Deno.readTextFileSync(join(from, "config.json")),
  ];
  for (const entry of [...Deno.readDirSync(from)].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isFile || !/\.(safetensors|json)$/.test(entry.name)) continue;
    const stat = Deno.statSync(join(from, entry.name));
    parts.push(`${entry.name}:${stat.size}:${stat.mtime?.getTime() ?? 0}`);
  }
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return [...new Uint8Array(digest)].slice(0, 6).map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/** Whether a complete cache directory was written by another builder version. */
function isStale(dir: string): boolean {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    return config?.turbo_inference?.builder_version !== BUILDER_VERSION;
  } catch {
    return false;
  }
}

/**
 * The dtypes to (re)write: absent files, and `MatMulNBits` variants written before the quantizer
 * packed nodes sharing their input (their metadata does not say `packed`): the same weights, fewer
 * kernel calls, so they are rewritten rather than kept.
 */
async function missingDtypes(dir: string, dtypes: readonly Dtype[]): Promise<Dtype[]> {
  const missing: Dtype[] = [];
  for (const d of dtypes) {
    const path = onnxPath(dir, d);
    if (!exists(path)) missing.push(d);
    else if (d !== "fp32") {
      const meta = await readQuantizationMetadata(path);
      if (meta !== null && meta.block_size !== null && meta.packed !== true) missing.push(d);
    }
  }
  return missing;
}

/** A cache directory is complete once its last-written file, `config.json`, is in place. */
function isComplete(dir: string): boolean {
  return exists(join(dir, "config.json")) && exists(onnxPath(dir, "fp32"));
}

function onnxPath(dir: string, dtype: Dtype): string {
  return join(dir, "onnx", `model${DTYPE_FILE_SUFFIX[dtype]}.onnx`);
}

/**
 * Quantizes missing dtypes in a private folder, then moves each file into `dir/onnx/` with a
 * rename (external data first, so a visible `.onnx` always has its data), then updates
 * `config.json`'s external-data list atomically.
 */
async function addDtypes(dir: string, dtypes: Dtype[]): Promise<void> {
  const staging = stagingPath(join(dir, "onnx"));
  try {
    Deno.mkdirSync(staging);
    for (const entry of Deno.readDirSync(join(dir, "onnx"))) {
      if (
        entry.isFile && (entry.name === "model.onnx" || entry.name.startsWith("model.onnx_data"))
      ) {
        Deno.linkSync(join(dir, "onnx", entry.name), join(staging, entry.name));
      }
    }
    await quantizeInto(join(staging, "model.onnx"), dtypes);
    const produced = [...Deno.readDirSync(staging)].map((e) => e.name)
      .filter((n) => !(n === "model.onnx" || n.startsWith("model.onnx_data")));
    const order = (n: string) => (n.endsWith(".onnx") ? 1 : 0);
    for (const name of produced.sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1))) {
      Deno.renameSync(join(staging, name), join(dir, "onnx", name));
    }
    const configPath = join(dir, "config.json");
    const config = JSON.parse(Deno.readTextFileSync(configPath));
    const external = externalDataFiles(join(dir, "onnx"));
    const tjs = { ...(config["transformers.js_config"] ?? {}) };
    if (Object.keys(external).length > 0) tjs.use_external_data_format = external;
    writeJsonAtomic(configPath, { ...config, "transformers.js_config": tjs });
  } finally {
    removeQuietly(staging);
  }
}
