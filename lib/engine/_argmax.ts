/**
 * Greedy token choice on a logits tensor, private to lib/engine.
 *
 * @module
 */
import type * as ort from "onnxruntime-node";
import { halfToFloat } from "../runtime/tensors.ts";

/**
 * Argmax over the vocabulary at the last position of each row of `[batch, seq, vocab]` logits:
 * one strided pass over `batch × vocab` values, nothing copied (float16 read in place; raw
 * `Uint16Array` half bits decoded per element). Ties keep the lowest id, as `torch.argmax`.
 *
 * @param logits A CPU tensor.
 * @param out Where the ids go (length ≥ batch).
 * @returns `out`.
 * @throws {RangeError} when a row has no value above −Infinity (all NaN, as an fp16 overflow
 * gives): a silent id 0 would be benchmarked as if the model worked.
 */
export function argmaxLastPosition(logits: ort.Tensor, out: number[]): number[] {
  const [batch, seq, vocab] = logits.dims as [number, number, number];
  const data = logits.data as unknown as ArrayLike<number>;
  const half = data instanceof Uint16Array;
  for (let b = 0; b < batch; b++) {
    const start = (b * seq + seq - 1) * vocab;
    let best = 0;
    let bestValue = -Infinity;
    if (half) {
      for (let v = 0; v < vocab; v++) {
        const x = halfToFloat(data[start + v]!);
        if (x > bestValue) {
          bestValue = x;
          best = v;
        }
      }
    } else {
      for (let v = 0; v < vocab; v++) {
        const x = data[start + v]!;
        if (x > bestValue) {
          bestValue = x;
          best = v;
        }
      }
    }
    if (!(bestValue > -Infinity)) {
      throw new RangeError(
        `Invalid logits: row ${b} at the last position is all NaN or -Infinity (${vocab} values)`,
      );
    }
    out[b] = best;
  }
  return out;
}
