/**
 * A GGUF (v2/v3) header reader: metadata and tensor infos, read without touching tensor data,
 * plus a reader of one F32 tensor's values. Used to check converted files.
 *
 * @module
 */
import { alignUp, GGML_TYPE, GGUF_DEFAULT_ALIGNMENT, GGUF_VALUE_TYPE } from "./gguf_write.ts";

/** A metadata value as read: numbers (uint64/int64 as bigint), booleans, strings, or arrays of them. */
export type GgufReadValue =
  | number
  | bigint
  | boolean
  | string
  | Array<number | bigint | boolean | string>;

/** One tensor info. */
export interface GgufTensorInfo {
  /** Tensor name. */
  name: string;
  /** Dimensions in GGML order (fastest first: the reverse of the row-major shape). */
  dims: number[];
  /** GGML type code (0 = F32). */
  type: number;
  /** Offset of the data relative to the data section. */
  offset: number;
}

/** A parsed GGUF header. */
export interface GgufHeader {
  /** Format version. */
  version: number;
  /** Metadata by key (file order), with the value type code of each. */
  metadata: Map<string, GgufReadValue>;
  /** The GGUF value type of each key (`GGUF_VALUE_TYPE`; arrays: `array`). */
  types: Map<string, number>;
  /** Element type of each array key. */
  arrayTypes: Map<string, number>;
  /** Tensor infos in file order. */
  tensors: GgufTensorInfo[];
  /** Absolute offset of the data section. */
  dataOffset: number;
  /** Data alignment (`general.alignment`, default 32). */
  alignment: number;
}

/**
 * Reads a GGUF file's header (metadata and tensor infos).
 *
 * @param path The file.
 * @returns The header.
 * @throws {SyntaxError} naming the file for a bad magic, an unsupported version or a truncated
 * header.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readGgufHeader } from "./gguf_read.ts";
 * import { writeGguf } from "./gguf_write.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".gguf" });
 * writeGguf(path, {
 *   metadata: [["general.name", { type: "string", value: "x" }]],
 *   tensors: [{ name: "w", shape: [2, 3], chunks: () => [new Float32Array(6)] }],
 * });
 * const header = readGgufHeader(path);
 * assert(header.metadata.get("general.name") === "x" && header.tensors[0]!.dims.join() === "3,2");
 * ```
 */
export function readGgufHeader(path: string): GgufHeader {
  const file = Deno.openSync(path);
  try {
    const r = new FileCursor(file, path);
    const magic = new TextDecoder().decode(r.take(4));
    if (magic !== "GGUF") throw new SyntaxError(`'${path}' is not a GGUF file (magic '${magic}')`);
    const version = r.u32();
    if (version !== 2 && version !== 3) {
      throw new SyntaxError(`'${path}': GGUF version ${version} is not supported (2, 3)`);
    }
    const tensorCount = Number(r.u64());
    const kvCount = Number(r.u64());
    const metadata = new Map<string, GgufReadValue>();
    const types = new Map<string, number>();
    const arrayTypes = new Map<string, number>();
    for (let i = 0; i < kvCount; i++) {
      const key = r.string();
      const type = r.u32();
      types.set(key, type);
      if (type === GGUF_VALUE_TYPE.array) {
        const elementType = r.u32();
        arrayTypes.set(key, elementType);
        const n = Number(r.u64());
        const values: Array<number | bigint | boolean | string> = [];
        for (let j = 0; j < n; j++) values.push(r.scalar(elementType));
        metadata.set(key, values);
      } else {
        metadata.set(key, r.scalar(type));
      }
    }
    const tensors: GgufTensorInfo[] = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = r.string();
      const nDims = r.u32();
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) dims.push(Number(r.u64()));
      const type = r.u32();
      const offset = Number(r.u64());
      tensors.push({ name, dims, type, offset });
    }
    const alignment = Number(metadata.get("general.alignment") ?? GGUF_DEFAULT_ALIGNMENT);
    return {
      version,
      metadata,
      types,
      arrayTypes,
      tensors,
      dataOffset: alignUp(r.position, alignment),
      alignment,
    };
  } finally {
    file.close();
  }
}

