/**
 * safetensors files: a streaming float32 writer (one tensor at a time, chunk by chunk) and a
 * reader for the reference forward and tests.
 *
 * @module
 */

/** One tensor to write: name, shape and its float32 values in chunks (row-major). */
export interface SafetensorsEntry {
  /** Tensor name. */
  name: string;
  /** Shape. */
  shape: readonly number[];
  /** Produces the values, in order; called once, when the tensor is written. */
  chunks: () => Iterable<Float32Array>;
}

/**
 * Writes float32 tensors to a safetensors file without holding more than one chunk in memory.
 *
 * @param path Output file.
 * @param entries Tensors, in file order.
 * @param metadata String metadata (`__metadata__`). @default { format: "pt" }
 * @returns Bytes written.
 * @throws {RangeError} when a tensor's chunks do not add up to its shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".safetensors" });
 * writeSafetensors(path, [{ name: "w", shape: [2], chunks: () => [Float32Array.of(1, 2)] }]);
 * assert(readSafetensors(path).get("w")!.data[1] === 2);
 * ```
 */
export function writeSafetensors(
  path: string,
  entries: readonly SafetensorsEntry[],
  metadata: Record<string, string> = { format: "pt" },
): number {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of entries) {
    const bytes = e.shape.reduce((a, b) => a * b, 1) * 4;
    header[e.name] = { dtype: "F32", shape: [...e.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  let total = 0;
  const write = (bytes: Uint8Array) => {
    let written = 0;
    while (written < bytes.byteLength) written += file.writeSync(bytes.subarray(written));
    total += bytes.byteLength;
  };
  try {
    write(prefix);
    write(headerBytes);
    for (const e of entries) {
      const expected = e.shape.reduce((a, b) => a * b, 1);
      let count = 0;
      for (const chunk of e.chunks()) {
        count += chunk.length;
        write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      if (count !== expected) {
        throw new RangeError(
          `writeSafetensors: tensor '${e.name}' of shape [${e.shape}] got ${count} values, ` +
            `expected ${expected}`,
        );
      }
    }
    file.syncSync();
  } finally {
    file.close();
  }
  return total;
}

/** A tensor read from a safetensors file. */
export interface SafetensorsTensor {
  /** Shape. */
  shape: number[];
  /** Values (float32 files only). */
  data: Float32Array;
}

/**
 * Reads every tensor of a float32 safetensors file into memory (small models only).
 *
 * @param path The file.
 * @returns Tensors by name.
 * @throws {SyntaxError} on a malformed header; {@linkcode TypeError} on a non-F32 tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors, writeSafetensors } from "./safetensors.ts";
 * const path = Deno.makeTempFileSync();
 * writeSafetensors(path, [{ name: "b", shape: [1, 1], chunks: () => [Float32Array.of(3)] }]);
 * assert(readSafetensors(path).get("b")!.shape.join() === "1,1");
 * ```
 */
export function readSafetensors(path: string): Map<string, SafetensorsTensor> {
  const bytes = Deno.readFileSync(path);
  if (bytes.byteLength < 8) {
    throw new SyntaxError(`'${path}' is not a safetensors file (too short)`);
  }
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new SyntaxError(`'${path}' is not a safetensors file (header length ${headerLength})`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const base = 8 + headerLength;
  const out = new Map<string, SafetensorsTensor>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = info as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    if (dtype !== "F32") {
      throw new TypeError(`readSafetensors: tensor '${name}' has dtype '${dtype}', expected F32`);
    }
    const slice = bytes.slice(base + begin, base + end);
    out.set(name, { shape, data: new Float32Array(slice.buffer, 0, (end - begin) / 4) });
  }
  return out;
}
