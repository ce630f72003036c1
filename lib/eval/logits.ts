/**
 * Rows of next-token logits and the streaming arithmetic on them: log-sum-exp (max, then the sum
 * of exponentials, both in float64), arg-max, and the KL divergence between two rows. Everything
 * reads the raw `Float32Array` / `Float16Array` data in place; nothing is copied, so a 128k
 * vocabulary costs no more memory than the model output itself.
 *
 * @module
 */

/** Logit storage the arithmetic reads: float32, or float16 as `Float16Array`. */
export type LogitsData = Float32Array | Float16Array;

/**
 * Logits of a batch of windows, `[batch, seq, vocab]` row-major. Float16 data may also arrive as
 * raw half bits in a `Uint16Array` (onnxruntime's convention); it is viewed as `Float16Array`.
 */
export interface Logits {
  /** The elements, `batch × seq × vocab` of them. */
  data: LogitsData | Uint16Array;
  /** `[batch, seq, vocab]`. */
  dims: readonly number[];
}

/**
 * A scorer: the model's logits for a batch of equal-length windows of token ids, each window a
 * fresh sequence (positions from 0, no past).
 */
export type WindowLogits = (windows: number[][]) => Promise<Logits>;

/** What one pass over a row finds. */
export interface RowSummary {
  /** log Σ exp(x), computed as max + log Σ exp(x − max) in float64. */
  logSumExp: number;
  /** Index of the largest logit (the first one on ties). */
  argmax: number;
}

/**
 * Views logits as numbers: `Float32Array` and `Float16Array` as they are, a `Uint16Array` of half
 * bits as a `Float16Array` over the same bytes.
 *
 * @param data The raw logits.
 * @returns A readable view (no copy).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logitsView } from "./logits.ts";
 * assert(logitsView(new Uint16Array([0x3c00]))[0] === 1);
 * ```
 */
export function logitsView(data: LogitsData | Uint16Array): LogitsData {
  if (data instanceof Uint16Array) {
    return new Float16Array(data.buffer, data.byteOffset, data.length);
  }
  if (data instanceof Float32Array || data instanceof Float16Array) return data;
  throw new TypeError(
    `logits must be Float32Array, Float16Array or Uint16Array, got ${
      (data as object)?.constructor?.name ?? typeof data
    }`,
  );
}

/**
 * Log-sum-exp and arg-max of one row of logits, streamed in two passes with float64 sums.
 *
 * @param data The logits.
 * @param offset Index of the row's first element.
 * @param vocab Row length.
 * @returns The row's log-sum-exp and arg-max.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowSummary } from "./logits.ts";
 * const { logSumExp, argmax } = rowSummary(new Float32Array([0, 0, 0, 0]), 0, 4);
 * assert(Math.abs(logSumExp - Math.log(4)) < 1e-12 && argmax === 0);
 * ```
 */
export function rowSummary(data: LogitsData, offset: number, vocab: number): RowSummary {
  let max = -Infinity;
  let argmax = 0;
  const end = offset + vocab;
  for (let i = offset; i < end; i++) {
    const x = data[i]!;
    if (x > max) {
      max = x;
      argmax = i - offset;
    }
  }
  if (!Number.isFinite(max)) {
    throw new RangeError(`logits row at offset ${offset} has no finite maximum (got ${max})`);
  }
  let sum = 0;
  for (let i = offset; i < end; i++) sum += Math.exp(data[i]! - max);
  return { logSumExp: max + Math.log(sum), argmax };
}

/**
 * KL(p ‖ q) in nats between the softmax distributions of two rows of logits, given each row's
 * log-sum-exp: Σ p_i (log p_i − log q_i), streamed in one float64 pass.
 *
 * @param p The reference logits.
 * @param pOffset Index of p's row.
 * @param pLogSumExp log-sum-exp of p's row.
 * @param q The compared logits.
 * @param qOffset Index of q's row.
 * @param qLogSumExp log-sum-exp of q's row.
 * @param vocab Row length.
 * @returns The divergence, ≥ 0 up to rounding.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { klDivergence, rowSummary } from "./logits.ts";
 * const p = new Float32Array([1, 2, 3]);
 * const lse = rowSummary(p, 0, 3).logSumExp;
 * assert(klDivergence(p, 0, lse, p, 0, lse, 3) === 0);
 * ```
 */
export function klDivergence(
  p: LogitsData,
  pOffset: number,
  pLogSumExp: number,
  q: LogitsData,
  qOffset: number,
  qLogSumExp: number,
  vocab: number,
): number {
  let kl = 0;
  for (let i = 0; i < vocab; i++) {
    const logP = p[pOffset + i]! - pLogSumExp;
    const logQ = q[qOffset + i]! - qLogSumExp;
    kl += Math.exp(logP) * (logP - logQ);
  }
  return kl;
}
