/**
 * Grid expansion: a sweep spec's axes → the ordered list of cells, interleaved in rounds.
 *
 * @module
 */
import type { Device, Dtype } from "../dtypes.ts";
import type { Family, SweepSpec } from "./spec.ts";

/** One benchmark cell: every run in it shares model, dtype, device, cache mode, length, batch. */
export interface Cell {
  /** Stable id, also the key used to skip finished cells on resume. */
  id: string;
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: Dtype;
  /** Device. */
  device: Device;
  /** KV cache on or off. */
  useCache: boolean;
  /** Prompt length in tokens. */
  contextTokens: number;
  /** Sequences per run. */
  batch: number;
}

/** One prompt of a cell: which family and index. */
export interface PromptSlot {
  /** Prompt family. */
  family: Family;
  /** Index of the prompt within its length (0-based, unique across families). */
  promptId: number;
}

/**
 * The id of a cell, stable across runs of the same spec.
 *
 * @param cell The cell's coordinates.
 * @returns For example `preset:small|q4|cpu|cache=on|ctx=512|b=1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellId } from "./grid.ts";
 * const id = cellId({ model: "m", dtype: "q4", device: "cpu", useCache: false, contextTokens: 128, batch: 1 });
 * assert(id === "m|q4|cpu|cache=off|ctx=128|b=1");
 * ```
 */
export function cellId(cell: Omit<Cell, "id">): string {
  return [
    cell.model,
    cell.dtype,
    cell.device,
    `cache=${cell.useCache ? "on" : "off"}`,
    `ctx=${cell.contextTokens}`,
    `b=${cell.batch}`,
  ].join("|");
}

/**
 * Expands a spec into cells in run order. Each cell runs in a fresh worker process, so the order
 * costs no model loads and is chosen for the measurement: model → device → context ascending,
 * then one *round* over every cache mode (on first) × batch size × dtype at that context. Dtypes,
 * batch sizes and cache modes alternate, so drift and background load spread evenly over them
 * instead of falling on whichever dtype or batch size ran last; short contexts run first, so a
 * budget cut leaves the most expensive cells for a resume.
 *
 * @param spec A validated spec.
 * @returns The cells in run order; every cell appears exactly once.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandGrid } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32", "q4"], context_lengths: [256, 128] });
 * const order = expandGrid(spec).map((c) => `${c.dtype}/${c.useCache ? "on" : "off"}/${c.contextTokens}`);
 * assert.deepEqual(order.slice(0, 4), ["fp32/on/128", "q4/on/128", "fp32/off/128", "q4/off/128"]);
 * ```
 */
export function expandGrid(spec: SweepSpec): Cell[] {
  const cells: Cell[] = [];
  const cacheOrder = [...spec.use_cache].sort((a, b) => Number(b) - Number(a));
  const lengths = [...spec.context_lengths].sort((a, b) => a - b);
  for (const model of spec.models) {
    for (const device of spec.devices) {
      for (const contextTokens of lengths) {
        for (const useCache of cacheOrder) {
          for (const batch of spec.batch_sizes) {
            for (const dtype of spec.dtypes) {
              const coords = { model, dtype, device, useCache, contextTokens, batch };
              cells.push({ id: cellId(coords), ...coords });
            }
          }
        }
      }
    }
  }
  return cells;
}

/**
 * Tokens each run of a cell generates: `max_new_tokens_no_cache` for a cache-off cell when the
 * spec sets it, else `max_new_tokens`.
 *
 * @param spec A validated spec.
 * @param cell The cell (only its cache mode matters).
 * @returns New tokens per run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newTokensOf } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8], max_new_tokens: 32, max_new_tokens_no_cache: 8 });
 * assert.deepEqual([newTokensOf(spec, { useCache: true }), newTokensOf(spec, { useCache: false })], [32, 8]);
 * ```
 */
export function newTokensOf(spec: SweepSpec, cell: Pick<Cell, "useCache">): number {
  return cell.useCache ? spec.max_new_tokens : spec.max_new_tokens_no_cache ?? spec.max_new_tokens;
}

/**
 * The prompts of one cell: `prompts_per_length` slots spread over the families round-robin.
 *
 * @param spec A validated spec.
 * @returns The prompt slots, the same for every cell of a length.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptSlots } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8], prompts_per_length: 4 });
 * assert(promptSlots(spec).map((s) => s.family).join() === "conversational,code,summary,conversational");
 * ```
 */
export function promptSlots(spec: SweepSpec): PromptSlot[] {
  return Array.from({ length: spec.prompts_per_length }, (_, promptId) => ({
    family: spec.families[promptId % spec.families.length]!,
    promptId,
  }));
}
