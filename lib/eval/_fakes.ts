/**
 * Fake scorers for the tests of lib/eval: logits built by hand from each window's ids and
 * positions. Private to lib/eval.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Logits, WindowLogits } from "./logits.ts";

/** Logits whose row at local position `p` of window `row` is `fill(row, p, out)`. */
export function fakeScorer(
  vocab: number,
  fill: (row: readonly number[], p: number, out: Float32Array) => void,
  calls: number[][][] = [],
): WindowLogits {
  return (windows: number[][]): Promise<Logits> => {
    calls.push(windows.map((w) => [...w]));
    const seq = windows[0]!.length;
    const data = new Float32Array(windows.length * seq * vocab);
    windows.forEach((row, b) => {
      for (let p = 0; p < seq; p++) {
        fill(row, p, data.subarray((b * seq + p) * vocab, (b * seq + p + 1) * vocab));
      }
    });
    return Promise.resolve({ data, dims: [windows.length, seq, vocab] });
  };
}

/** A model that knows nothing: all logits 0. */
export function uniformScorer(vocab: number): WindowLogits {
  return fakeScorer(vocab, () => {});
}

/** The same scorer with its logits re-encoded as float16 (`Uint16Array` half bits when `raw`). */
export function asFloat16(scorer: WindowLogits, raw = false): WindowLogits {
  return async (windows) => {
    const logits = await scorer(windows);
    const half = Float16Array.from(logits.data as Float32Array);
    return {
      data: raw ? new Uint16Array(half.buffer) : half,
      dims: logits.dims,
    };
  };
}

/** Writes a one-column parquet file (for the WikiText loader's tests). */
export function writeParquetColumn(path: string, column: string, values: string[]): void {
  pl.DataFrame({ [column]: values }).writeParquet(path);
}
