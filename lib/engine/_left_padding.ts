/**
 * Whether a decoder graph honours left padding. com.microsoft GroupQueryAttention (the
 * onnxruntime-genai export, this project's `attention: "gqa"` build) takes each row's length from
 * the attention mask's sum and assumes the padding sits on the right, so a left-padded row's
 * logits are wrong (measured on the tiny preset: 0.6 max |Δ logit| against the row alone, 1e-7
 * for the standard graph). Generation refuses such batches instead of timing wrong tokens.
 *
 * @module
 */
import { join } from "node:path";

/** Graph files larger than this are not scanned (their op types are then unknown). */
const SCAN_LIMIT_BYTES = 256 * 1024 * 1024;

const GQA_OP = new TextEncoder().encode("GroupQueryAttention");

/**
 * Whether left-padded batches decode correctly with this graph: false when the project's build
 * records `attention: "gqa"` in config.json or the graph file names a GroupQueryAttention node.
 *
 * @param onnxPath The graph file.
 * @param dir The model directory (its config.json).
 * @returns `false` for a GroupQueryAttention graph, else `true` (also when it cannot be read).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { supportsLeftPadding } from "./_left_padding.ts";
 * assert.equal(supportsLeftPadding("/nonexistent/model.onnx", "/nonexistent"), true);
 * ```
 */
export function supportsLeftPadding(onnxPath: string, dir: string): boolean {
  try {
    const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json")));
    if (config?.turbo_inference?.attention === "gqa") return false;
  } catch {
    // No config.json of ours: look at the graph.
  }
  try {
    if (Deno.statSync(onnxPath).size > SCAN_LIMIT_BYTES) return true;
    return indexOf(Deno.readFileSync(onnxPath), GQA_OP) < 0;
  } catch {
    return true;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  outer: for (let i = haystack.indexOf(first); i >= 0; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) return -1;
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
