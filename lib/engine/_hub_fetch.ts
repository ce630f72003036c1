/**
 * Fetching a Hub model's files into transformers.js's cache layout, and the one-line errors a
 * Hub failure becomes (offline, unreachable, other).
 *
 * @module
 */
import { env } from "@huggingface/transformers";
import { join } from "node:path";

/** Most external-data chunks probed per ONNX file (transformers.js allows up to 100). */
export const MAX_DATA_CHUNKS = 100;

/**
 * The transformers.js cache directory this project uses: `$HF_HOME/transformers.js` when
 * `HF_HOME` is set, else transformers.js's own default (`env.cacheDir`).
 *
 * @returns A directory path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubCacheDir } from "./_hub_fetch.ts";
 * assert(hubCacheDir().length > 0);
 * ```
 */
export function hubCacheDir(): string {
  const home = Deno.env.get("HF_HOME");
  return home ? join(home, "transformers.js") : String(env.cacheDir ?? ".cache");
}

/** Fetches one file into the cache; `false` when an optional file (not `.onnx`) is absent. */
export async function fetchToCache(
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

/** The one-line error a failed Hub resolution becomes: offline, unreachable, or the cause. */
export function hubError(id: string, offline: boolean, error: unknown): Error {
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
