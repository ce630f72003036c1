/**
 * The WikiText-2 raw (v1) text a perplexity evaluation reads, as one string: the split's rows
 * joined with "\n\n" (the Hugging Face method, `"\n\n".join(data["text"])`).
 *
 * Sources, first match wins:
 * 1. `path` (the CLI's `--wikitext PATH`), else the `WIKITEXT_PATH` environment variable (an
 *    empty value counts as unset; `path: null` never reads it): a `.parquet` file (column `text`, rows joined with "\n\n") or any other file read as UTF-8
 *    text, used as is. `split` is ignored: the file is the split.
 * 2. The test split vendored in this repository, `data/wikitext-2-raw-v1/test.txt.gz` (gzip,
 *    sha256 of the text checked on every read), when `split` is `test`: a clone measures
 *    perplexity offline.
 * 3. The Hub: `Salesforce/wikitext`, `wikitext-2-raw-v1/{split}-00000-of-00001.parquet`, fetched
 *    once (from `$HF_ENDPOINT`, default https://huggingface.co) into the transformers.js cache
 *    directory the engine uses (`$HF_HOME/transformers.js`, see `hubCacheDir()`), under
 *    `datasets/Salesforce/wikitext/`.
 * Offline (`HF_HUB_OFFLINE=1`, or the download fails) with neither, a one-line error names the
 * flag and the variable.
 *
 * @module
 */
import pl from "nodejs-polars";
import { join } from "node:path";

/** The WikiText-2 splits that can be loaded by name. */
export const WIKITEXT_SPLITS = ["test", "validation"] as const;

/** One of {@linkcode WIKITEXT_SPLITS}. */
export type WikitextSplit = typeof WIKITEXT_SPLITS[number];

/** The Hub dataset and config the splits come from. */
export const WIKITEXT_HUB: Readonly<{ dataset: string; config: string }> = Object.freeze({
  dataset: "Salesforce/wikitext",
  config: "wikitext-2-raw-v1",
});

/** The vendored test split: where it lives, its size and its checksum. */
export const VENDORED_WIKITEXT_TEST: Readonly<{ path: string; bytes: number; sha256: string }> =
  Object.freeze({
    path: new URL("../../data/wikitext-2-raw-v1/test.txt.gz", import.meta.url).pathname,
    bytes: 1_296_370,
    sha256: "696cca6b65a171b0a358a4be6732cdfdf2dd6164a32e20fd70e3c13fc4dfae83",
  });

/** Options of {@linkcode loadWikitext}. */
export interface WikitextOptions {
  /**
   * A local `.txt` or `.parquet` file; `null` for none (the WIKITEXT_PATH variable is then not
   * read either). @default the WIKITEXT_PATH environment variable, when set and not empty
   */
  path?: string | null;
  /** Split fetched from the Hub when no file is given. @default "test" */
  split?: WikitextSplit;
  /** Read the vendored test split when no file is given and `split` is `test`. @default true */
  vendored?: boolean;
  /** Never download. @default HF_HUB_OFFLINE=1 */
  offline?: boolean;
  /** Cache directory for the Hub download. @default hubCacheDir() */
  cacheDir?: string;
}

/**
 * The `WIKITEXT_PATH` environment variable, an empty value read as unset (a Makefile exports an
 * unset variable as the empty string).
 *
 * @param value The variable's value. @default Deno.env.get("WIKITEXT_PATH")
 * @returns The path, or `undefined` when unset or empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wikitextPathFromEnv } from "./wikitext.ts";
 * assert(wikitextPathFromEnv("") === undefined && wikitextPathFromEnv("a.txt") === "a.txt");
 * ```
 */
