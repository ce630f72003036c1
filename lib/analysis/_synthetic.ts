/**
 * Synthetic results rows for the analysis tests: a seeded machine whose speed follows a clock
 * (drift) and per-repetition noise. Private to lib/analysis tests.
 *
 * @module
 */
import type { AnalysisRow } from "./block.ts";
import { mulberry32 } from "../_rng.ts";

/** A seeded uniform generator in [0, 1) (mulberry32, the project's one). */
export const rng: (seed: number) => () => number = mulberry32;

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
