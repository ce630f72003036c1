/**
 * What a model built by this project records about its graph in `config.json`
 * (`turbo_inference.*`), read when a decoder is loaded.
 *
 * @module
 */
import { join } from "node:path";

/** The `attention` a model built by this project records in its config.json, else null. */
export function builtAttention(dir: string): string | null {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    const attention = config?.turbo_inference?.attention;
    return typeof attention === "string" ? attention : null;
  } catch {
    return null;
  }
}

/** Graph inputs with an in-graph default that config.json of a built model lists, else []. */
export function builtInputDefaults(dir: string): string[] {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    const names = config?.turbo_inference?.input_defaults;
    return Array.isArray(names) ? names.filter((n) => typeof n === "string") : [];
  } catch {
    return [];
  }
}
