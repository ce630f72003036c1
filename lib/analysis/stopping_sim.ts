/**
 * A simulation of the sweep's adaptive stop (optional stopping), the source of the numbers in
 * {@linkcode blockSettled}'s documentation. One arm against its baseline, log-normal round ratios
 * with no true difference (or a true 1.3×), a loop that asks after every round from `min` to
 * `max − 1` whether the interval is settled and stops the first time it is; the verdict is then
 * read at the ordinary 95 % level, as the report reads it. Prints, per noise level, the share of
 * blocks with a faster/slower verdict when stopping early, when always running `max` rounds, and
 * the mean rounds run. Not a test: `deno run lib/analysis/stopping_sim.ts [min] [max] [spend 0|1]`.
 *
 * @module
 */
import { normal, rng } from "./_synthetic.ts";
import { studentTQuantile } from "./student_t.ts";

const quantiles = new Map<string, number>();
function t(k: number, alpha: number): number {
  const key = `${k}:${alpha}`;
  if (!quantiles.has(key)) quantiles.set(key, studentTQuantile(1 - alpha / 2, k - 1));
  return quantiles.get(key)!;
}

function interval(xs: readonly number[], alpha: number): [number, number, number] {
  const k = xs.length;
  const m = xs.reduce((a, b) => a + b, 0) / k;
  const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (k - 1));
  const h = t(k, alpha) * s / Math.sqrt(k);
  return [m, m - h, m + h];
}

const up = Math.log(1.1);
const down = Math.log(0.9);
const settled = (lo: number, hi: number) => lo > up || hi < down || (lo >= down && hi <= up);
const verdict = (xs: readonly number[]) => {
  const [m, lo, hi] = interval(xs, 0.05);
  return (lo > 0 || hi < 0) && Math.abs(Math.exp(m) - 1) >= 0.1;
};

if (import.meta.main) {
  const min = Number(Deno.args[0] ?? 3);
  const max = Number(Deno.args[1] ?? 8);
  const spend = (Deno.args[2] ?? "0") === "1";
  const looks = max - min + 1;
  const u = rng(11);
  const n = 30000;
  for (const truth of [1, 1.3]) {
    for (const sigma of [0.1, 0.3, 0.5, 1]) {
      let early = 0;
      let fixed = 0;
      let rounds = 0;
      for (let i = 0; i < n; i++) {
        const xs = Array.from({ length: max }, () => Math.log(truth) + sigma * normal(u));
        let stop = max;
        for (let k = min; k < max; k++) {
          const [, lo, hi] = interval(xs.slice(0, k), spend ? 0.05 / looks : 0.05);
          if (settled(lo, hi)) {
            stop = k;
            break;
          }
        }
        rounds += stop;
        if (verdict(xs.slice(0, stop))) early++;
        if (verdict(xs)) fixed++;
      }
      const pct = (x: number) => `${(x / n * 100).toFixed(1)} %`;
      console.log(
        `rounds ${min}-${max}${spend ? ", α ÷ looks" : ""}, true ${truth}×, noise ${sigma}: ` +
          `verdict ${pct(early)} stopping early, ${pct(fixed)} at ${max} rounds; ` +
          `mean rounds ${(rounds / n).toFixed(1)}`,
      );
    }
  }
}
