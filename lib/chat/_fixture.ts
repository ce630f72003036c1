/**
 * Test fixture, private to lib/chat: the `tiny` preset built once (fp32), resolved and loaded.
 *
 * @module
 */
import { type DecoderModel, loadDecoder } from "../engine/decoder.ts";
import { resolveModel } from "../engine/resolve.ts";
import { ensureModel } from "../model/mod.ts";

let tiny: Promise<DecoderModel> | undefined;

/**
 * The `tiny` preset (seed 42, fp32) loaded on the CPU, shared by the tests of one process.
 *
 * @returns The decoder (never disposed: it lives as long as the test process).
 */
export function tinyDecoder(): Promise<DecoderModel> {
  tiny ??= ensureModel("tiny", { dtypes: ["fp32"] })
    .then((dir) => resolveModel(dir))
    .then((resolved) => loadDecoder(resolved, { dtype: "fp32", threads: 1 }));
  return tiny;
}
