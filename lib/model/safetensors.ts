/**
 * safetensors files (the streaming writer is in `safetensors_write.ts`, re-exported): a header
 * reader that validates every entry against the file (dtype, shape, offsets, size), sharded
 * checkpoints (`model.safetensors.index.json`), and bounded-memory readers that turn F32, F16 or
 * BF16 tensors into float32 rows or transposed chunks.
 *
 * @module
 */
import { join } from "node:path";

import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from "./safetensors_dtype.ts";

export { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from "./safetensors_dtype.ts";
export { type SafetensorsEntry, writeSafetensors } from "./safetensors_write.ts";

/** Where one tensor lies: its file, element type, shape and absolute byte range. */
export interface SafetensorsTensorInfo {
  /** Tensor name. */
  name: string;
  /** The file that holds it. */
  file: string;
  /** Element type. */
  dtype: SafetensorsDtype;
  /** Shape. */
  shape: number[];
  /** Absolute offset of the first byte in `file`. */
  begin: number;
  /** Absolute offset past the last byte in `file`. */
  end: number;
}

/** Largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Reads and validates the header of a safetensors file without reading its data: every entry
 * must have a known dtype, a shape whose size matches its byte range, and lie inside the file.
 *
 * @param path The file.
 * @returns Tensor infos by name (in header order).
 * @throws {Deno.errors.NotFound} for a missing file; {@linkcode SyntaxError} for a malformed or
 * truncated file (naming the file, the tensor and the byte counts); {@linkcode TypeError} for an
 * element type other than F32, F16, BF16 (naming the tensor and the type).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsHeader, writeSafetensors } from "./safetensors.ts";
 * const path = Deno.makeTempFileSync();
 * writeSafetensors(path, [{ name: "w", shape: [2, 2], chunks: () => [new Float32Array(4)] }]);
 * const info = readSafetensorsHeader(path).get("w")!;
 * assert(info.dtype === "F32" && info.end - info.begin === 16);
 * ```
 */
export function readSafetensorsHeader(path: string): Map<string, SafetensorsTensorInfo> {
  let size: number;
  try {
    size = Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`safetensors file '${path}' does not exist`);
    }
    throw error;
  }
  const bad = (why: string): never => {
    throw new SyntaxError(`'${path}' is not a valid safetensors file: ${why}`);
  };
  if (size < 8) bad(`${size} bytes, too short for the header length`);
  const file = Deno.openSync(path);
  let header: unknown;
  let base: number;
  try {
    const prefix = readExactly(file, 0, 8);
    const headerLength = Number(new DataView(prefix.buffer).getBigUint64(0, true));
    if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
      bad(`header length ${headerLength} does not fit the file's ${size} bytes`);
    }
    base = 8 + headerLength;
    try {
      header = JSON.parse(new TextDecoder().decode(readExactly(file, 8, headerLength)));
    } catch (error) {
      bad(`header is not JSON (${(error as Error).message})`);
    }
  } finally {
    file.close();
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    bad("header is not a JSON object");
  }
  const out = new Map<string, SafetensorsTensorInfo>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = entry?.shape;
    const offsets = entry?.data_offsets;
    if (
      !Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      bad(`tensor '${name}' has no valid shape / data_offsets`);
    }
    const dtype = String(entry.dtype);
    if (!Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
      throw new TypeError(
        `'${path}': tensor '${name}' has dtype '${dtype}' (supported: ${
          Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")
        })`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = elements * SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end - begin !== expected) {
      bad(`tensor '${name}' [${shape}] ${dtype} spans ${end - begin} bytes, expected ${expected}`);
    }
    if (base! + end > size) {
      bad(`truncated: tensor '${name}' ends at byte ${base! + end}, the file has ${size}`);
    }
    out.set(name, {
      name,
      file: path,
      dtype: dtype as SafetensorsDtype,
      shape: shape as number[],
      begin: base! + begin,
      end: base! + end,
    });
  }
  return out;
}

