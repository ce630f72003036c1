/**
 * Model resolution: a model reference (a Hub id, a local directory in Hub layout, or
 * `preset:NAME[@seed]`) becomes a local directory with a typed config, a tokenizer, the list of
 * dtypes it offers and the path of each dtype's ONNX file.
 *
 * Hub ids go through transformers.js: its `AutoConfig` / `AutoTokenizer` (and so its cache,
 * `HF_TOKEN`, `env.allowRemoteModels`), its `ModelRegistry` to list a repository's dtypes and
 * files (external data included), and its cache layout (`<cacheDir>/<owner>/<name>/<file>`) for
 * the ONNX files we fetch, so transformers.js itself finds them later. The cache directory is
 * `$HF_HOME/transformers.js` when `HF_HOME` is set, else transformers.js's default. Offline
 * (`HF_HUB_OFFLINE=1`, `env.allowRemoteModels = false`, or `offline: true`) only the cache is read.
 *
 * @module
 */
import { AutoConfig, AutoTokenizer, env, ModelRegistry } from "@huggingface/transformers";
import { fetchToCache, hubCacheDir, hubError, MAX_DATA_CHUNKS } from "./_hub_fetch.ts";
import {
  type ModelConfig,
  type ModelWeights,
  parseModelConfig,
  type Tokenizer,
  weightsOf,
} from "./model_config.ts";
import { isAbsolute, join, resolve } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX, DTYPES, isDtype } from "../dtypes.ts";
import { externalDataNextTo } from "../runtime/session.ts";
import {
  ATTENTION_KINDS,
  attentionOf,
  DEFAULT_ATTENTION,
  ensureCheckpointModel,
  ensureModel,
  isCheckpointDir,
} from "../model/mod.ts";

export type { ModelConfig, ModelWeights, Tokenizer } from "./model_config.ts";
export { parseModelConfig, weightsOf } from "./model_config.ts";
export { hubCacheDir } from "./_hub_fetch.ts";

/** A model ready to load: local files, config, tokenizer and dtypes. */
export interface ResolvedModel {
  /** The reference as given. */
  ref: string;
  /** Where the reference pointed. */
  source: "local" | "hub" | "preset";
  /** Local directory in Hub layout. */
  dir: string;
  /**
   * Whether the weights were learned: `random` for models this project's builder wrote (every
   * `preset:`; `config.json` says `turbo_inference.weights: "random"` or names a preset),
   * `trained` for everything else (imported checkpoints, Hub models). Random weights have no
   * language quality: reports null their quality verdicts.
   */
  weights: ModelWeights;
  /** Typed config. */
  config: ModelConfig;
  /** The tokenizer. */
  tokenizer: Tokenizer;
  /** Dtypes with an ONNX file (local: present on disk; Hub: offered by the repository). */
  availableDtypes: Dtype[];
  /**
   * Local path of a dtype's ONNX file (`onnx/model${suffix}.onnx`).
   *
   * @throws {RangeError} listing the available dtypes when the model lacks `dtype`, or when a Hub
   * model's file was not fetched (pass it in `dtypes`).
   */
  onnxPath(dtype: Dtype): string;
  /** External-data files of a dtype's ONNX file (`model_q4.onnx_data`, …). */
  externalData(dtype: Dtype): string[];
}

/** Options of {@linkcode resolveModel}. */
export interface ResolveOptions {
  /** Dtypes whose ONNX files must be local on return (Hub ids are fetched). @default [] */
  dtypes?: readonly Dtype[];
  /** Read only local files and the cache. @default HF_HUB_OFFLINE=1 or !env.allowRemoteModels */
  offline?: boolean;
  /** transformers.js cache directory. @default $HF_HOME/transformers.js, else its own default */
  cacheDir?: string;
  /** Hub revision. @default "main" */
  revision?: string;
  /** Progress lines (downloads) go here. @default none */
  onProgress?: (line: string) => void;
}

const PRESET_PREFIX = "preset:";

/**
 * Resolves a model reference to local files, config, tokenizer and dtypes.
 *
 * @param ref A Hub id (`onnx-community/Llama-3.2-1B-Instruct`), a local directory, or
 * `preset:NAME[@seed][+GRAPH]`. Presets and checkpoint directories (converted on first use) get
 * the in-place KV graph by default; `+copy_kv` (alias `+standard`) picks the Optimum-layout graph
 * whose `present.*` are fed back (what transformers.js loads), `+gqa` GroupQueryAttention,
 * `+in_place` the default explicitly. A checkpoint directory takes the same suffix
 * (`models/wikitext-llama+copy_kv`).
 * @param options Dtypes to fetch, offline mode, cache directory.
 * @returns The resolved model.
 * @throws {RangeError} for a malformed reference, a missing directory, a dtype the model lacks;
 * `Error` (one line, suggesting a local directory) when a Hub id needs the network and has none.
 * @example
 * ```ts ignore
 * import { resolveModel } from "./resolve.ts";
 * const model = await resolveModel("preset:tiny", { dtypes: ["q4"] });
 * console.log(model.availableDtypes, model.onnxPath("q4"));
 * ```
 */