export function wikitextPathFromEnv(
  value: string | undefined = Deno.env.get("WIKITEXT_PATH"),
): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Whether `value` names a WikiText-2 split.
 *
 * @param value Any string.
 * @returns `true` for `test` and `validation`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWikitextSplit } from "./wikitext.ts";
 * assert(isWikitextSplit("validation") && !isWikitextSplit("train2"));
 * ```
 */
export function isWikitextSplit(value: string): value is WikitextSplit {
  return (WIKITEXT_SPLITS as readonly string[]).includes(value);
}

/**
 * Loads the WikiText-2 text from a file, WIKITEXT_PATH, or the Hub (see the module doc).
 *
 * @param options File, split, offline mode, cache directory.
 * @returns The text.
 * @throws {RangeError} for an unknown split, a missing or empty file; `Error` when offline with
 * no file.
 * @example
 * ```ts ignore
 * import { loadWikitext } from "./wikitext.ts";
 * const text = await loadWikitext({ path: "wiki.test.raw" });
 * console.log(text.length);
 * ```
 */
export async function loadWikitext(options: WikitextOptions = {}): Promise<string> {
  const split = options.split ?? "test";
  if (!isWikitextSplit(split)) {
    throw new RangeError(
      `'split' must be one of ${WIKITEXT_SPLITS.join(", ")}, got ${JSON.stringify(split)}`,
    );
  }
  const path = options.path === null ? undefined : options.path || wikitextPathFromEnv();
  if (path !== undefined) return await readWikitextFile(path);
  if (split === "test" && (options.vendored ?? true) && await isFile(VENDORED_WIKITEXT_TEST.path)) {
    return await readVendoredWikitext();
  }
  const file = `${WIKITEXT_HUB.config}/${split}-00000-of-00001.parquet`;
  const cached = join(
    options.cacheDir ?? await hubCacheDir(),
    "datasets",
    WIKITEXT_HUB.dataset,
    file,
  );
  if (!(await isFile(cached))) {
    const offline = options.offline ?? Deno.env.get("HF_HUB_OFFLINE") === "1";
    const reason = offline ? "offline" : await download(file, cached);
    if (reason !== null) {
      throw new Error(
        `no WikiText-2 text: pass --wikitext PATH (.txt or .parquet) or set WIKITEXT_PATH (Hub download ${reason})`,
      );
    }
  }
  return await readWikitextFile(cached);
}

/**
 * Reads a WikiText file: `.parquet` → column `text` joined with "\n\n"; anything else as text.
 *
 * @param path The file.
 * @returns The text.
 * @throws {RangeError} when the file is missing or empty; `TypeError` without a `text` column.
 * @example
 * ```ts ignore
 * import { readWikitextFile } from "./wikitext.ts";
 * console.log((await readWikitextFile("wiki.test.raw")).length);
 * ```
 */
export async function readWikitextFile(path: string): Promise<string> {
  if (!(await isFile(path))) {
    throw new RangeError(
      `WikiText file '${path}' does not exist`,
    );
  }
  let text: string;
  if (path.toLowerCase().endsWith(".parquet")) {
    const frame = pl.readParquet(path);
    if (!frame.columns.includes("text")) {
      throw new TypeError(
        `WikiText parquet '${path}' has no 'text' column (columns: ${frame.columns.join(", ")})`,
      );
    }
    const rows = frame.getColumn("text").toArray() as (string | null)[];
    text = rows.map((row) => row ?? "").join("\n\n");
  } else {
    text = await Deno.readTextFile(path);
  }
  if (text.trim() === "") throw new RangeError(`WikiText file '${path}' is empty`);
  return text;
}

/**
 * Reads the vendored WikiText-2 test split (`data/wikitext-2-raw-v1/test.txt.gz`) and checks its
 * size and sha256 against {@linkcode VENDORED_WIKITEXT_TEST}.
 *
 * @param path The gzip file. @default VENDORED_WIKITEXT_TEST.path
 * @returns The text (1,296,370 UTF-8 bytes).
 * @throws {RangeError} when the file is missing or its text has another size or checksum.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readVendoredWikitext } from "./wikitext.ts";
 * const text = await readVendoredWikitext();
 * assert(text.includes(" = Robert Boulter = "));
 * ```
 */
export async function readVendoredWikitext(
  path: string = VENDORED_WIKITEXT_TEST.path,
): Promise<string> {
  if (!(await isFile(path))) throw new RangeError(`WikiText file '${path}' does not exist`);
  const file = await Deno.open(path);
  const bytes = new Uint8Array(
    await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  const want = VENDORED_WIKITEXT_TEST;
  if (bytes.byteLength !== want.bytes || hex !== want.sha256) {
    throw new RangeError(
      `WikiText file '${path}' is not the vendored test split (${bytes.byteLength} bytes, ` +
        `sha256 ${hex}; expected ${want.bytes} bytes, sha256 ${want.sha256})`,
    );
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The engine's cache directory. Imported lazily so that reading a local file never loads
 * transformers.js.
 */
async function hubCacheDir(): Promise<string> {
  const spec = "../engine/resolve.ts";
  const engine = await import(spec) as { hubCacheDir(): string };
  return engine.hubCacheDir();
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** Downloads `file` of the dataset to `target`; returns null, or why it failed (one line). */
async function download(file: string, target: string): Promise<string | null> {
  const host = (Deno.env.get("HF_ENDPOINT") || "https://huggingface.co").replace(/\/$/, "");
  const url = `${host}/datasets/${WIKITEXT_HUB.dataset}/resolve/main/${file}`;
  const token = Deno.env.get("HF_TOKEN") ?? Deno.env.get("HF_ACCESS_TOKEN");
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(60_000),
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      return `GET ${url} answered ${response.status}`;
    }
    await Deno.mkdir(join(target, ".."), { recursive: true });
    const partial = `${target}.part`;
    const out = await Deno.open(partial, { write: true, create: true, truncate: true });
    await response.body.pipeTo(out.writable);
    await Deno.rename(partial, target);
    return null;
  } catch (error) {
    return `failed: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`;
  }
}
