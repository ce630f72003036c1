/**
 * Float16 under Deno. Deno exposes `Float16Array`, so onnxruntime-common stores float16 tensor
 * data as `Float16Array`; onnxruntime-node's N-API binding does not recognise that typed-array
 * kind under Deno and reads it as empty ("not enough space: expected N, got 0"). Node is fine.
 *
 * The fix is one patch of `InferenceSession.prototype.run` (the class every session is an
 * instance of, ours and transformers.js's alike): before the call, each CPU float16 feed whose data
 * is a `Float16Array` is replaced by a view of the same tensor whose data is a `Uint16Array` over
 * the same bytes. Nothing is copied. Outputs need no fix: the binding returns them as
 * `Float16Array`, which JS reads normally, and feeding them back goes through the same patch.
 *
 * @module
 */
import * as ort from "onnxruntime-node";

const PATCHED = Symbol.for("turbo-inference.float16-fix");

/**
 * Returns a tensor the N-API binding can read: the same tensor when no fix is needed, or a view
 * with `Uint16Array` data over the same bytes when a CPU float16 tensor holds a `Float16Array`.
 *
 * @param tensor Any ORT tensor.
 * @returns A tensor safe to pass to onnxruntime-node under Deno.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { bindingSafeTensor } from "./float16.ts";
 * const t = new ort.Tensor("float16", new Uint16Array([0x3c00]), [1]);
 * assert(bindingSafeTensor(t).data instanceof Uint16Array);
 * ```
 */
export function bindingSafeTensor(tensor: ort.Tensor): ort.Tensor {
  if (tensor.type !== "float16" || tensor.location !== "cpu") return tensor;
  const data = tensor.data as unknown as ArrayBufferView & { length: number };
  if (data instanceof Uint16Array) return tensor;
  const view = new Uint16Array(data.buffer, data.byteOffset, data.length);
  return Object.create(tensor, { data: { value: view, enumerable: true } }) as ort.Tensor;
}

/**
 * Installs the float16 fix on `ort.InferenceSession.prototype.run`; idempotent, and a no-op where
 * `Float16Array` does not exist (Node < 24, browsers without it).
 *
 * @returns `true` when the patch is (now or already) installed.
 * @example
 * ```ts
 * import { installFloat16Fix } from "./float16.ts";
 * installFloat16Fix();
 * ```
 */
export function installFloat16Fix(): boolean {
  if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === "undefined") return false;
  const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as unknown as
    & Record<PropertyKey, unknown>
    & {
      run: (...args: unknown[]) => Promise<unknown>;
    };
  if (proto[PATCHED]) return true;
  const original = proto.run;
  proto.run = function (this: unknown, feeds: unknown, ...rest: unknown[]) {
    return original.call(this, fixFeeds(feeds), ...rest);
  };
  proto[PATCHED] = true;
  return true;
}

function fixFeeds(feeds: unknown): unknown {
  if (feeds === null || typeof feeds !== "object") return feeds;
  const record = feeds as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(record)) {
    if (!(value instanceof ort.Tensor)) continue;
    const safe = bindingSafeTensor(value);
    if (safe !== value) {
      out ??= { ...record };
      out[name] = safe;
    }
  }
  return out ?? feeds;
}

installFloat16Fix();
