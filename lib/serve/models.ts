/**
 * The models the service offers: every preset (built on first use, in the model cache), the
 * models already in the cache, vendored models (`<repo>/models/*` in Hub layout, or safetensors
 * checkpoints such as the default `models/wikitext-llama`, converted on first use) and Hub models
 * in transformers.js's cache, each with the dtypes it has or can build. Requests naming anything
 * else are rejected before a job is queued.
 *
 * @module
 */
import { basename, join, relative } from "node:path";
import { type Dtype, DTYPES } from "../dtypes.ts";
import { hubCacheDir, localDtypes } from "../engine/resolve.ts";
import { DEFAULT_DTYPES, DEFAULT_SEED, parameterCount, PRESETS } from "../model/mod.ts";
import { checkpointMaxPositions, isCheckpointDir } from "../model/ensure.ts";
import { REPO_ROOT } from "../history/record.ts";

/** One model the service can run. */
export interface ModelInfo {
  /** The model reference jobs and `/v1` requests use (`preset:tiny`, `models/x`, `owner/name`). */
  id: string;
  /** Where it comes from. */
  source: "preset" | "cache" | "vendored" | "hub-cache";
  /** Dtypes it has, or (presets) can build on first use. */
  dtypes: Dtype[];
  /** Whether its files are already on disk (a preset not yet built is built on first use). */
  cached: boolean;
  /** Longest sequence the graph takes, tokens (`max_position_embeddings`), or `null` when unknown. */
  max_positions: number | null;
  /**
   * Longest sequence the OpenAI-compatible routes serve (prompt + completion), tokens: the
   * context the model was trained for (a vendored checkpoint's own `max_position_embeddings`,
   * even where its converted graph takes more positions for long-context benchmarks), else
   * `max_positions`; `null` when unknown.
   */
  context_length: number | null;
  /** Parameters, when known. */
  parameters: number | null;
  /** Local directory, when on disk. */
  dir: string | null;
}

/** Options of {@linkcode listModels}. */
export interface ListModelsOptions {
  /** The preset cache. @default "<repo>/.cache/models" */
  modelCache?: string;
  /** Vendored models folder. @default "<repo>/models" */
  vendoredDir?: string;
  /** transformers.js cache. @default hubCacheDir() */
  hubCache?: string;
}

/**
 * Lists the models the service offers.
 *
 * @param options Where to look.
 * @returns Presets first, then cached, vendored and Hub-cache models.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * const tiny = models.find((m) => m.id === "preset:tiny");
 * assert(tiny && tiny.dtypes.includes("q4") && tiny.max_positions === 512);
 * // the vendored trained checkpoint is offered under the sweep's reference, converted on first use
 * const vendored = models.find((m) => m.id === "models/wikitext-llama");
 * assert(vendored && vendored.source === "vendored" && vendored.dtypes.includes("q4gptq"));
 * assert.equal(vendored.context_length, 2048); // trained context; the graph takes more positions
 * ```
 */
export function listModels(options: ListModelsOptions = {}): ModelInfo[] {
  const cache = options.modelCache ?? join(REPO_ROOT, ".cache", "models");
  const out: ModelInfo[] = [];
  const seen = new Set<string>();
  for (const [name, config] of Object.entries(PRESETS)) {
    const dir = join(cache, `${name}-s${DEFAULT_SEED}`);
    const built = isModelDir(dir);
    out.push({
      id: `preset:${name}`,
      source: "preset",
      dtypes: union(DEFAULT_DTYPES, built ? localDtypes(dir) : []),
      cached: built,
      max_positions: config.max_position_embeddings,
      context_length: config.max_position_embeddings,
      parameters: parameterCount(config),
      dir: built ? dir : null,
    });
    seen.add(dir);
  }
  for (const dir of subdirs(cache)) {
    // import-*: the conversions of vendored checkpoints, offered under the checkpoint's own id
    if (seen.has(dir) || basename(dir).startsWith("import-") || !isModelDir(dir)) continue;
    const m = /^(.+)-s(\d+)$/.exec(basename(dir));
    const preset = m && PRESETS[m[1]!] ? `preset:${m[1]}@${m[2]}` : null;
    out.push(local(preset ?? dir, "cache", dir, preset ? DEFAULT_DTYPES : []));
  }
  for (const dir of subdirs(options.vendoredDir ?? join(REPO_ROOT, "models"))) {
    if (isModelDir(dir)) out.push(local(relative(REPO_ROOT, dir), "vendored", dir, []));
    else if (isCheckpointDir(dir)) out.push(checkpoint(relative(REPO_ROOT, dir), dir));
  }
  const hub = options.hubCache ?? hubCacheDir();
  for (const owner of subdirs(hub)) {
    for (const dir of subdirs(owner)) {
      if (isModelDir(dir)) {
        out.push(local(`${basename(owner)}/${basename(dir)}`, "hub-cache", dir, []));
      }
    }
  }
  return out;
}

/**
 * Finds a model by id and checks a dtype against it.
 *
 * @param models The catalogue ({@linkcode listModels}).
 * @param id A model id.
 * @returns The model, or `undefined`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findModel, listModels } from "./models.ts";
 * const models = listModels({ modelCache: Deno.makeTempDirSync() });
 * assert(findModel(models, "preset:tiny") && !findModel(models, "preset:nope"));
 * ```
 */
export function findModel(models: readonly ModelInfo[], id: string): ModelInfo | undefined {
  return models.find((m) => m.id === id);
}

function local(
  id: string,
  source: ModelInfo["source"],
  dir: string,
  extra: readonly Dtype[],
): ModelInfo {
  let maxPositions: number | null = null;
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    maxPositions = Number(config.max_position_embeddings) || null;
  } catch {
    // unreadable config: positions unknown
  }
  return {
    id,
    source,
    dtypes: union(extra, localDtypes(dir)),
    cached: true,
    max_positions: maxPositions,
    context_length: maxPositions,
    parameters: null,
    dir,
  };
}

/** A vendored safetensors checkpoint: converted (and quantized) on first use, like the sweep does. */
function checkpoint(id: string, dir: string): ModelInfo {
  return {
    id,
    source: "vendored",
    dtypes: [...CHECKPOINT_DTYPES],
    cached: false,
    max_positions: checkpointMaxPositions(dir),
    context_length: trainedPositions(dir) ?? checkpointMaxPositions(dir),
    parameters: null,
    dir,
  };
}

/** Every dtype the checkpoint importer and quantizer build (bf16 runs where the EP has kernels). */
const CHECKPOINT_DTYPES: readonly Dtype[] = ["fp32", "fp16", "bf16", "q8", "q4", "q4f16", "q4gptq"];

function trainedPositions(dir: string): number | null {
  try {
    const max = JSON.parse(Deno.readTextFileSync(join(dir, "config.json"))).max_position_embeddings;
    return typeof max === "number" && max > 0 ? max : null;
  } catch {
    return null;
  }
}

function union(a: readonly Dtype[], b: readonly Dtype[]): Dtype[] {
  return DTYPES.filter((d) => a.includes(d) || b.includes(d));
}

function isModelDir(dir: string): boolean {
  try {
    return Deno.statSync(join(dir, "config.json")).isFile && localDtypes(dir).length > 0;
  } catch {
    return false;
  }
}

function subdirs(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isDirectory && !e.name.startsWith(".") && !e.name.includes(".tmp-"))
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}