export async function resolveModel(
  ref: string,
  options: ResolveOptions = {},
): Promise<ResolvedModel> {
  for (const dtype of options.dtypes ?? []) {
    if (!isDtype(dtype)) {
      throw new RangeError(
        `Cannot resolve model: unknown dtype '${dtype}' (known: ${DTYPES.join(", ")})`,
      );
    }
  }
  if (ref.startsWith(PRESET_PREFIX)) return await resolvePreset(ref, options);
  const checkpoint = checkpointRef(ref);
  if (checkpoint) {
    // A Hugging Face checkpoint (safetensors, no onnx/) is converted on first use into .cache/.
    const dir = await ensureCheckpointModel(checkpoint.dir, {
      ...(options.dtypes?.length ? { dtypes: [...options.dtypes] } : {}),
      attention: checkpoint.attention,
    });
    return await resolveLocal(ref, dir, "local", options);
  }
  if (isLocalRef(ref)) return await resolveLocal(ref, resolve(ref), "local", options);
  if (!/^[\w.-]+\/[\w.-]+$/.test(ref)) {
    throw new RangeError(
      `Cannot resolve model: '${ref}' is neither a directory, a Hub id (owner/name) nor preset:NAME`,
    );
  }
  return await resolveHub(ref, options);
}

/** A checkpoint directory, optionally `+GRAPH`, with the graph it asks for; else null. */
function checkpointRef(
  ref: string,
): { dir: string; attention: typeof ATTENTION_KINDS[number] } | null {
  const plus = ref.lastIndexOf("+");
  const suffix = plus > 0 ? attentionOf(ref.slice(plus + 1)) : null;
  const dir = suffix ? ref.slice(0, plus) : ref;
  if (!isLocalRef(dir) || !isCheckpointDir(dir)) return null;
  return { dir, attention: suffix ?? DEFAULT_ATTENTION };
}

function isLocalRef(ref: string): boolean {
  if (isAbsolute(ref) || ref.startsWith(".")) return true;
  try {
    return Deno.statSync(ref).isDirectory;
  } catch {
    return false;
  }
}

async function resolvePreset(ref: string, options: ResolveOptions): Promise<ResolvedModel> {
  const [body, attentionText] = ref.slice(PRESET_PREFIX.length).split("+") as [
    string,
    string | undefined,
  ];
  const [name, seedText] = body.split("@") as [string, string | undefined];
  const seed = seedText === undefined ? undefined : Number(seedText);
  const attention = attentionText === undefined ? DEFAULT_ATTENTION : attentionOf(attentionText);
  if (name === "" || (seed !== undefined && !Number.isInteger(seed)) || !attention) {
    throw new RangeError(
      `Cannot resolve model: '${ref}' is not preset:NAME[@SEED][+GRAPH] (graph: copy_kv, ${
        ATTENTION_KINDS.join(", ")
      })`,
    );
  }
  const dir = await ensurePreset(name, seed, options.dtypes ?? [], attention);
  return await resolveLocal(ref, dir, "preset", options);
}

async function resolveLocal(
  ref: string,
  dir: string,
  source: ResolvedModel["source"],
  options: ResolveOptions,
): Promise<ResolvedModel> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(dir);
  } catch {
    throw new RangeError(`Cannot resolve model: directory '${dir}' does not exist`);
  }
  if (!stat.isDirectory) throw new RangeError(`Cannot resolve model: '${dir}' is not a directory`);
  const raw = await readJson(join(dir, "config.json"));
  // transformers.js would say "local_files_only=true … not found": name the file instead.
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) {
    if (!(await Deno.stat(join(dir, file)).then((s) => s.isFile, () => false))) {
      throw new Error(`Cannot resolve model: '${join(dir, file)}' does not exist (the tokenizer)`);
    }
  }
  const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  const available = localDtypes(dir);
  return build(ref, source, dir, raw, tokenizer, available, options.dtypes ?? []);
}

