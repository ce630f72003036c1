/**
 * A streaming safetensors writer: float32 values (or F16 / BF16 rounded from them) written one
 * tensor at a time, chunk by chunk, so a checkpoint never sits whole in memory.
 *
 * @module
 */
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from "./safetensors_dtype.ts";

/** One tensor to write: name, shape and its float32 values in chunks (row-major). */
export interface SafetensorsEntry {
  /** Tensor name. */
  name: string;
  /** Shape. */
  shape: readonly number[];
  /** Produces the values, in order; called once, when the tensor is written. */
  chunks: () => Iterable<Float32Array>;
  /** Element type written (values rounded to nearest even). @default "F32" */
  dtype?: SafetensorsDtype;
}

/**
 * Writes tensors (F32, or F16 / BF16 rounded from float32) to a safetensors file without holding
 * more than one chunk in memory.
 *
 * @param path Output file.
 * @param entries Tensors, in file order.
 * @param metadata String metadata (`__metadata__`). @default { format: "pt" }
 * @returns Bytes written.
 * @throws {RangeError} when a tensor's chunks do not add up to its shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensors } from "./safetensors.ts";
 * import { writeSafetensors } from "./safetensors_write.ts";
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
    const dtype = e.dtype ?? "F32";
    const bytes = e.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[dtype];
    header[e.name] = { dtype, shape: [...e.shape], data_offsets: [offset, offset + bytes] };
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
        write(encodeFromFloat32(chunk, e.dtype ?? "F32"));
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

function encodeFromFloat32(chunk: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  switch (dtype) {
    case "F32":
      return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    case "F16": {
      const half = new Float16Array(chunk);
      return new Uint8Array(half.buffer);
    }
    case "BF16": {
      const bits = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length);
      const out = new Uint16Array(chunk.length);
      for (let i = 0; i < bits.length; i++) {
        const b = bits[i]!;
        const nan = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;
        out[i] = nan ? (b >>> 16) | 0x40 : (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
      }
      return new Uint8Array(out.buffer);
    }
    default: {
      const never: never = dtype;
      throw new TypeError(`writeSafetensors: unknown dtype '${never}'`);
    }
  }
}
