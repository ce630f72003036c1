/**
 * Graph inputs with a default inside the graph. ONNX lets a graph input carry a default: an
 * initializer of the same name, which a caller may override by feeding the input. The builder gives
 * `num_logits_to_keep` the default `0` (every position, Hugging Face's meaning), so a plain ONNX
 * Runtime session, Optimum or transformers.js runs the graph without knowing the input.
 *
 * ONNX Runtime's core honours such overrides, but the onnxruntime-node binding does not expose
 * them: it lists only inputs without an initializer and drops a feed of any other name, so the
 * default would always apply. The engine needs to set the input per run (`1` in generation, so the
 * prefill never computes the `[batch, seq, vocab]` head; `0` when scoring), so it loads the graph
 * with those initializers removed ({@linkcode withoutInitializers}): the input is then an ordinary
 * required input of its session. The file itself is never changed.
 *
 * @module
 */

/** Inputs the builder gives a default, with the default's value (int64 scalars). */
export const INPUT_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  num_logits_to_keep: 0,
});

/**
 * An encoded ONNX model without the main graph's initializers named `names`: inputs that had them
 * as defaults become required inputs. Works on the protobuf bytes (the rest of the model is copied
 * unchanged, weights included), so no tensor is decoded.
 *
 * @param model The `.onnx` file's bytes.
 * @param names Initializers to drop.
 * @returns New bytes (the input is not modified); the same bytes when nothing was dropped.
 * @throws {SyntaxError} when the bytes are not a protobuf message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GraphBuilder } from "../onnx/graph.ts";
 * import { withoutInitializers } from "./input_defaults.ts";
 * const g = new GraphBuilder("g");
 * g.input("k", "int64", []);
 * g.initializer("k", "int64", [], BigInt64Array.of(5n));
 * g.output("y", "int64", []);
 * g.node("Identity", ["k"], ["y"]);
 * const bytes = g.toModelBytes({ opset: 17 }).model;
 * assert(withoutInitializers(bytes, ["k"]).length < bytes.length);
 * assert(withoutInitializers(bytes, ["other"]) === bytes);
 * ```
 */
export function withoutInitializers(model: Uint8Array, names: readonly string[]): Uint8Array {
  const wanted = new Set(names);
  const top = fields(model);
  const graphField = top.find((f) => f.field === 7 && f.wire === 2);
  if (!graphField || wanted.size === 0) return model;
  const graph = model.subarray(graphField.valueStart, graphField.end);
  const kept: Uint8Array[] = [];
  let dropped = false;
  for (const f of fields(graph)) {
    if (f.field === 5 && f.wire === 2) {
      const name = tensorName(graph.subarray(f.valueStart, f.end));
      if (name !== null && wanted.has(name)) {
        dropped = true;
        continue;
      }
    }
    kept.push(graph.subarray(f.start, f.end));
  }
  if (!dropped) return model;
  const graphLength = kept.reduce((n, k) => n + k.length, 0);
  const header = [...varint((7 << 3) | 2), ...varint(graphLength)];
  const out = new Uint8Array(
    graphField.start + header.length + graphLength + (model.length - graphField.end),
  );
  out.set(model.subarray(0, graphField.start), 0);
  let at = graphField.start;
  out.set(header, at);
  at += header.length;
  for (const k of kept) {
    out.set(k, at);
    at += k.length;
  }
  out.set(model.subarray(graphField.end), at);
  return out;
}

/** One field of a protobuf message: its number, wire type and byte range. */
interface Field {
  field: number;
  wire: number;
  /** Start of the tag. */
  start: number;
  /** Start of the value (after a length prefix for wire type 2). */
  valueStart: number;
  /** End of the field. */
  end: number;
}

function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const read = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new SyntaxError("not an ONNX model (truncated varint)");
      const b = bytes[at++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const start = at;
    const tag = read();
    const field = Math.floor(tag / 8), wire = tag & 7;
    let valueStart = at;
    if (wire === 0) read();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = read();
      valueStart = at;
      at += length;
    } else throw new SyntaxError(`not an ONNX model (wire type ${wire})`);
    if (at > bytes.length) throw new SyntaxError("not an ONNX model (field past the end)");
    out.push({ field, wire, start, valueStart, end: at });
  }
  return out;
}

/** A TensorProto's `name` (field 8), or null. */
function tensorName(tensor: Uint8Array): string | null {
  for (const f of fields(tensor)) {
    if (f.field === 8 && f.wire === 2) {
      return new TextDecoder().decode(tensor.subarray(f.valueStart, f.end));
    }
  }
  return null;
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

/**
 * The path of a model file with the given input defaults removed, for the engine's session: a
 * sibling `<name>.engine.onnx` (same folder, so external data resolves as for the original),
 * written once (temp file, then rename: concurrent loaders are safe) and rewritten when the
 * original is newer. Loading by path keeps the model's bytes out of JavaScript memory on every
 * later load (sweep cells each load in a fresh process).
 *
 * @param path The `.onnx` file as built.
 * @param names Initializers to drop (see {@linkcode INPUT_DEFAULTS}).
 * @returns The sibling's path, or `path` itself when nothing is dropped.
 * @throws {SyntaxError} naming the file when it is not an ONNX model; what writing the sibling
 * throws (an unwritable folder).
 * @example
 * ```ts ignore
 * import { engineModelPath } from "./input_defaults.ts";
 * const path = await engineModelPath("m/onnx/model_q4.onnx", ["num_logits_to_keep"]);
 * ```
 */
export async function engineModelPath(path: string, names: readonly string[]): Promise<string> {
  if (names.length === 0) return path;
  const target = path.replace(/\.onnx$/, "") + ".engine.onnx";
  const source = await Deno.stat(path);
  const existing = await Deno.stat(target).catch(() => null);
  if (existing && (existing.mtime?.getTime() ?? 0) >= (source.mtime?.getTime() ?? 0)) {
    return target;
  }
  let bytes: Uint8Array;
  try {
    bytes = withoutInitializers(await Deno.readFile(path), names);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    // The same line the session's own load failure gives (lib/runtime/session.ts).
    throw new SyntaxError(
      `Cannot create session: '${path}' is not a readable ONNX model (${error.message})`,
    );
  }
  const temp = `${target}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeFile(temp, bytes);
    await Deno.rename(temp, target);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  return target;
}
