/**
 * Which NVML device a CUDA device id means. CUDA numbers only the GPUs `CUDA_VISIBLE_DEVICES`
 * lets a process see, in that list's order; NVML numbers every GPU of the machine in PCI bus
 * order. So `--device-id 0` with `CUDA_VISIBLE_DEVICES=2,3` is NVML's GPU 2, and memory or
 * telemetry read at NVML index 0 would describe the wrong card.
 *
 * @module
 */

/** How a CUDA device id maps to NVML. */
export type NvmlTarget =
  | { kind: "index"; index: number }
  | { kind: "uuid"; uuid: string }
  | { kind: "hidden"; reason: string };

/**
 * Maps a CUDA device id to the NVML device, following `CUDA_VISIBLE_DEVICES` (indices, `GPU-…`
 * UUIDs or `MIG-…` ids; an empty value hides every GPU; entries after an invalid one are ignored,
 * as CUDA does). `CUDA_DEVICE_ORDER` other than `PCI_BUS_ID` may reorder CUDA's own numbering of
 * unlisted GPUs, so with no list the id is taken as NVML's index only under PCI order or when the
 * machine has one GPU — the caller says which.
 *
 * @param deviceId CUDA device id (what `--device-id` gives ORT).
 * @param env `CUDA_VISIBLE_DEVICES` (undefined: unset).
 * @returns NVML index, UUID to look up, or why the device is not visible.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nvmlTarget } from "./gpu_index.ts";
 * assert.deepEqual(nvmlTarget(0, "2,3"), { kind: "index", index: 2 });
 * assert.deepEqual(nvmlTarget(1, "GPU-8f6c,GPU-1a2b"), { kind: "uuid", uuid: "GPU-1a2b" });
 * assert.deepEqual(nvmlTarget(0, undefined), { kind: "index", index: 0 });
 * assert(nvmlTarget(2, "0,1").kind === "hidden");
 * ```
 */
export function nvmlTarget(deviceId: number, env: string | undefined): NvmlTarget {
  if (!Number.isInteger(deviceId) || deviceId < 0) {
    throw new RangeError(`'deviceId' must be a non-negative integer, got ${deviceId}`);
  }
  if (env === undefined) return { kind: "index", index: deviceId };
  const visible: string[] = [];
  for (const raw of env.split(",")) {
    const entry = raw.trim();
    if (/^\d+$/.test(entry) || /^(GPU|MIG)-[0-9a-fA-F-]+/.test(entry)) visible.push(entry);
    else break; // CUDA stops at the first invalid entry
  }
  if (visible.length === 0) {
    return {
      kind: "hidden",
      reason: `CUDA_VISIBLE_DEVICES=${JSON.stringify(env)} hides every GPU`,
    };
  }
  const entry = visible[deviceId];
  if (entry === undefined) {
    return {
      kind: "hidden",
      reason: `device ${deviceId} is not visible: CUDA_VISIBLE_DEVICES=${
        JSON.stringify(env)
      } lists ${visible.length}`,
    };
  }
  return /^\d+$/.test(entry)
    ? { kind: "index", index: Number(entry) }
    : { kind: "uuid", uuid: entry };
}