/**
 * Reads an F32 tensor's values.
 *
 * @param path The file.
 * @param header Its header ({@linkcode readGgufHeader}).
 * @param name The tensor.
 * @returns The values in storage order (row-major of the reversed GGML dims).
 * @throws {RangeError} for an unknown tensor or one that is not F32.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readGgufHeader, readGgufTensor } from "./gguf_read.ts";
 * import { writeGguf } from "./gguf_write.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".gguf" });
 * writeGguf(path, { metadata: [], tensors: [{ name: "b", shape: [2], chunks: () => [Float32Array.of(1, 2)] }] });
 * assert(readGgufTensor(path, readGgufHeader(path), "b").join() === "1,2");
 * ```
 */
export function readGgufTensor(path: string, header: GgufHeader, name: string): Float32Array {
  const info = header.tensors.find((t) => t.name === name);
  if (!info) throw new RangeError(`'${path}' has no tensor '${name}'`);
  if (info.type !== GGML_TYPE.F32) {
    throw new RangeError(`'${path}': tensor '${name}' has GGML type ${info.type}, not F32`);
  }
  const count = info.dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const bytes = new Uint8Array(out.buffer);
  const file = Deno.openSync(path);
  try {
    file.seekSync(header.dataOffset + info.offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < bytes.length) {
      const n = file.readSync(bytes.subarray(got));
      if (n === null || n === 0) throw new SyntaxError(`'${path}': tensor '${name}' is truncated`);
      got += n;
    }
  } finally {
    file.close();
  }
  return out;
}

/** Sequential little-endian reads from a file, buffered in 1 MiB blocks. */
class FileCursor {
  #file: Deno.FsFile;
  #path: string;
  #buf = new Uint8Array(0);
  #at = 0; // position in #buf
  #base = 0; // file offset of #buf[0]
  #decoder = new TextDecoder();

  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  get position(): number {
    return this.#base + this.#at;
  }

  take(n: number): Uint8Array {
    if (this.#at + n > this.#buf.length) this.#fill(n);
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  #fill(n: number): void {
    const rest = this.#buf.subarray(this.#at);
    const next = new Uint8Array(Math.max(1 << 20, n));
    next.set(rest);
    let len = rest.length;
    while (len < n) {
      const got = this.#file.readSync(next.subarray(len));
      if (got === null || got === 0) {
        throw new SyntaxError(`'${this.#path}' is truncated inside its GGUF header`);
      }
      len += got;
    }
    this.#base += this.#at;
    this.#buf = next.subarray(0, len);
    this.#at = 0;
  }

  #view(n: number): DataView {
    const b = this.take(n);
    return new DataView(b.buffer, b.byteOffset, n);
  }
  u32(): number {
    return this.#view(4).getUint32(0, true);
  }
  u64(): bigint {
    return this.#view(8).getBigUint64(0, true);
  }
  string(): string {
    const n = Number(this.u64());
    if (n > 1 << 30) throw new SyntaxError(`'${this.#path}': string of ${n} bytes in the header`);
    return this.#decoder.decode(this.take(n));
  }
  scalar(type: number): number | bigint | boolean | string {
    switch (type) {
      case GGUF_VALUE_TYPE.uint8:
        return this.#view(1).getUint8(0);
      case GGUF_VALUE_TYPE.int8:
        return this.#view(1).getInt8(0);
      case GGUF_VALUE_TYPE.uint16:
        return this.#view(2).getUint16(0, true);
      case GGUF_VALUE_TYPE.int16:
        return this.#view(2).getInt16(0, true);
      case GGUF_VALUE_TYPE.uint32:
        return this.u32();
      case GGUF_VALUE_TYPE.int32:
        return this.#view(4).getInt32(0, true);
      case GGUF_VALUE_TYPE.float32:
        return this.#view(4).getFloat32(0, true);
      case GGUF_VALUE_TYPE.bool:
        return this.#view(1).getUint8(0) !== 0;
      case GGUF_VALUE_TYPE.string:
        return this.string();
      case GGUF_VALUE_TYPE.uint64:
        return this.u64();
      case GGUF_VALUE_TYPE.int64:
        return this.#view(8).getBigInt64(0, true);
      case GGUF_VALUE_TYPE.float64:
        return this.#view(8).getFloat64(0, true);
      default:
        throw new SyntaxError(`'${this.#path}': unknown GGUF value type ${type}`);
    }
  }
}
