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
import { isAbsolute, join, resolve } from "node:path";
import { type Dtype, DTYPE_FILE_SUFFIX, DTYPES, isDtype } from "../dtypes.ts";
import { externalDataNextTo } from "../runtime/session.ts";
import {
  ATTENTION_KINDS,
  ensureCheckpointModel,
  ensureModel,
  isCheckpointDir,
} from "../model/mod.ts";

/** The tokenizer transformers.js loads (`AutoTokenizer.from_pretrained`). */
export type Tokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;

/** The decoder's shape and special tokens, read from `config.json` (typed, camelCase). */
export interface ModelConfig {
  /** `model_type` (e.g. `llama`). */
  modelType: string;
  /** Rows of the LM head (`vocab_size`). */
  vocabSize: number;
  /** Decoder layers (`num_hidden_layers`). */
  numLayers: number;
  /** Query heads (`num_attention_heads`). */
  numHeads: number;
  /** Key/value heads (`num_key_value_heads`, else `num_attention_heads`). */
  numKvHeads: number;
  /** Width of one head (`head_dim`, else `hidden_size / num_attention_heads`). */
  headDim: number;
  /** Longest sequence (`max_position_embeddings`). */
  maxPositions: number;
  /** Beginning-of-sequence id, or `null`. */
  bosTokenId: number | null;
  /** End-of-sequence ids (config lists one or several). */
  eosTokenIds: number[];
  /** Padding id (`pad_token_id`, else the first EOS, else 0). */
  padTokenId: number;
}

/** Where a model's weights came from: see {@linkcode ResolvedModel.weights}. */
export type ModelWeights = "random" | "trained";

/**
 * Reads the weights' origin from a parsed `config.json`: `random` when the project's builder
 * wrote it (`turbo_inference.weights: "random"`, or a `turbo_inference.preset` of a build made
 * before that field existed), else `trained`.
 *
 * @param raw The parsed config.
 * @returns `random` or `trained`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightsOf } from "./resolve.ts";
 * assert.equal(weightsOf({ turbo_inference: { preset: "tiny", seed: 42 } }), "random");
 * assert.equal(weightsOf({ turbo_inference: { weights: "imported" } }), "trained");
 * assert.equal(weightsOf({ model_type: "llama" }), "trained");
 * ```
 */
export function weightsOf(raw: Record<string, unknown>): ModelWeights {
  const turbo = raw.turbo_inference;
  if (turbo === null || typeof turbo !== "object") return "trained";
  const t = turbo as Record<string, unknown>;
  return t.weights === "random" || (t.weights === undefined && typeof t.preset === "string")
    ? "random"
    : "trained";
}

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

/** Most external-data chunks probed per ONNX file (transformers.js allows up to 100). */
const MAX_DATA_CHUNKS = 100;

/**
 * Resolves a model reference to local files, config, tokenizer and dtypes.
 *
 * @param ref A Hub id (`onnx-community/Llama-3.2-1B-Instruct`), a local directory, or
 * `preset:NAME[@seed][+ATTENTION]` (`+in_place`: the graph that decodes with an in-place KV
 * cache, `+gqa`: GroupQueryAttention; default the standard Optimum-layout graph).
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
  if (isLocalRef(ref)) {
    // A Hugging Face checkpoint (safetensors, no onnx/) is converted on first use into .cache/.
    const dir = isCheckpointDir(ref)
      ? await ensureCheckpointModel(
        ref,
        options.dtypes?.length ? { dtypes: [...options.dtypes] } : {},
      )
      : resolve(ref);
    return await resolveLocal(ref, dir, "local", options);
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(ref)) {
    throw new RangeError(
      `Cannot resolve model: '${ref}' is neither a directory, a Hub id (owner/name) nor preset:NAME`,
    );
  }
  return await resolveHub(ref, options);
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
  const attention = ATTENTION_KINDS.find((k) => k === (attentionText ?? "standard"));
  if (name === "" || (seed !== undefined && !Number.isInteger(seed)) || !attention) {
    throw new RangeError(
      `Cannot resolve model: '${ref}' is not preset:NAME[@SEED][+ATTENTION] (attention: ${
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

/**
 * Reads the typed config from a raw `config.json` object (GPT-2 style names accepted too), with
 * special ids completed from the tokenizer where the config lacks them.
 *
 * @param raw The parsed `config.json`.
 * @param tokenizer Optional tokenizer for missing special ids.
 * @returns The typed config.
 * @throws {RangeError} naming the first missing or invalid field.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseModelConfig } from "./resolve.ts";
 * const c = parseModelConfig({
 *   model_type: "llama", vocab_size: 512, num_hidden_layers: 2, num_attention_heads: 4,
 *   num_key_value_heads: 2, hidden_size: 64, max_position_embeddings: 512, eos_token_id: 1,
 * });
 * assert(c.headDim === 16 && c.numKvHeads === 2 && c.padTokenId === 1);
 * ```
 */
