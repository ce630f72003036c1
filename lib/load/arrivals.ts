/**
 * When each request of a load run is sent: a seeded Poisson process at a request rate, or a gamma
 * process with a burstiness factor (vLLM's `benchmark_serving` convention: gamma inter-arrival
 * times with shape = burstiness and mean 1/rate, so burstiness 1 is Poisson, below 1 burstier,
 * above 1 more regular), or everything at once for a fixed-concurrency run.
 *
 * @module
 */
import { mulberry32 } from "../_rng.ts";

/** Options of {@linkcode arrivalTimes}. */
export interface ArrivalOptions {
  /** Requests per second; `Infinity` sends every request at time 0. */
  rate: number;
  /** Gamma shape of the inter-arrival times (1 = Poisson). @default 1 */
  burstiness?: number;
  /** PRNG seed. @default 42 */
  seed?: number;
}

/** A standard normal draw (Box–Muller) from uniform draws. */
function normal(u: () => number): number {
  let a = u();
  while (a <= Number.EPSILON) a = u();
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u());
}

/**
 * A Gamma(shape, 1) draw by Marsaglia and Tsang's method (shape < 1 boosted by U^(1/shape)).
 *
 * @param shape Shape, > 0.
 * @param u Uniform [0, 1) generator.
 * @returns The draw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gammaSample } from "./arrivals.ts";
 * import { mulberry32 } from "../_rng.ts";
 * const u = mulberry32(1);
 * const xs = Array.from({ length: 20000 }, () => gammaSample(2, u));
 * const mean = xs.reduce((a, b) => a + b) / xs.length;
 * assert(Math.abs(mean - 2) < 0.05); // E[Gamma(k, 1)] = k
 * ```
 */
export function gammaSample(shape: number, u: () => number): number {
  if (shape < 1) {
    let v = u();
    while (v <= Number.EPSILON) v = u();
    return gammaSample(shape + 1, u) * v ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(u);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Send times, seconds from the start, of `n` requests.
 *
 * @param n Number of requests.
 * @param options Rate, burstiness and seed.
 * @returns `n` non-decreasing times; the first request waits one inter-arrival time.
 * @throws {RangeError} naming the field for a non-positive rate or burstiness.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arrivalTimes } from "./arrivals.ts";
 * const t = arrivalTimes(2000, { rate: 10, seed: 7 });
 * assert(Math.abs(t.at(-1)! / 2000 - 0.1) < 0.01); // mean gap 1/rate
 * assert.deepEqual(arrivalTimes(3, { rate: Infinity }), [0, 0, 0]);
 * ```
 */
export function arrivalTimes(n: number, options: ArrivalOptions): number[] {
  const { rate } = options;
  const burstiness = options.burstiness ?? 1;
  if (!(rate > 0)) throw new RangeError(`'request-rate' must be positive, got ${rate}`);
  if (!(burstiness > 0 && Number.isFinite(burstiness))) {
    throw new RangeError(`'burstiness' must be a positive number, got ${burstiness}`);
  }
  if (rate === Infinity) return new Array(n).fill(0);
  const u = mulberry32(options.seed ?? 42);
  const theta = 1 / (rate * burstiness);
  const out: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += gammaSample(burstiness, u) * theta;
    out.push(t);
  }
  return out;
}
