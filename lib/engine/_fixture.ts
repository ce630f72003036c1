/**
 * Test fixture, private to lib/engine: the `tiny` preset built once (fp32) and resolved.
 *
 * @module
 */
import { ensureModel } from "../model/mod.ts";
import { type ResolvedModel, resolveModel } from "./resolve.ts";

let tiny: Promise<ResolvedModel> | undefined;

/**
 * The `tiny` preset (seed 42, fp32), built on first use and shared by the tests of one process.
 *
 * @returns The resolved model.
 */
export function tinyModel(): Promise<ResolvedModel> {
  tiny ??= ensureModel("tiny", { dtypes: ["fp32"] }).then((dir) => resolveModel(dir));
  return tiny;
}