/**
 * The tensors of a checkpoint directory: `model.safetensors`, or the shards that
 * `model.safetensors.index.json`'s `weight_map` names (every listed tensor must be in its shard).
 *
 * @param dir A Hugging Face checkpoint directory.
 * @returns Tensor infos by name, across files.
 * @throws {Deno.errors.NotFound} when neither file exists or a shard is missing;
 * {@linkcode SyntaxError} for a malformed index or a tensor missing from its shard.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointTensors, writeSafetensors } from "./safetensors.ts";
 * const dir = Deno.makeTempDirSync();
 * writeSafetensors(`${dir}/model.safetensors`, [{ name: "b", shape: [1], chunks: () => [Float32Array.of(1)] }]);
 * assert(checkpointTensors(dir).has("b"));
 * ```
 */
export function checkpointTensors(dir: string): Map<string, SafetensorsTensorInfo> {
  const single = join(dir, "model.safetensors");
  const indexPath = join(dir, "model.safetensors.index.json");
  if (isFile(single)) return readSafetensorsHeader(single);
  if (!isFile(indexPath)) {
    throw new Deno.errors.NotFound(
      `checkpoint '${dir}' has neither model.safetensors nor model.safetensors.index.json`,
    );
  }
  let weightMap: Record<string, unknown>;
  try {
    const index = JSON.parse(Deno.readTextFileSync(indexPath));
    weightMap = index?.weight_map;
    if (weightMap === null || typeof weightMap !== "object") throw new Error("no 'weight_map'");
  } catch (error) {
    throw new SyntaxError(`'${indexPath}' is not a valid index: ${(error as Error).message}`);
  }
  const shards = new Map<string, Map<string, SafetensorsTensorInfo>>();
  const out = new Map<string, SafetensorsTensorInfo>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
      throw new SyntaxError(`'${indexPath}': weight_map['${name}'] is not a file name`);
    }
    let header = shards.get(shard);
    if (!header) {
      header = readSafetensorsHeader(join(dir, shard));
      shards.set(shard, header);
    }
    const info = header.get(name);
    if (!info) {
      throw new SyntaxError(`'${indexPath}' puts '${name}' in '${shard}', which does not hold it`);
    }
    out.set(name, info);
  }
  return out;
}

/**
 * Reads rows `[rowStart, rowEnd)` of a tensor (its first dimension; a 1-D tensor is one row per
 * element) as float32, reading only those bytes.
 *
 * @param info The tensor.
 * @param rowStart First row. @default 0
 * @param rowEnd Past the last row. @default all rows
 * @returns The values, row-major.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsHeader, readTensorRows, writeSafetensors } from "./safetensors.ts";
 * const path = Deno.makeTempFileSync();
 * writeSafetensors(path, [{ name: "w", shape: [3, 2], chunks: () => [Float32Array.of(1, 2, 3, 4, 5, 6)] }]);
 * assert(readTensorRows(readSafetensorsHeader(path).get("w")!, 1, 2).join() === "3,4");
 * ```
 */
export function readTensorRows(
  info: SafetensorsTensorInfo,
  rowStart = 0,
  rowEnd: number = info.shape[0] ?? 1,
): Float32Array {
  const rowElements = info.shape.length <= 1 ? 1 : info.shape.slice(1).reduce((a, b) => a * b, 1);
  const width = SAFETENSORS_DTYPE_BYTES[info.dtype];
  const count = (rowEnd - rowStart) * rowElements;
  const file = Deno.openSync(info.file);
  try {
    const bytes = readExactly(file, info.begin + rowStart * rowElements * width, count * width);
    return decodeToFloat32(bytes, info.dtype);
  } finally {
    file.close();
  }
}

