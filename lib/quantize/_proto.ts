/**
 * Private protobuf helpers of lib/quantize: number conversion of int64 fields, element sizes,
 * attribute access and construction. Not re-exported.
 *
 * @module
 */
import onnxProto from "onnx-proto";

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX TensorProto.DataType codes used here. */
export const DT = Object.freeze(
  {
    FLOAT: 1,
    UINT8: 2,
    INT8: 3,
    UINT16: 4,
    INT16: 5,
    INT32: 6,
    INT64: 7,
    STRING: 8,
    BOOL: 9,
    FLOAT16: 10,
    DOUBLE: 11,
    UINT32: 12,
    UINT64: 13,
    BFLOAT16: 16,
  } as const,
);

const ELEMENT_BYTES: Readonly<Record<number, number>> = Object.freeze({
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  16: 2,
});

/** A protobuf int64 as protobufjs decodes it (a number or a Long). */
export type Int64 = number | { toNumber(): number } | null | undefined;

/** Converts a decoded int64 field to a number (0 when absent). */
export function num(value: Int64): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}

/** Bytes per element of an ONNX data type, or throws a TypeError naming the tensor. */
export function elementBytes(dataType: number, name: string): number {
  const bytes = ELEMENT_BYTES[dataType];
  if (bytes === undefined) {
    throw new TypeError(`Tensor '${name}' has unsupported data type ${dataType}`);
  }
  return bytes;
}

/** Number of elements of a shape. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** The attribute named `name` of a node, if any. */
export function getAttribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** An INT attribute's value, or `fallback`. */
export function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a ? num(a.i as Int64) : fallback;
}

/** Builds an INT attribute. */
export function intAttr(name: string, value: number): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/** A `Cast` node from `input` to `output` with element type `to` (named after its output). */
export function castNode(input: string, output: string, to: number): NodeProto {
  return {
    opType: "Cast",
    domain: "",
    name: `${output}_Cast`,
    input: [input],
    output: [output],
    attribute: [intAttr("to", to)],
  };
}

/** Builds a TENSOR attribute. */
export function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.TENSOR, t };
}

/** Views any typed array as bytes (no copy). */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Reads little-endian float32 bytes as a Float32Array (copies only when unaligned). */
export function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  return new Float32Array(copyBytes(bytes).buffer);
}

/** Reads little-endian uint16 bytes as a Uint16Array (copies only when unaligned). */
export function asUint16(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }
  return new Uint16Array(copyBytes(bytes).buffer);
}

/**
 * A copy of `bytes` in a fresh buffer. (Not `bytes.slice()`: on a Node `Buffer`, which
 * protobufjs decodes into, `slice` is a view of the shared pool.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Element type of a value info, or undefined. */
export function valueInfoElemType(info: ValueInfoProto): number | undefined {
  return info.type?.tensorType?.elemType ?? undefined;
}

/** Sets the element type of a tensor value info (no-op for non-tensor types). */
export function setValueInfoElemType(info: ValueInfoProto, elemType: number): void {
  if (info.type?.tensorType) info.type.tensorType.elemType = elemType;
}
