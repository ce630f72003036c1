/**
 * The project's one seeded PRNG (private, never re-exported from lib/mod.ts): mulberry32, a
 * small, fast, well-mixed 32-bit generator. Prompts, the tokenizer corpus and test fixtures use
 * it, so the same seed gives the same text and data everywhere.
 *
 * @module
 */

/**
 * A seeded uniform generator of numbers in [0, 1).
 *
 * @param seed Any integer (taken modulo 2³²).
 * @returns The generator; the same seed gives the same sequence.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "./_rng.ts";
 * const a = mulberry32(42), b = mulberry32(42);
 * assert(a() === b() && a() >= 0 && a() < 1);
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
