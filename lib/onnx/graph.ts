/**
 * A small typed builder for ONNX graphs on top of onnx-proto (protobufjs), so no protobuf is
 * hand-encoded. Initializers can live inline or in an external-data file next to the model, either
 * collected at encode time or streamed to disk as they are made (`ExternalDataWriter` in external_data.ts).
 *
 * @module
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;

/** ONNX element types this project writes, by ORT tensor type name. */
export const ELEM_TYPE: Readonly<{
  float32: 1;
  uint8: 2;
  int8: 3;
  int32: 6;
  int64: 7;
  float16: 10;
  bfloat16: 16;
}> = Object.freeze(
  {
    float32: 1,
    uint8: 2,
    int8: 3,
    int32: 6,
    int64: 7,
    float16: 10,
    bfloat16: 16,
  } as const,
);

/** A key of {@linkcode ELEM_TYPE}. */
export type ElemType = keyof typeof ELEM_TYPE;

/** A dimension: a fixed size or a symbolic name (`"batch"`, `"past_sequence_length"`). */
export type Dim = number | string;

/** An attribute value; numbers are ints unless wrapped with {@linkcode float}. */
export type AttributeValue = number | string | number[] | { float: number } | {
  floats: number[];
};

/**
 * Marks a number as a float attribute.
 *
 * @param value The value.
 * @returns An attribute value written as `f`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float } from "./graph.ts";
 * assert(float(1e-5).float === 1e-5);
 * ```
 */
export function float(value: number): { float: number } {
  return { float: value };
}

/** Where an initializer's bytes lie in an external-data file (ONNX `external_data` entries). */
export interface ExternalDataRef {
  /** File name relative to the model, e.g. `model.onnx_data`. */
  location: string;
  /** Byte offset in that file. */
  offset: number;
  /** Byte length. */
  length: number;
}

interface Initializer {
  name: string;
  type: ElemType;
  dims: number[];
  bytes?: Uint8Array;
  external?: ExternalDataRef;
}

/** Options of {@linkcode GraphBuilder.toModelBytes}. */
export interface EncodeOptions {
  /** Opset of the default domain. @default 17 */
  opset?: number;
  /** Extra opset imports, e.g. `{ "com.microsoft": 1 }`. */
  domains?: Record<string, number>;
  /**
   * Name of the external-data file (relative to the model). When set, every initializer larger
   * than `externalThresholdBytes` is stored there; `externalData` receives the bytes in order.
   */
  externalDataName?: string;
  /** Minimum initializer size stored externally. @default 1024 */
  externalThresholdBytes?: number;
}

/**
 * Builds one ONNX graph: inputs, outputs, nodes and initializers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBuilder } from "./graph.ts";
 * const g = new GraphBuilder("add");
 * g.input("x", "float32", ["n"]).output("y", "float32", ["n"]);
 * g.node("Add", ["x", "x"], ["y"]);
 * assert(g.toModelBytes().model.length > 0);
 * ```
 */
export class GraphBuilder {
  readonly #name: string;
  readonly #inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #outputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly #nodes: onnxProto.onnx.INodeProto[] = [];
  readonly #initializers: Initializer[] = [];
  #counter = 0;

  /**
   * Starts an empty graph.
   *
   * @param name Graph name.
   */
  constructor(name: string) {
    this.#name = name;
  }

  /**
   * Declares a graph input.
   *
   * @param name Input name.
   * @param type Element type.
   * @param dims Shape, with symbolic names for dynamic axes.
   * @returns This builder.
   */
  input(name: string, type: ElemType, dims: readonly Dim[]): this {
    this.#inputs.push(valueInfo(name, type, dims));
    return this;
  }

  /**
   * Declares a graph output.
   *
   * @param name Output name.
   * @param type Element type.
   * @param dims Shape, with symbolic names for dynamic axes.
   * @returns This builder.
   */
  output(name: string, type: ElemType, dims: readonly Dim[]): this {
    this.#outputs.push(valueInfo(name, type, dims));
    return this;
  }

