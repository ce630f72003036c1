/**
 * Grid expansion: a sweep spec's axes → the ordered list of cells, grouped so that each
 * model + dtype + device loads once (one child process per group).
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

/** The cells one child process runs: one model + dtype + device. */
export interface CellGroup {
  /** `${model}|${dtype}|${device}`. */
  key: string;
  /** Model reference. */
  model: string;
  /** Weight dtype. */
  dtype: Dtype;
  /** Device. */
  device: Device;
  /** Cells in run order. */
  cells: Cell[];
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
 * Expands a spec into groups of cells. Order: model → dtype → device (one load each), then
 * batch → cache mode (on first) → context length ascending, so the cheap cells run first and a
 * budget cut leaves the most expensive ones for a resume.
 *
 * @param spec A validated spec.
 * @returns The groups in run order; every cell appears exactly once.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandGrid } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32", "q4"], context_lengths: [128, 256] });
 * assert(expandGrid(spec).length === 2 && expandGrid(spec)[0]!.cells.length === 4);
 * ```
 */
export function expandGrid(spec: SweepSpec): CellGroup[] {
  const groups: CellGroup[] = [];
  const cacheOrder = [...spec.use_cache].sort((a, b) => Number(b) - Number(a));
  const lengths = [...spec.context_lengths].sort((a, b) => a - b);
  for (const model of spec.models) {
    for (const dtype of spec.dtypes) {
      for (const device of spec.devices) {
        const cells: Cell[] = [];
        for (const batch of spec.batch_sizes) {
          for (const useCache of cacheOrder) {
            for (const contextTokens of lengths) {
              const coords = { model, dtype, device, useCache, contextTokens, batch };
              cells.push({ id: cellId(coords), ...coords });
            }
          }
        }
        groups.push({ key: `${model}|${dtype}|${device}`, model, dtype, device, cells });
      }
    }
  }
  return groups;
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