/**
 * Converts raw little-endian F32, F16 or BF16 bytes to float32 (exact for all three).
 *
 * @param bytes The raw data.
 * @param dtype Its element type.
 * @returns A new Float32Array.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeToFloat32 } from "./safetensors.ts";
 * assert(decodeToFloat32(Uint8Array.of(0x80, 0x3f), "BF16")[0] === 1);
 * assert(decodeToFloat32(Uint8Array.of(0x00, 0x3c), "F16")[0] === 1);
 * ```
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  switch (dtype) {
    case "F32": {
      const out = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    case "BF16": {
      const n = bytes.byteLength / 2;
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16;
      return new Float32Array(bits.buffer);
    }
    case "F16": {
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
      return out;
    }
    default: {
      const never: never = dtype;
      throw new TypeError(`decodeToFloat32: unknown dtype '${never}'`);
    }
  }
}

/** Float32 values per chunk of {@linkcode tensorChunks} and the transposed pass budget. */
export const READ_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * Yields a tensor's values as float32 in chunks, in its own row-major layout or (2-D only)
 * transposed to `[cols, rows]` — the ONNX MatMul layout of a torch `[out, in]` weight. Memory
 * stays bounded by `budgetBytes` plus one read band, whatever the tensor's size: a transposed
 * tensor larger than the budget is produced in several passes over its rows.
 *
 * @param info The tensor.
 * @param options `transposed`; `budgetBytes` of float32 output per pass. @default 64 MiB
 * @returns Float32 chunks, in order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSafetensorsHeader, tensorChunks, writeSafetensors } from "./safetensors.ts";
 * const path = Deno.makeTempFileSync();
 * writeSafetensors(path, [{ name: "w", shape: [2, 3], chunks: () => [Float32Array.of(1, 2, 3, 4, 5, 6)] }]);
 * const info = readSafetensorsHeader(path).get("w")!;
 * const chunks = [...tensorChunks(info, { transposed: true, budgetBytes: 8 })];
 * assert(chunks.flatMap((c) => [...c]).join() === "1,4,2,5,3,6");
 * ```
 */
export function* tensorChunks(
  info: SafetensorsTensorInfo,
  options: { transposed?: boolean; budgetBytes?: number } = {},
): Generator<Float32Array> {
  const budget = Math.max(4, options.budgetBytes ?? READ_CHUNK_BYTES);
  const rows = info.shape[0] ?? 1;
  const cols = info.shape.length <= 1 ? 1 : info.shape.slice(1).reduce((a, b) => a * b, 1);
  const bandRows = Math.max(1, Math.floor(READ_CHUNK_BYTES / (cols * 4)));
  if (!options.transposed || info.shape.length !== 2) {
    const step = Math.max(1, Math.floor(budget / (cols * 4)));
    for (let r = 0; r < rows; r += step) yield readTensorRows(info, r, Math.min(rows, r + step));
    return;
  }
  const colsPerPass = Math.max(1, Math.floor(budget / (rows * 4)));
  for (let c0 = 0; c0 < cols; c0 += colsPerPass) {
    const c1 = Math.min(cols, c0 + colsPerPass);
    const out = new Float32Array((c1 - c0) * rows);
    for (let r0 = 0; r0 < rows; r0 += bandRows) {
      const r1 = Math.min(rows, r0 + bandRows);
      const band = readTensorRows(info, r0, r1);
      for (let r = r0; r < r1; r++) {
        const base = (r - r0) * cols;
        for (let c = c0; c < c1; c++) out[(c - c0) * rows + r] = band[base + c]!;
      }
    }
    yield out;
  }
}

/** A tensor read from a safetensors file. */
export interface SafetensorsTensor {
  /** Shape. */
  shape: number[];
  /** Values as float32 (F16 and BF16 converted exactly). */
  data: Float32Array;
}

/**
 * Reads every tensor of a safetensors file into memory as float32 (small models only).
 *
 * @param path The file.
 * @returns Tensors by name.
 * @throws {SyntaxError} on a malformed or truncated file; {@linkcode TypeError} on an element
 * type other than F32, F16, BF16.
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
  const out = new Map<string, SafetensorsTensor>();
  for (const [name, info] of readSafetensorsHeader(path)) {
    out.set(name, { shape: info.shape, data: readTensorRows(info) });
  }
  return out;
}

function readExactly(file: Deno.FsFile, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  file.seekSync(offset, Deno.SeekMode.Start);
  let got = 0;
  while (got < length) {
    const n = file.readSync(out.subarray(got));
    if (n === null || n === 0) {
      throw new SyntaxError(`unexpected end of file at byte ${offset + got} of a safetensors file`);
    }
    got += n;
  }
  return out;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** IEEE half → float (exact). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
