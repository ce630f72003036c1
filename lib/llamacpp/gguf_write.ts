/**
 * A GGUF v3 writer (the file format llama.cpp loads): the header (magic `GGUF`, version 3,
 * tensor and metadata counts), typed metadata key/values, tensor infos, and the tensor data,
 * each tensor aligned to `general.alignment` bytes. Tensor data is streamed chunk by chunk, so a
 * multi-gigabyte model never sits in memory; the file is written beside its destination and
 * renamed into place only when complete.
 *
 * @module
 */

/** GGUF metadata value type codes (`gguf_type` in GGML). */
export const GGUF_VALUE_TYPE = Object.freeze({
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
});

/** GGML tensor type codes this project writes (F32) or reads back (F16, and llama.cpp's Q types). */
export const GGML_TYPE = Object.freeze({ F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 });

/** Alignment of tensor data when the metadata does not say otherwise. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** One typed metadata value. */
export type GgufValue =
  | { type: "uint32"; value: number }
  | { type: "int32"; value: number }
  | { type: "float32"; value: number }
  | { type: "uint64"; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "int32[]"; value: readonly number[] | Int32Array }
  | { type: "float32[]"; value: readonly number[] | Float32Array };

/** One tensor to write: row-major shape (as PyTorch / safetensors) and its float32 values in chunks. */
export interface GgufTensorEntry {
  /** Tensor name (`blk.0.attn_q.weight`). */
  name: string;
  /** Row-major shape; the file stores it reversed (GGML order: fastest dimension first). */
  shape: readonly number[];
  /** The values, row-major, in any number of chunks that add up to the shape. */
  chunks: () => Iterable<Float32Array>;
}

/** What {@linkcode writeGguf} writes. */
export interface GgufContents {
  /** Metadata in file order (`general.alignment` is added when absent). */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  /** Tensors in file order, all written as F32. */
  tensors: readonly GgufTensorEntry[];
  /** Data alignment in bytes (a power of two). @default 32 */
  alignment?: number;
}

/**
 * Writes a GGUF v3 file with F32 tensors, through a temp file renamed into place (a failure
 * leaves no partial file).
 *
 * @param path Destination.
 * @param contents Metadata and tensors.
 * @returns Bytes written.
 * @throws {RangeError} for a non-integer or out-of-range metadata value, a duplicate key or
 * tensor name, a bad alignment, or chunks that do not add up to a tensor's shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeGguf } from "./gguf_write.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".gguf" });
 * const bytes = writeGguf(path, {
 *   metadata: [["general.architecture", { type: "string", value: "llama" }]],
 *   tensors: [{ name: "w", shape: [2, 3], chunks: () => [new Float32Array(6)] }],
 * });
 * assert(bytes === Deno.statSync(path).size && bytes % 32 === 0);
 * ```
 */