export function parseModelConfig(
  raw: Record<string, unknown>,
  tokenizer?: Pick<Tokenizer, "bos_token_id" | "eos_token_id" | "pad_token_id">,
): ModelConfig {
  const text = raw.text_config;
  if (text && typeof text === "object" && raw.num_hidden_layers === undefined) {
    return parseModelConfig({ ...raw, ...(text as Record<string, unknown>) }, tokenizer);
  }
  const int = (names: string[], fallback?: number): number => {
    for (const name of names) {
      const v = raw[name];
      if (v === undefined || v === null) continue;
      if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
        throw new RangeError(
          `Invalid config.json: '${name}' must be a positive integer, got ${JSON.stringify(v)}`,
        );
      }
      return v;
    }
    if (fallback !== undefined) return fallback;
    throw new RangeError(`Invalid config.json: '${names[0]}' is missing`);
  };
  const numHeads = int(["num_attention_heads", "n_head"]);
  const hidden = raw.head_dim === undefined ? int(["hidden_size", "n_embd"]) : 0;
  const headDim = int(["head_dim"], hidden / numHeads);
  const ids = (v: unknown): number[] =>
    (Array.isArray(v) ? v : [v]).filter((x): x is number => Number.isInteger(x));
  const special = tokenizer as unknown as Record<string, unknown> | undefined;
  const tokenId = (name: string): number | null => {
    const id = special?.[name];
    return typeof id === "number" && Number.isInteger(id) ? id : null;
  };
  const eos = ids(raw.eos_token_id);
  if (eos.length === 0) {
    const fromTokenizer = tokenId("eos_token_id");
    if (fromTokenizer !== null) eos.push(fromTokenizer);
  }
  const bos = ids(raw.bos_token_id)[0] ?? tokenId("bos_token_id");
  const pad = ids(raw.pad_token_id)[0] ?? tokenId("pad_token_id") ?? eos[0] ?? 0;
  return {
    modelType: typeof raw.model_type === "string" ? raw.model_type : "unknown",
    vocabSize: int(["vocab_size"]),
    numLayers: int(["num_hidden_layers", "n_layer"]),
    numHeads,
    numKvHeads: int(["num_key_value_heads"], numHeads),
    headDim,
    maxPositions: int(["max_position_embeddings", "n_positions"]),
    bosTokenId: bos,
    eosTokenIds: eos,
    padTokenId: pad,
  };
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

/**
 * The transformers.js cache directory this project uses: `$HF_HOME/transformers.js` when
 * `HF_HOME` is set, else transformers.js's own default (`env.cacheDir`).
 *
 * @returns A directory path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubCacheDir } from "./resolve.ts";
 * assert(hubCacheDir().length > 0);
 * ```
 */
export function hubCacheDir(): string {
  const home = Deno.env.get("HF_HOME");
  return home ? join(home, "transformers.js") : String(env.cacheDir ?? ".cache");
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

/** Fetches one file into the cache; `false` when an optional file (not `.onnx`) is absent. */
async function fetchToCache(
  id: string,
  file: string,
  dir: string,
  revision: string,
  onProgress?: (line: string) => void,
): Promise<boolean> {
  const target = join(dir, file);
  try {
    if ((await Deno.stat(target)).isFile) return true;
  } catch {
    // not cached yet
  }
  const url = `${String(env.remoteHost).replace(/\/$/, "")}/${
    String(env.remotePathTemplate).replaceAll("{model}", id).replaceAll(
      "{revision}",
      encodeURIComponent(revision),
    )
  }${file}`;
  // The token goes to the Hugging Face Hub only, as transformers.js sends it.
  const token = /^https:\/\/(huggingface\.co|hf\.co)\//.test(url)
    ? Deno.env.get("HF_TOKEN") ?? Deno.env.get("HF_ACCESS_TOKEN")
    : undefined;
  const response = await fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  if (response.status === 404 && !file.endsWith(".onnx")) {
    await response.body?.cancel();
    return false; // optional files (generation_config.json, external data, …)
  }
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  onProgress?.(`downloading ${id}/${file}`);
  await Deno.mkdir(join(target, ".."), { recursive: true });
  const partial = `${target}.part`;
  const out = await Deno.open(partial, { write: true, create: true, truncate: true });
  await response.body.pipeTo(out.writable);
  await Deno.rename(partial, target);
  return true;
}

function hubError(id: string, offline: boolean, error: unknown): Error {
  const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
  const suggestion = "pass a local directory in Hub layout (config.json, tokenizer.json, " +
    "onnx/model*.onnx) or preset:small";
  if (offline) {
    return new Error(
      `Cannot resolve model '${id}': offline and not in the cache (${hubCacheDir()}); ${suggestion}`,
    );
  }
  if (
    /fetch failed|dns error|getaddrinfo|connect error|connection refused|ENOTFOUND|ECONNREFUSED|network|timed? ?out/i
      .test(message)
  ) {
    return new Error(
      `Cannot resolve model '${id}': the Hugging Face Hub is unreachable (${message}); ${suggestion}`,
    );
  }
  return new Error(`Cannot resolve model '${id}': ${message}; ${suggestion}`);
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
