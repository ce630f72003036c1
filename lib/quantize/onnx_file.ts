/**
 * Reads an ONNX model with onnx-proto: the graph is decoded at once, initializer data is read
 * tensor by tensor on demand, including initializers stored as external data
 * (`model.onnx_data`, by location/offset/length), so a large data file is never loaded whole.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import {
  bytesOf,
  DT,
  elementBytes,
  elementCount,
  type GraphProto,
  type Int64,
  type ModelProto,
  num,
  onnx,
  type TensorProto,
} from "./_proto.ts";
import type { LazyTensor } from "./lazy_tensor.ts";

/**
 * An opened ONNX model: its decoded graph and lazy access to its initializers.
 *
 * @example
 * ```ts ignore
 * import { OnnxFile } from "./onnx_file.ts";
 * const file = await OnnxFile.open("model/onnx/model.onnx");
 * try {
 *   console.log(file.initializers().length);
 * } finally {
 *   file.close();
 * }
 * ```
 */
export class OnnxFile {
  /** Absolute path of the `.onnx` file. */
  readonly path: string;
  /** The decoded model; its initializers still reference the original data. */
  readonly model: ModelProto;
  readonly #handles = new Map<string, Deno.FsFile>();

  private constructor(path: string, model: ModelProto) {
    this.path = path;
    this.model = model;
  }

  /**
   * Opens and decodes a model file.
   *
   * @param path Path of an `.onnx` file.
   * @returns The opened file; call {@linkcode OnnxFile.close} when done.
   * @throws {Deno.errors.NotFound} naming the file when it is missing; `SyntaxError` naming the
   * file when it is not a decodable ONNX model.
   */
  static async open(path: string): Promise<OnnxFile> {
    const absolute = resolve(path);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(absolute);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Deno.errors.NotFound(`ONNX model '${path}' does not exist`);
      }
      throw error;
    }
    let model: ModelProto;
    try {
      model = onnx.ModelProto.decode(bytes);
    } catch (error) {
      throw new SyntaxError(`'${path}' is not a readable ONNX model: ${String(error)}`);
    }
    if (!model.graph) throw new SyntaxError(`'${path}' is not a readable ONNX model: no graph`);
    return new OnnxFile(absolute, model);
  }

  /** The main graph. */
  get graph(): GraphProto {
    return this.model.graph!;
  }

  /**
   * The main graph's initializers as lazy tensors (data read when loaded).
   *
   * @returns One {@linkcode LazyTensor} per initializer, in file order.
   */
  initializers(): LazyTensor[] {
    return (this.graph.initializer ?? []).map((t) => {
      const name = t.name ?? "";
      const dataType = t.dataType ?? 0;
      const dims = (t.dims ?? []).map((d) => num(d as Int64));
      // Throws a TypeError naming the tensor for types this reader cannot carry (strings, 4-bit).
      const byteLength = elementCount(dims) * elementBytes(dataType, name);
      return { name, dataType, dims, byteLength, load: () => this.tensorBytes(t) };
    });
  }

  /**
   * Reads one tensor's raw little-endian bytes, wherever they are stored (raw_data, typed
   * fields or external data).
   *
   * @param tensor A tensor of this model.
   * @returns The bytes.
   */
  async tensorBytes(tensor: TensorProto): Promise<Uint8Array> {
    if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      return await this.#readExternal(tensor);
    }
    return typedFieldBytes(tensor);
  }

  /** Closes the external-data files opened so far. */
  close(): void {
    for (const file of this.#handles.values()) file.close();
    this.#handles.clear();
  }

  async #readExternal(tensor: TensorProto): Promise<Uint8Array> {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
    const location = entries.get("location");
    if (!location) {
      throw new SyntaxError(
        `Tensor '${tensor.name}' in '${this.path}' is external but has no 'location'`,
      );
    }
    const dataPath = join(dirname(this.path), location);
    const dims = (tensor.dims ?? []).map((d) => num(d as Int64));
    const expected = elementCount(dims) * elementBytes(tensor.dataType ?? 0, tensor.name ?? "");
    const offset = Number(entries.get("offset") ?? 0);
    const length = entries.has("length") ? Number(entries.get("length")) : expected;
    if (length !== expected) {
      throw new RangeError(
        `Tensor '${tensor.name}' in '${this.path}': external 'length' ${length} does not match ` +
          `its shape [${dims}] (${expected} bytes)`,
      );
    }
    let file = this.#handles.get(dataPath);
    if (!file) {
      try {
        file = await Deno.open(dataPath, { read: true });
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw new Deno.errors.NotFound(
            `External data '${location}' of '${basename(this.path)}' does not exist (${dataPath})`,
          );
        }
        throw error;
      }
      this.#handles.set(dataPath, file);
    }
    await file.seek(offset, Deno.SeekMode.Start);
    const out = new Uint8Array(length);
    let read = 0;
    while (read < length) {
      const n = await file.read(out.subarray(read));
      if (n === null) {
        throw new RangeError(
          `External data '${dataPath}' ends before tensor '${tensor.name}' ` +
            `(offset ${offset}, length ${length})`,
        );
      }
      read += n;
    }
    return out;
  }
}

function typedFieldBytes(tensor: TensorProto): Uint8Array {
  if (tensor.rawData && tensor.rawData.byteLength > 0) return tensor.rawData;
  const type = tensor.dataType ?? 0;
  switch (type) {
    case DT.FLOAT:
      return bytesOf(Float32Array.from(tensor.floatData ?? []));
    case DT.DOUBLE:
      return bytesOf(Float64Array.from(tensor.doubleData ?? []));
    case DT.INT64:
      return bytesOf(BigInt64Array.from(tensor.int64Data ?? [], (v) => BigInt(String(v))));
    case DT.UINT64:
      return bytesOf(BigUint64Array.from(tensor.uint64Data ?? [], (v) => BigInt(String(v))));
    case DT.INT32:
      return bytesOf(Int32Array.from(tensor.int32Data ?? []));
    case DT.UINT32:
      return bytesOf(Uint32Array.from((tensor.uint64Data ?? []).map((v) => num(v as Int64))));
    case DT.FLOAT16:
    case DT.BFLOAT16:
    case DT.UINT16:
      return bytesOf(Uint16Array.from(tensor.int32Data ?? []));
    case DT.INT16:
      return bytesOf(Int16Array.from(tensor.int32Data ?? []));
    case DT.UINT8:
    case DT.BOOL:
      return Uint8Array.from(tensor.int32Data ?? []);
    case DT.INT8:
      return bytesOf(Int8Array.from(tensor.int32Data ?? []));
    default:
      throw new TypeError(`Tensor '${tensor.name}' has unsupported data type ${type}`);
  }
}