export function writeGguf(path: string, contents: GgufContents): number {
  const alignment = contents.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`GGUF alignment must be a power of two, got ${alignment}`);
  }
  const metadata = [...contents.metadata];
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (keys.has(key)) throw new RangeError(`GGUF metadata key '${key}' appears twice`);
    keys.add(key);
  }
  if (!keys.has("general.alignment")) {
    metadata.push(["general.alignment", { type: "uint32", value: alignment }]);
  }
  const names = new Set<string>();
  const header = new ByteSink();
  header.bytes(new TextEncoder().encode("GGUF"));
  header.u32(3);
  header.u64(BigInt(contents.tensors.length));
  header.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, key, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const tensor of contents.tensors) {
    if (names.has(tensor.name)) throw new RangeError(`GGUF tensor '${tensor.name}' appears twice`);
    names.add(tensor.name);
    if (tensor.shape.length < 1 || tensor.shape.length > 4) {
      throw new RangeError(`GGUF tensor '${tensor.name}' has ${tensor.shape.length} dims (1–4)`);
    }
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const d of [...tensor.shape].reverse()) header.u64(BigInt(checkInt(d, tensor.name)));
    header.u32(GGML_TYPE.F32);
    offset = alignUp(offset, alignment);
    offsets.push(offset);
    header.u64(BigInt(offset));
    offset += elements(tensor.shape) * 4;
  }
  const tmp = `${path}.${Deno.pid}.tmp`;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  let written = 0;
  try {
    const head = header.finish();
    written += writeAll(file, head);
    written += writeAll(file, new Uint8Array(alignUp(written, alignment) - written));
    const dataStart = written;
    contents.tensors.forEach((tensor, i) => {
      written += writeAll(file, new Uint8Array(dataStart + offsets[i]! - written));
      const expected = elements(tensor.shape);
      let got = 0;
      for (const chunk of tensor.chunks()) {
        got += chunk.length;
        if (got > expected) break;
        written += writeAll(file, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      if (got !== expected) {
        throw new RangeError(
          `GGUF tensor '${tensor.name}' [${tensor.shape}] needs ${expected} values, its chunks ` +
            `gave ${got > expected ? "more" : got}`,
        );
      }
    });
    written += writeAll(file, new Uint8Array(alignUp(written, alignment) - written));
    file.close();
    Deno.renameSync(tmp, path);
  } catch (error) {
    try {
      file.close();
    } catch {
      // Already closed.
    }
    try {
      Deno.removeSync(tmp);
    } catch {
      // Never created or already gone.
    }
    throw error;
  }
  return written;
}

/** `n` rounded up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`GGUF '${what}': ${value} is not a non-negative integer`);
  }
  return value;
}

function writeValue(sink: ByteSink, key: string, v: GgufValue): void {
  const int = (x: number, min: number, max: number): number => {
    if (!Number.isInteger(x) || x < min || x > max) {
      throw new RangeError(`GGUF metadata '${key}': ${x} is not a ${v.type} value`);
    }
    return x;
  };
  switch (v.type) {
    case "uint32":
      sink.u32(GGUF_VALUE_TYPE.uint32);
      sink.u32(int(v.value, 0, 2 ** 32 - 1));
      return;
    case "int32":
      sink.u32(GGUF_VALUE_TYPE.int32);
      sink.i32(int(v.value, -(2 ** 31), 2 ** 31 - 1));
      return;
    case "float32":
      sink.u32(GGUF_VALUE_TYPE.float32);
      sink.f32(v.value);
      return;
    case "uint64":
      sink.u32(GGUF_VALUE_TYPE.uint64);
      sink.u64(v.value);
      return;
    case "bool":
      sink.u32(GGUF_VALUE_TYPE.bool);
      sink.u8(v.value ? 1 : 0);
      return;
    case "string":
      sink.u32(GGUF_VALUE_TYPE.string);
      sink.string(v.value);
      return;
    case "string[]":
      sink.u32(GGUF_VALUE_TYPE.array);
      sink.u32(GGUF_VALUE_TYPE.string);
      sink.u64(BigInt(v.value.length));
      for (const s of v.value) sink.string(s);
      return;
    case "int32[]":
      sink.u32(GGUF_VALUE_TYPE.array);
      sink.u32(GGUF_VALUE_TYPE.int32);
      sink.u64(BigInt(v.value.length));
      for (const x of v.value) sink.i32(int(x, -(2 ** 31), 2 ** 31 - 1));
      return;
    case "float32[]":
      sink.u32(GGUF_VALUE_TYPE.array);
      sink.u32(GGUF_VALUE_TYPE.float32);
      sink.u64(BigInt(v.value.length));
      for (const x of v.value) sink.f32(x);
      return;
    default: {
      const never: never = v;
      throw new RangeError(`GGUF metadata '${key}': unknown value ${JSON.stringify(never)}`);
    }
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): number {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
  return bytes.length;
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  #buf = new Uint8Array(1 << 16);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  #encoder = new TextEncoder();

  #reserve(n: number): number {
    if (this.#len + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }
  // Reserve first: growing replaces the buffer and its view.
  u8(x: number): void {
    const at = this.#reserve(1);
    this.#view.setUint8(at, x);
  }
  u32(x: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, x, true);
  }
  i32(x: number): void {
    const at = this.#reserve(4);
    this.#view.setInt32(at, x, true);
  }
  f32(x: number): void {
    const at = this.#reserve(4);
    this.#view.setFloat32(at, x, true);
  }
  u64(x: bigint): void {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, x, true);
  }
  bytes(b: Uint8Array): void {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
  }
  string(s: string): void {
    const b = this.#encoder.encode(s);
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