  /**
   * Adds an initializer (a constant tensor) from its raw little-endian bytes.
   *
   * @param name Tensor name.
   * @param type Element type.
   * @param dims Shape.
   * @param data Raw bytes or a typed array (viewed as bytes, not copied).
   * @returns The name.
   */
  initializer(
    name: string,
    type: ElemType,
    dims: readonly number[],
    data: ArrayBufferView,
  ): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#initializers.push({ name, type, dims: [...dims], bytes });
    return name;
  }

  /**
   * Adds an initializer whose bytes were already written to an external-data file (see
   * `ExternalDataWriter` in external_data.ts), so large models never hold their weights in memory.
   *
   * @param name Tensor name.
   * @param type Element type.
   * @param dims Shape.
   * @param ref Location, offset and length of the bytes.
   * @returns The name.
   */
  externalInitializer(
    name: string,
    type: ElemType,
    dims: readonly number[],
    ref: ExternalDataRef,
  ): string {
    this.#initializers.push({ name, type, dims: [...dims], external: { ...ref } });
    return name;
  }

  /**
   * Adds a node.
   *
   * @param opType Operator, e.g. `MatMul`.
   * @param inputs Input names (`""` for an omitted optional input).
   * @param outputs Output names; omitted → one fresh name.
   * @param attributes Attributes by name.
   * @param domain Operator domain (`""` or `com.microsoft`). @default ""
   * @returns The output names.
   */
  node(
    opType: string,
    inputs: readonly string[],
    outputs?: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    domain = "",
  ): string[] {
    const outs = outputs ? [...outputs] : [this.fresh(opType)];
    this.#nodes.push({
      opType,
      domain,
      name: `${opType}_${this.#counter++}`,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /**
   * A fresh tensor name with a readable prefix.
   *
   * @param prefix Name prefix.
   * @returns A name not yet used by this builder.
   */
  fresh(prefix: string): string {
    return `/${prefix}_${this.#counter++}`;
  }

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.#nodes.length;
  }

  /**
   * Encodes the model. With `externalDataName`, large initializers are referenced by offset and
   * their bytes returned separately, in file order, for the caller to stream to disk.
   *
   * @param options Opsets and external-data settings.
   * @returns The model bytes and the external-data chunks.
   */
  toModelBytes(options: EncodeOptions = {}): { model: Uint8Array; externalData: Uint8Array[] } {
    const threshold = options.externalThresholdBytes ?? 1024;
    const externalData: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.#initializers.map((init) => {
      const base = { name: init.name, dataType: ELEM_TYPE[init.type], dims: init.dims };
      if (init.external) return externalEntry(base, init.external);
      const bytes = init.bytes ?? new Uint8Array(0);
      if (options.externalDataName && bytes.byteLength >= threshold) {
        const pad = (64 - (offset % 64)) % 64;
        if (pad) externalData.push(new Uint8Array(pad));
        offset += pad;
        externalData.push(bytes);
        const entry = externalEntry(base, {
          location: options.externalDataName,
          offset,
          length: bytes.byteLength,
        });
        offset += bytes.byteLength;
        return entry;
      }
      return { ...base, rawData: bytes };
    });
    const opsetImport = [{ domain: "", version: options.opset ?? 17 }];
    for (const [domain, version] of Object.entries(options.domains ?? {})) {
      opsetImport.push({ domain, version });
    }
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "turbo-inference",
      opsetImport,
      graph: {
        name: this.#name,
        input: this.#inputs,
        output: this.#outputs,
        node: this.#nodes,
        initializer,
      },
    });
    return { model: onnx.ModelProto.encode(model).finish(), externalData };
  }
}

function externalEntry(
  base: { name: string; dataType: number; dims: number[] },
  ref: ExternalDataRef,
): onnxProto.onnx.ITensorProto {
  return {
    ...base,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: "location", value: ref.location },
      { key: "offset", value: String(ref.offset) },
      { key: "length", value: String(ref.length) },
    ],
  };
}

function valueInfo(
  name: string,
  type: ElemType,
  dims: readonly Dim[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[type],
        shape: { dim: dims.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === "string") {
    return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  }
  if (typeof value === "number") return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

/**
 * Writes a model (and its external data, if any) to disk.
 *
 * @param path Model file path; external data goes next to it under the name given at encode time.
 * @param encoded The result of {@linkcode GraphBuilder.toModelBytes}.
 * @param externalDataPath Where the external-data chunks go (required when there are any).
 * @example
 * ```ts ignore
 * import { GraphBuilder, writeModel } from "./graph.ts";
 * const g = new GraphBuilder("g");
 * await writeModel("/tmp/m.onnx", g.toModelBytes());
 * ```
 */
export async function writeModel(
  path: string,
  encoded: { model: Uint8Array; externalData: Uint8Array[] },
  externalDataPath?: string,
): Promise<void> {
  if (encoded.externalData.length > 0) {
    if (!externalDataPath) {
      throw new TypeError("writeModel: the model has external data but no externalDataPath");
    }
    const file = await Deno.open(externalDataPath, { write: true, create: true, truncate: true });
    try {
      for (const chunk of encoded.externalData) {
        let written = 0;
        while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
      }
    } finally {
      file.close();
    }
  }
  await Deno.writeFile(path, encoded.model);
}
