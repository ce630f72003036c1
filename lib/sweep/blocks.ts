/**
 * Blocks: the unit of comparison of a sweep. A block is one model × device × context × batch
 * (× the spec's prompt families); its arms are the grid's cells there (dtype × cache mode), plus
 * the A/A control — a second worker of the baseline arm (the spec's `baseline_dtype`, cache on),
 * whose cell id ends in `~aa`. The arms of a block are measured in the same rounds
 * (lib/measure/rounds.ts), so their ratios are paired by round.
 *
 * @module
 */
import type { Cell } from "./grid.ts";
import { promptSlots } from "./grid.ts";
import type { SweepSpec } from "./spec.ts";

/** Suffix of the A/A control's cell id. */
export const AA_SUFFIX = "~aa";

/** One block of arms. */
export interface Block {
  /** `model|device|ctx=N|b=N|families` (`BenchRow.block`). */
  id: string;
  /** The arms' cells in grid order (the A/A control last, when there is one). */
  arms: Cell[];
  /** The baseline arm's cell, when the block has it. */
  baseline: Cell | null;
  /** The A/A control's cell (id `<baseline>~aa`), when the spec asks for it. */
  aa: Cell | null;
}

/**
 * A block's id for a cell.
 *
 * @param spec The spec (its prompt families are part of the block).
 * @param cell A cell of the block.
 * @returns For example `m|cpu|ctx=128|b=1|conversational`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockIdOf } from "./blocks.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8], prompts_per_length: 1 });
 * const cell = { id: "", model: "m", dtype: "q4" as const, device: "cpu" as const, useCache: true, contextTokens: 8, batch: 1 };
 * assert.equal(blockIdOf(spec, cell), "m|cpu|ctx=8|b=1|conversational");
 * ```
 */
export function blockIdOf(spec: SweepSpec, cell: Omit<Cell, "dtype" | "useCache">): string {
  const families = [...new Set(promptSlots(spec).map((s) => s.family))].join("+");
  return [cell.model, cell.device, `ctx=${cell.contextTokens}`, `b=${cell.batch}`, families].join(
    "|",
  );
}

/**
 * Groups cells (in grid order) into blocks, in the order their first cell appears, adding the
 * A/A control to each block that holds its baseline arm.
 *
 * @param spec The spec (baseline dtype, A/A control, families).
 * @param cells Grid cells (a shard's cells, or the whole grid).
 * @returns The blocks.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupBlocks } from "./blocks.ts";
 * import { expandGrid } from "./grid.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["fp32", "fp16"], context_lengths: [8, 16], prompts_per_length: 1, aa_control: true });
 * const blocks = groupBlocks(spec, expandGrid(spec));
 * assert.equal(blocks.length, 2);
 * assert.deepEqual(blocks[0]!.arms.map((c) => c.id.split("|").slice(1, 4).join(" ")).at(-1), "fp16 cpu cache=on");
 * assert(blocks[0]!.aa!.id.endsWith("|fp16|cpu|cache=on|ctx=8|b=1~aa"));
 * ```
 */
export function groupBlocks(spec: SweepSpec, cells: readonly Cell[]): Block[] {
  const byId = new Map<string, Cell[]>();
  for (const cell of cells) {
    const id = blockIdOf(spec, cell);
    byId.set(id, [...byId.get(id) ?? [], cell]);
  }
  return [...byId.entries()].map(([id, arms]) => {
    const baseline = arms.find((c) => c.dtype === spec.baseline_dtype && c.useCache) ?? null;
    const aa = spec.aa_control && baseline ? { ...baseline, id: baseline.id + AA_SUFFIX } : null;
    return { id, arms: aa ? [...arms, aa] : arms, baseline, aa };
  });
}

/**
 * One line saying how the sweep measures: blocks, arms, the A/A control, rounds, order, the time
 * floor, and whether telemetry samples inside the rounds.
 *
 * @param spec The spec.
 * @param blocks Blocks in the grid.
 * @param arms Arms in the grid (A/A controls included).
 * @param complete Arms already complete.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { designLine } from "./blocks.ts";
 * import { parseSweepSpec } from "./spec.ts";
 * const spec = parseSweepSpec({ models: ["m"], dtypes: ["q4"], context_lengths: [8] });
 * assert(designLine(spec, 1, 3, 0).includes("telemetry off in the rounds"));
 * ```
 */
export function designLine(
  spec: SweepSpec,
  blocks: number,
  arms: number,
  complete: number,
): string {
  const slots = promptSlots(spec).length;
  return `${blocks} blocks, ${arms} arms (${complete} already complete); per block one live ` +
    `worker per arm${spec.aa_control ? ` plus an A/A control of ${spec.baseline_dtype}` : ""}, ` +
    `${spec.min_rounds}–${spec.max_rounds} rounds in a ${spec.round_order}d order, ${slots} ` +
    `prompts × ${spec.runs} repetitions per arm per round, each decoding ≥ ${spec.min_rep_seconds} s; ` +
    `telemetry ${
      spec.telemetry_interval_ms === 0
        ? "off in the rounds (sampling slows decoding)"
        : `every ${spec.telemetry_interval_ms} ms`
    }`;
}
