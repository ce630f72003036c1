/**
 * What the GPU check runs: the default sweep's questions (every quantisation of one real-shape
 * preset, a short and a long context, KV cache on and off) on one device, sized to fit one
 * device call, and the same plan shrunk to `preset:tiny` on the CPU for the dry run.
 *
 * @module
 */
import type { Device, Dtype } from "../dtypes.ts";

/** `gpu`: the real check on WebGPU. `cpu`: the dry run, tiny sizes, on the CPU. */
export type CheckMode = "gpu" | "cpu";

/** Everything the check does, decided before it starts. */
export interface CheckPlan {
  /** The mode. */
  mode: CheckMode;
  /** Device of the sweep and of the second perplexity run. */
  device: Device;
  /** The real-shape preset the sweep builds and measures. */
  preset: string;
  /** Its dtypes. */
  dtypes: Dtype[];
  /** Prompt lengths, tokens. */
  contexts: number[];
  /** The trained model whose perplexity is compared between the CPU and `device`. */
  pplModel: string;
  /** Tokens of WikiText-2 scored. */
  pplMaxTokens: number;
  /** Perplexity window, tokens. */
  pplWindow: number;
  /** Perplexity stride, tokens. */
  pplStride: number;
  /** Largest relative difference of the two perplexities that passes. */
  pplTolerance: number;
  /** Whole check, seconds from the start of check.sh. */
  deadlineS: number;
}

/** The dtypes the check asks about (the brief's fp16 base, and both 4-bit kinds). */
export const CHECK_DTYPES: readonly Dtype[] = Object.freeze(["fp32", "fp16", "q4", "q4f16"]);

/**
 * The plan of one mode.
 *
 * @param mode `gpu` or `cpu`.
 * @param deadlineS Seconds the whole check may take.
 * @returns The plan.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPlan } from "./plan.ts";
 * assert.equal(checkPlan("gpu", 480).preset, "llama-3.2-1b");
 * assert.equal(checkPlan("cpu", 480).device, "cpu");
 * ```
 */
export function checkPlan(mode: CheckMode, deadlineS: number): CheckPlan {
  if (!Number.isFinite(deadlineS) || deadlineS <= 0) {
    throw new RangeError(
      `Cannot plan the GPU check: 'deadlineS' must be positive, got ${deadlineS}`,
    );
  }
  const common = {
    mode,
    dtypes: [...CHECK_DTYPES],
    pplModel: "models/wikitext-llama",
    pplWindow: 512,
    pplStride: 256,
    pplTolerance: 1e-3,
    deadlineS,
  };
  return mode === "gpu"
    ? {
      ...common,
      device: "webgpu",
      preset: "llama-3.2-1b",
      contexts: [128, 2048],
      pplMaxTokens: 16384,
    }
    : { ...common, device: "cpu", preset: "tiny", contexts: [32, 128], pplMaxTokens: 2048 };
}

/**
 * The sweep spec (sweeps/*.json fields) of a plan: one prompt per length, few runs, a time budget
 * so the sweep stops starting cells before the check's deadline.
 *
 * @param plan The plan.
 * @param timeBudgetS Seconds the sweep may take.
 * @returns The spec, ready for `deno task sweep --config`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPlan, sweepSpec } from "./plan.ts";
 * const spec = sweepSpec(checkPlan("gpu", 480), 300);
 * assert.deepEqual(spec.devices, ["webgpu"]);
 * assert.deepEqual(spec.use_cache, [true, false]);
 * ```
 */
export function sweepSpec(plan: CheckPlan, timeBudgetS: number): Record<string, unknown> {
  const gpu = plan.mode === "gpu";
  return {
    name: `gpu-check-${plan.mode}`,
    description: gpu
      ? `GPU check: the default sweep's questions on ${plan.device}, preset:${plan.preset} ` +
        `(random weights, real shape) built on the machine, ${plan.dtypes.join("/")}, ` +
        `${plan.contexts.join(" and ")} tokens, KV cache on and off (kept in GPU buffers where ` +
        `the binding allows: kv_mode 'device').`
      : `Dry run of the GPU check on the CPU: preset:${plan.preset}, the same steps and outputs.`,
    models: [`preset:${plan.preset}`],
    dtypes: plan.dtypes,
    devices: [plan.device],
    use_cache: [true, false],
    context_lengths: plan.contexts,
    prompts_per_length: 1,
    families: ["conversational"],
    max_new_tokens: gpu ? 32 : 8,
    max_new_tokens_no_cache: gpu ? 4 : 2,
    warmup: gpu ? 2 : 1,
    runs: gpu ? 3 : 2,
    seed: 42,
    batch_sizes: [1],
    threads: 0,
    time_budget_s: Math.max(1, Math.floor(timeBudgetS)),
    cell_timeout_s: gpu ? 180 : 120,
    perplexity: null,
    embeddings: null,
  };
}
