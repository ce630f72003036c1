/**
 * Measured memory bandwidth, the bound a decode step runs against: on a GPU machine the copy
 * kernel of `gpu/bandwidth.py` (PyTorch, device memory), on the CPU a typed-array copy in this
 * process (host memory). Both count a copy of N bytes as 2 N bytes moved.
 *
 * @module
 */

/** One bandwidth measurement. */
export interface Bandwidth {
  /** How it was measured. */
  method: string;
  /** What it measured (GPU name, or `host memory`). */
  device_name: string;
  /** Bytes per second, best sample. */
  bytes_per_s: number;
  /** Every sample, seconds per copy. */
  seconds: number[];
  /** Bytes moved per copy (read + write). */
  bytes_moved: number;
}

/**
 * Host memory bandwidth from copying one large typed array into another (best of `rounds`).
 *
 * @param options Buffer size and rounds.
 * @returns The measurement.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hostCopyBandwidth } from "./bandwidth.ts";
 * const b = hostCopyBandwidth({ bytes: 1 << 20, rounds: 2 });
 * assert(b.bytes_per_s > 0 && b.seconds.length === 2);
 * ```
 */
export function hostCopyBandwidth(
  options: { bytes?: number; rounds?: number } = {},
): Bandwidth {
  const bytes = options.bytes ?? 256 * 1024 * 1024;
  const rounds = options.rounds ?? 8;
  if (!Number.isInteger(bytes) || bytes < 8 || bytes % 8 !== 0) {
    throw new RangeError(`Cannot measure bandwidth: 'bytes' must be a multiple of 8, got ${bytes}`);
  }
  const src = new Float64Array(bytes / 8).fill(1);
  const dst = new Float64Array(bytes / 8);
  dst.set(src); // first touch of every page, untimed
  const seconds: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    dst.set(src);
    seconds.push((performance.now() - t0) / 1000);
  }
  const best = Math.max(Math.min(...seconds), 1e-9);
  return {
    method: `TypedArray.set of ${bytes} bytes in one Deno process, 2 x bytes / time, best of ` +
      `${rounds}`,
    device_name: "host memory",
    bytes_per_s: (2 * bytes) / best,
    seconds,
    bytes_moved: 2 * bytes,
  };
}

/**
 * Parses the JSON line `gpu/bandwidth.py` prints.
 *
 * @param text Its stdout.
 * @returns The measurement.
 * @throws {Error} with the script's own reason when it reported one; `SyntaxError` on other text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBandwidthJson } from "./bandwidth.ts";
 * const b = parseBandwidthJson(
 *   '{"method":"m","device_name":"G","bytes_per_s":2e12,"seconds":[0.001],"bytes_moved":2e9}',
 * );
 * assert.equal(b.bytes_per_s, 2e12);
 * assert.throws(() => parseBandwidthJson('{"error":"no PyTorch"}'), /no PyTorch/);
 * ```
 */
export function parseBandwidthJson(text: string): Bandwidth {
  const line = text.trim().split("\n").pop() ?? "";
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line);
  } catch {
    throw new SyntaxError(`bandwidth.py printed no JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
  if (typeof value.error === "string") throw new Error(`bandwidth.py: ${value.error}`);
  const bps = value.bytes_per_s;
  if (typeof bps !== "number" || !(bps > 0)) {
    throw new SyntaxError(`bandwidth.py: 'bytes_per_s' must be a positive number, got ${bps}`);
  }
  return {
    method: String(value.method ?? ""),
    device_name: String(value.device_name ?? ""),
    bytes_per_s: bps,
    seconds: Array.isArray(value.seconds) ? value.seconds.map(Number) : [],
    bytes_moved: Number(value.bytes_moved ?? 0),
  };
}
