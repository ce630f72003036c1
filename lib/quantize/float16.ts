/**
 * float32 → float16 conversion of weights, clamped to the finite float16 range as
 * onnxconverter-common does (so a large finite weight never becomes infinite).
 *
 * @module
 */

/** Largest finite float16 value. */
export const FLOAT16_MAX = 65504;

type Float16ArrayCtor = new (length: number) => ArrayLike<number> & {
  [index: number]: number;
  buffer: ArrayBufferLike;
  byteOffset: number;
  length: number;
};

/**
 * Converts float32 values to IEEE-754 half-precision bits (round to nearest even); finite values
 * beyond ±65504 are clamped to ±65504, infinities and NaN are kept.
 *
 * @param values The float32 values.
 * @returns The float16 bit patterns.
 * @throws {TypeError} where the runtime has no `Float16Array` (Deno ≥ 2 and Node ≥ 24 have it).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFloat16Bits } from "./float16.ts";
 * const bits = toFloat16Bits(new Float32Array([1, -2, 1e6]));
 * assert(bits[0] === 0x3c00 && bits[1] === 0xc000 && bits[2] === 0x7bff);
 * ```
 */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const F16 = (globalThis as { Float16Array?: Float16ArrayCtor }).Float16Array;
  if (!F16) throw new TypeError("toFloat16Bits: this runtime has no Float16Array");
  const out = new F16(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > FLOAT16_MAX && v !== Infinity
      ? FLOAT16_MAX
      : v < -FLOAT16_MAX && v !== -Infinity
      ? -FLOAT16_MAX
      : v;
  }
  return new Uint16Array(out.buffer, out.byteOffset, out.length);
}

/**
 * Rounds float32 values to the nearest float16 value, returned as float32 (what a float16
 * tensor holding them would read back as).
 *
 * @param values The values.
 * @returns The rounded values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundToFloat16 } from "./float16.ts";
 * assert(roundToFloat16(new Float32Array([0.1]))[0] === 0.0999755859375);
 * ```
 */
export function roundToFloat16(values: ArrayLike<number>): Float32Array {
  const F16 = (globalThis as { Float16Array?: Float16ArrayCtor }).Float16Array;
  if (!F16) throw new TypeError("roundToFloat16: this runtime has no Float16Array");
  const bits = toFloat16Bits(values);
  const view =
    new (F16 as unknown as new (b: ArrayBufferLike, o: number, l: number) => ArrayLike<number>)(
      bits.buffer,
      bits.byteOffset,
      bits.length,
    );
  return Float32Array.from(view);
}
