/**
 * File-system helpers of the model builder: existence checks, unique staging paths, atomic JSON
 * writes, peak RSS, and the optional quantizer. Private to lib/model.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { Dtype } from "../dtypes.ts";

/** Whether a path exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A path next to `path` that no other process uses: `<path>.tmp-<pid>-<random>`. */
export function stagingPath(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return `${path}.tmp-${Deno.pid}-${random}`;
}

/** Writes JSON (2-space indented, trailing newline) through a temp file and a rename. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = stagingPath(path);
  Deno.writeTextFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  Deno.renameSync(tmp, path);
}

/** Removes a path recursively, ignoring a missing one. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Peak resident set size of this process in bytes (Linux `VmHWM`, else the current RSS). */
export function peakRssBytes(): number {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const match = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return Deno.memoryUsage().rss;
}

/** The quantizer's entry point, as lib/quantize/mod.ts exports it. */
export type QuantizeModel = (
  fp32OnnxPath: string,
  dtypes: Dtype[],
  options?: Record<string, unknown>,
) => Promise<unknown>;

const QUANTIZE_MOD = new URL("../quantize/mod.ts", import.meta.url);

/** The quantizer, or `null` while lib/quantize/mod.ts does not exist. */
export async function loadQuantizer(): Promise<QuantizeModel | null> {
  if (!exists(QUANTIZE_MOD.pathname)) return null;
  const mod = await import(QUANTIZE_MOD.href) as { quantizeModel?: QuantizeModel };
  return typeof mod.quantizeModel === "function" ? mod.quantizeModel : null;
}

/** Repository root (the folder holding deno.json), found from this file's location. */
export function repoRoot(): string {
  return dirname(dirname(dirname(new URL(import.meta.url).pathname)));
}

/** Default model cache folder: `$TURBO_MODEL_CACHE`, else `<repo>/.cache/models`. */
export function defaultCacheDir(): string {
  return Deno.env.get("TURBO_MODEL_CACHE") || join(repoRoot(), ".cache", "models");
}
