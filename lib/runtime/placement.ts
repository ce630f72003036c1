/**
 * Where ONNX Runtime really ran a session's nodes, read from its profile (`enableProfiling`): each
 * kernel event names the execution provider that ran the node. A session asked for CUDA can still
 * run nodes on the CPU (operators the CUDA EP lacks fall back silently, with Memcpy nodes around
 * them); the profile is the record of what happened, the requested provider is only a wish.
 *
 * @module
 */
import type * as ort from "onnxruntime-node";
import { join } from "node:path";

/** What a profile says about node placement. */
export interface Placement {
  /** Distinct nodes that ran. */
  nodes: number;
  /** Distinct nodes per execution provider, e.g. `{ CPUExecutionProvider: 42 }`. */
  byProvider: Record<string, number>;
  /** Nodes that ran on a provider other than the requested one. */
  offProvider: number;
  /** Names of those nodes (first 20), for the error log. */
  offProviderNodes: string[];
}

interface ProfileEvent {
  cat?: unknown;
  name?: unknown;
  args?: { provider?: unknown; op_name?: unknown };
}

/**
 * Counts, from the text of an ORT profile (a JSON array of trace events), the nodes each provider
 * ran and how many ran on a provider other than `requested`.
 *
 * @param profileJson The profile file's text.
 * @param requested The execution provider asked for, e.g. `CPUExecutionProvider`.
 * @returns The placement.
 * @throws {SyntaxError} when the text is not a profile, or it recorded no node (no run).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { placementFromProfile } from "./placement.ts";
 * const profile = JSON.stringify([
 *   { cat: "Node", name: "MatMul_1_kernel_time", args: { provider: "CUDAExecutionProvider" } },
 *   { cat: "Node", name: "Range_2_kernel_time", args: { provider: "CPUExecutionProvider" } },
 * ]);
 * const p = placementFromProfile(profile, "CUDAExecutionProvider");
 * assert.equal(p.nodes, 2);
 * assert.equal(p.offProvider, 1);
 * assert.deepEqual(p.offProviderNodes, ["Range_2"]);
 * ```
 */
export function placementFromProfile(profileJson: string, requested: string): Placement {
  let events: unknown;
  try {
    events = JSON.parse(profileJson);
  } catch (error) {
    throw new SyntaxError(`ORT profile is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(events)) throw new SyntaxError("ORT profile is not a JSON array of events");
  const providerOf = new Map<string, string>();
  for (const event of events as ProfileEvent[]) {
    if (event?.cat !== "Node" || typeof event.args?.provider !== "string") continue;
    if (typeof event.name !== "string") continue;
    // Each node has *_fence_before, *_kernel_time and *_fence_after events: one node per name.
    const node = event.name.replace(/_(kernel_time|fence_before|fence_after)$/, "");
    providerOf.set(node, event.args.provider);
  }
  if (providerOf.size === 0) {
    throw new SyntaxError("ORT profile records no node: the session ran nothing while profiled");
  }
  const byProvider: Record<string, number> = {};
  const off: string[] = [];
  for (const [node, provider] of providerOf) {
    byProvider[provider] = (byProvider[provider] ?? 0) + 1;
    if (provider !== requested) off.push(node);
  }
  return {
    nodes: providerOf.size,
    byProvider,
    offProvider: off.length,
    offProviderNodes: off.slice(0, 20),
  };
}

/**
 * Ends the profiling of a session created with `enableProfiling` and a `profileFilePrefix` in
 * `dir`, parses the one profile ORT wrote there, and removes `dir`.
 *
 * @param session The profiled session (it must have run at least once).
 * @param dir The directory of its profile file, removed afterwards.
 * @param requested The execution provider asked for.
 * @returns The placement.
 * @throws {Error} when ORT wrote no profile; `SyntaxError` when it recorded no node.
 */
export async function readPlacementProfile(
  session: ort.InferenceSession,
  dir: string,
  requested: string,
): Promise<Placement> {
  try {
    session.endProfiling();
    const files = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".json"));
    if (files.length !== 1) {
      throw new Error(`ORT wrote ${files.length} profile files in ${dir}, expected 1`);
    }
    return placementFromProfile(await Deno.readTextFile(join(dir, files[0]!.name)), requested);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