function build(
  ref: string,
  source: ResolvedModel["source"],
  dir: string,
  raw: Record<string, unknown>,
  tokenizer: Tokenizer,
  available: Dtype[],
  wanted: readonly Dtype[],
): ResolvedModel {
  const config = parseModelConfig(raw, tokenizer);
  const onnxPath = (dtype: Dtype): string => {
    if (!available.includes(dtype)) {
      throw new RangeError(
        `Model '${ref}' has no '${dtype}' weights (available: ${available.join(", ") || "none"})`,
      );
    }
    const path = join(dir, onnxFile(dtype));
    try {
      Deno.statSync(path);
    } catch {
      throw new RangeError(
        `Model '${ref}': '${dtype}' weights are offered but not local (${path}); resolve with dtypes: ['${dtype}']`,
      );
    }
    return path;
  };
  for (const dtype of wanted) onnxPath(dtype);
  return {
    ref,
    source,
    dir,
    weights: weightsOf(raw),
    config,
    tokenizer,
    availableDtypes: available,
    onnxPath,
    externalData: (dtype) => externalDataNextTo(onnxPath(dtype)),
  };
}

/**
 * The ONNX file of a dtype, relative to the model directory (Hub / transformers.js layout).
 *
 * @param dtype A dtype.
 * @returns For example `onnx/model_q4.onnx`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onnxFile } from "./resolve.ts";
 * assert(onnxFile("q8") === "onnx/model_quantized.onnx");
 * ```
 */
export function onnxFile(dtype: Dtype): string {
  return `onnx/model${DTYPE_FILE_SUFFIX[dtype]}.onnx`;
}

/**
 * Dtypes whose ONNX file exists in a local directory in Hub layout, in {@linkcode DTYPES} order.
 *
 * @param dir Model directory.
 * @returns The dtypes present.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localDtypes } from "./resolve.ts";
 * assert(localDtypes("/nonexistent").length === 0);
 * ```
 */
export function localDtypes(dir: string): Dtype[] {
  return DTYPES.filter((dtype) => {
    try {
      return Deno.statSync(join(dir, onnxFile(dtype))).isFile;
    } catch {
      return false;
    }
  });
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new RangeError(
      `Cannot resolve model: '${path}' does not exist (not a Hub-layout directory)`,
    );
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new SyntaxError(
      `Cannot resolve model: '${path}' is not JSON (${(error as Error).message})`,
    );
  }
}

async function resolveHub(id: string, options: ResolveOptions): Promise<ResolvedModel> {
  const cacheDir = options.cacheDir ?? hubCacheDir();
  env.cacheDir = cacheDir;
  const offline = options.offline ??
    (Deno.env.get("HF_HUB_OFFLINE") === "1" || !env.allowRemoteModels);
  const revision = options.revision ?? "main";
  // transformers.js's file cache keys: `<id>/<file>` on main, `<id>/<revision>/<file>` otherwise.
  const dir = revision === "main" ? join(cacheDir, id) : join(cacheDir, id, revision);
  const hub = { cache_dir: cacheDir, revision, local_files_only: offline };
  let tokenizer: Tokenizer;
  let available: Dtype[];
  try {
    await AutoConfig.from_pretrained(id, hub);
    tokenizer = await AutoTokenizer.from_pretrained(id, hub);
    available = offline ? localDtypes(dir) : (await ModelRegistry.get_available_dtypes(id, hub))
      .filter(isDtype);
    for (const dtype of options.dtypes ?? []) {
      if (!available.includes(dtype)) continue; // build() reports it with the list
      const files = offline ? [] : await ModelRegistry.get_files(id, {
        ...hub,
        // Only dtypes the Hub listed get here, so never this project's own bf16 / q4gptq.
        dtype: dtype as Exclude<Dtype, "bf16" | "q4gptq">,
        include_tokenizer: false,
        include_processor: false,
      });
      for (const file of files) {
        const fetched = await fetchToCache(id, file, dir, revision, options.onProgress);
        // External data the config does not declare: model_q4.onnx_data, then _data_1, ….
        if (fetched && file.endsWith(".onnx") && !files.includes(`${file}_data`)) {
          for (let chunk = 0; chunk < MAX_DATA_CHUNKS; chunk++) {
            const data = `${file}_data${chunk === 0 ? "" : `_${chunk}`}`;
            if (!await fetchToCache(id, data, dir, revision, options.onProgress)) break;
          }
        }
      }
    }
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw hubError(id, offline, error);
  }
  const raw = await readJson(join(dir, "config.json"));
  return build(id, "hub", dir, raw, tokenizer, available, options.dtypes ?? []);
}

async function ensurePreset(
  name: string,
  seed: number | undefined,
  dtypes: readonly Dtype[],
  attention: typeof ATTENTION_KINDS[number],
): Promise<string> {
  return await ensureModel(name, {
    ...(seed === undefined ? {} : { seed }),
    ...(dtypes.length ? { dtypes: [...dtypes] } : {}),
    attention,
  });
}
