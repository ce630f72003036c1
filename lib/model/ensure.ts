/**
 * Builds a preset on demand into the shared model cache (`<repo>/.cache/models/<preset>-s<seed>`)
 * and returns its directory. Safe under concurrency (parallel test files in separate processes):
 * every build goes to a private temp folder and is renamed into place atomically; a loser of the
 * race uses the winner's directory.
 *
 * @module
 */
import { join } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX, DTYPES, isDtype } from "../dtypes.ts";
import {
  defaultCacheDir,
  exists,
  loadQuantizer,
  removeQuietly,
  stagingPath,
  writeJsonAtomic,
} from "./_files.ts";
import {
  ATTENTION_KINDS,
  BUILDER_VERSION,
  buildModel,
  DEFAULT_SEED,
  externalDataFiles,
  quantizeInto,
} from "./build.ts";
import { presetConfig } from "./presets.ts";

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
   * Attention implementation; other than `standard`, models live in `<preset>-<attention>-s<seed>`.
   * @default "standard"
   */
  attention?: typeof ATTENTION_KINDS[number];
}

/**
 * Returns the directory of a built preset, building it (or its missing dtypes) first if needed.
 *
 * @param preset A key of `PRESETS`.
 * @param options Seed, dtypes, cache root.
 * @returns The model directory (`<cacheDir>/<preset>-s<seed>`, or `<preset>-gqa-s<seed>`).
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
  const attention = options.attention ?? "standard";
  if (!ATTENTION_KINDS.includes(attention)) {
    throw new RangeError(
      `Cannot ensure model: 'attention' must be one of ${
        ATTENTION_KINDS.join(", ")
      }, got '${attention}'`,
    );
  }
  const dir = join(root, `${preset}${attention === "standard" ? "" : `-${attention}`}-s${seed}`);
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
  const missing = dtypes.filter((d) => !exists(onnxPath(dir, d)));
  if (missing.length > 0) await addDtypes(dir, missing);
  return dir;
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
