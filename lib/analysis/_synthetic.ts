/**
 * Synthetic results rows for the analysis tests: a seeded machine whose speed follows a clock
 * (drift) and per-repetition noise. Private to lib/analysis tests.
 *
 * @module
 */
import type { AnalysisRow } from "./block.ts";

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller). */
export function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** One repetition: `tokens` decoded at `rate` tokens/s. */
export function rep(
  fields: Partial<AnalysisRow> & { dtype: string; rate: number },
  tokens = 100,
): AnalysisRow {
  const { rate, ...rest } = fields;
  return {
    model: "m",
    device: "cpu",
    use_cache: true,
    context_tokens: 512,
    batch: 1,
    family: "code",
    status: "ok",
    new_tokens: tokens + 1,
    decode_ms: tokens / rate * 1000,
    ...rest,
  };
}
