/**
 * The messages between the sweep orchestrator and its worker processes: one JSON object per
 * stdout line, prefixed so that stray output of a library cannot be mistaken for a message.
 *
 * @module
 */
import type { BenchRow, PerplexityRow } from "../results/schema.ts";
import type { Cell } from "./grid.ts";
import type { SweepSpec } from "./spec.ts";
import type { ProbePoint } from "./estimate.ts";
import type { TelemetryRun } from "../measure/telemetry.ts";

/** Prefix of every protocol line on a worker's stdout. */
export const MESSAGE_PREFIX = "@@turbo ";

/** Provenance every row carries, computed once by the orchestrator. */
export interface Provenance {
  /** Git commit of the project. */
  gitCommit: string;
  /** Deno version. */
  denoVersion: string;
  /** onnxruntime-node version. */
  ortVersion: string;
  /** Version of the @huggingface/transformers package. */
  transformersVersion: string;
  /** CPU model name. */
  cpuName: string;
  /** GPU name, when one is visible. */
  gpuName: string | null;
  /** The machine's read bandwidth measured once per sweep (lib/measure/bandwidth.ts), GB/s. */
  readGbS?: number | null;
}

/** What a worker is asked to do. */
export interface WorkerJob {
  /**
   * `arm` is one live arm of a block (lib/sweep/arm_worker.ts: turns on command from stdin);
   * `probe` times one short prefill and decode; `ppl` runs perplexity; `check` only resolves and
   * loads the model (the sweep's check before its first block).
   */
  mode: "arm" | "probe" | "ppl" | "check";
  /** The sweep spec. */
  spec: SweepSpec;
  /** Model reference. */
  model: string;
  /** Device. */
  device: Cell["device"];
  /** Dtype (bench, probe). */
  dtype: Cell["dtype"];
  /** The arm's cell (`arm`: exactly one). */
  cells: Cell[];
  /** Row provenance. */
  provenance: Provenance;
  /** Epoch ms after which no new cell starts, or null. */
  deadlineMs: number | null;
  /** `arm`: 1 for the block's A/A control (a second worker of its baseline arm), else 0. */
  replica?: number;
  /** `arm`: the block's id (`BenchRow.block`). */
  block?: string;
}

/** A command of the scheduler to a live arm (one JSON line on the worker's stdin). */
export type ArmCommand =
  | { type: "turn"; round: number; position: number }
  | { type: "end" };

/** A worker's message. */
export type WorkerMessage =
  | { type: "start"; cellId: string }
  | { type: "cell"; cellId: string; rows: BenchRow[]; telemetry?: TelemetryRun }
  | { type: "turn"; cellId: string; rows: BenchRow[] }
  | { type: "arm_end"; cellId: string; fields: Partial<BenchRow>; telemetry?: TelemetryRun }
  | { type: "budget"; cellId: string }
  | { type: "probe"; loadMs: number; points: ProbePoint[] }
  | { type: "ppl"; rows: PerplexityRow[] }
  | { type: "check"; weights: string; error: string | null; startMs?: number };

/**
 * Encodes a message as one stdout line.
 *
 * @param message The message.
 * @returns The line, newline included.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMessage, decodeMessage } from "./protocol.ts";
 * const line = encodeMessage({ type: "start", cellId: "c" });
 * assert(decodeMessage(line.trim())?.type === "start");
 * ```
 */
export function encodeMessage(message: WorkerMessage): string {
  return `${MESSAGE_PREFIX}${JSON.stringify(message)}\n`;
}

/**
 * Decodes a stdout line; `null` for a line that is not a protocol message.
 *
 * @param line One line without its newline.
 * @returns The message or null.
 */
export function decodeMessage(line: string): WorkerMessage | null {
  if (!line.startsWith(MESSAGE_PREFIX)) return null;
  try {
    return JSON.parse(line.slice(MESSAGE_PREFIX.length)) as WorkerMessage;
  } catch {
    return null;
  }
}
