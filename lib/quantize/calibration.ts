/**
 * Calibration for GPTQ: text the model itself writes, and the input Hessians `XᵀX` of its
 * MatMuls on that text.
 *
 * **Which text.** GPTQ wants a few thousand tokens from the distribution the model was trained
 * on, never the evaluation text. For the vendored `wikitext-llama` that is the WikiText-2
 * validation split, which is not available offline here, and the test split is the evaluation
 * text. So the calibration set is sampled from the fp32 model itself (temperature 1, seeded,
 * from BOS): by construction it follows the model's own estimate of its training distribution,
 * shares no text with the test split, and needs no data or tokenizer, so any imported checkpoint
 * can be calibrated offline (the data-free approach of LLM-QAT, Liu et al., 2023).
 *
 * **Which Hessians.** A copy of the fp32 graph gets one extra output per distinct MatMul input
 * `A` (`[batch, seq, K]` → `Reshape [tokens, K]` → `Transpose(A) · A`), so ONNX Runtime computes
 * each `AᵀA` itself; the copies run once per calibration batch and the sums are kept in float64.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { dirname, join } from "node:path";
import { mulberry32 } from "../_rng.ts";
import { createSession } from "../runtime/session.ts";
import { DT, type ModelProto, onnx } from "./_proto.ts";

/** Options of {@linkcode calibrationTokens} and {@linkcode collectHessians}. */
export interface CalibrationOptions {
  /** Sequences sampled. @default 8 */
  sequences?: number;
  /** Tokens per sequence, BOS included. @default 512 */
  length?: number;
  /** Sampling seed. @default 42 */
  seed?: number;
}

/** The default calibration set: 8 sequences of 512 tokens (4,096 tokens), seed 42. */
export const DEFAULT_CALIBRATION: Readonly<Required<CalibrationOptions>> = Object.freeze({
  sequences: 8,
  length: 512,
  seed: 42,
});

/**
 * Samples calibration sequences from a float32 decoder (temperature 1, KV cache, seeded), each
 * starting with the BOS id of the model's `config.json` (the folder above `onnx/`) and at most
 * its `max_position_embeddings` long.
 *
 * @param fp32OnnxPath The float32 `.onnx` file (`<model>/onnx/model.onnx`).
 * @param options Sequences, length, seed.
 * @returns Token ids, one array per sequence.
 * @throws {RangeError} when `config.json` has no BOS id or the options are not positive integers.
 * @example
 * ```ts ignore
 * import { calibrationTokens } from "./calibration.ts";
 * const rows = await calibrationTokens("m/onnx/model.onnx", { sequences: 2, length: 64 });
 * ```
 */
export async function calibrationTokens(
  fp32OnnxPath: string,
  options: CalibrationOptions = {},
): Promise<number[][]> {
  const { sequences, length, seed } = { ...DEFAULT_CALIBRATION, ...options };
  for (const [name, value] of Object.entries({ sequences, length, seed })) {
    if (!Number.isInteger(value) || value < (name === "seed" ? 0 : 1)) {
      throw new RangeError(`calibration '${name}' must be a positive integer, got ${value}`);
    }
  }
  const { bos, maxPositions } = readConfig(fp32OnnxPath);
  const steps = Math.min(length, maxPositions);
  const session = await createSession(fp32OnnxPath);
  try {
    const ort_ = session.session;
    const past = ort_.inputNames.filter((n) => n.startsWith("past_key_values."));
    const rng = mulberry32(seed);
    const rows = Array.from({ length: sequences }, () => [bos]);
    let cache: Record<string, ort.Tensor> = {};
    for (const name of past) {
      const meta = ort_.inputMetadata.find((m) => m.name === name);
      const shape = meta && meta.isTensor ? meta.shape : [];
      const heads = typeof shape[1] === "number" ? shape[1] : 1;
      const dim = typeof shape[3] === "number" ? shape[3] : 1;
      cache[name] = new ort.Tensor("float32", new Float32Array(0), [sequences, heads, 0, dim]);
    }
    for (let t = 0; t < steps - 1; t++) {
      const ids = rows.map((r) => BigInt(r[t]!));
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor("int64", BigInt64Array.from(ids), [sequences, 1]),
        attention_mask: new ort.Tensor(
          "int64",
          new BigInt64Array(sequences * (t + 1)).fill(1n),
          [sequences, t + 1],
        ),
        position_ids: new ort.Tensor("int64", new BigInt64Array(sequences).fill(BigInt(t)), [
          sequences,
          1,
        ]),
        ...cache,
      };
      // Graphs built here take num_logits_to_keep (0 = every position; one position per step).
      if (ort_.inputNames.includes("num_logits_to_keep")) feeds.num_logits_to_keep = keepAll();
      const out = await ort_.run(feeds);
      const logits = out.logits!.data as Float32Array;
      const vocab = logits.length / sequences;
      rows.forEach((row, s) => row.push(sample(logits.subarray(s * vocab, (s + 1) * vocab), rng)));
      // The Optimum layout returns the whole cache (`present.*`); an in_place graph only this
      // step's keys and values (`present_new.*`), appended here to the past it was fed.
      const next: Record<string, ort.Tensor> = {};
      for (const name of past) {
        const whole = out[name.replace("past_key_values.", "present.")];
        next[name] = whole ??
          appendPositions(cache[name]!, out[name.replace("past_key_values.", "present_new.")]!);
      }
      cache = next;
    }
    return rows;
  } finally {
    await session.session.release();
  }
}

/** `[B, H, P, D]` then `[B, H, S, D]` float32 along the positions: `[B, H, P + S, D]`. */
function appendPositions(past: ort.Tensor, step: ort.Tensor): ort.Tensor {
  const [b, h, p, d] = past.dims.map(Number) as [number, number, number, number];
  const s = Number(step.dims[2]);
  const a = past.data as Float32Array, n = step.data as Float32Array;
  const out = new Float32Array(b * h * (p + s) * d);
  for (let row = 0; row < b * h; row++) {
    out.set(a.subarray(row * p * d, (row + 1) * p * d), row * (p + s) * d);
    out.set(n.subarray(row * s * d, (row + 1) * s * d), (row * (p + s) + p) * d);
  }
  return new ort.Tensor("float32", out, [b, h, p + s, d]);
}

/**
 * Sums `AᵀA` over the calibration tokens for each named MatMul input `A` of a float32 decoder.
 *
 * @param fp32OnnxPath The float32 `.onnx` file (external data next to it is used in place).
 * @param inputs MatMul input names and their widths K.
 * @param rows Calibration token ids (equal lengths).
 * @returns Per input name, `K * K` float64 values of `Σ AᵀA / tokens`.
 * @example
 * ```ts ignore
 * import { collectHessians } from "./calibration.ts";
 * const h = await collectHessians("m/onnx/model.onnx", new Map([["x", 64]]), [[0, 5, 9]]);
 * ```
 */
export async function collectHessians(
  fp32OnnxPath: string,
  inputs: ReadonlyMap<string, number>,
  rows: readonly number[][],
): Promise<Map<string, Float64Array>> {
  const model = onnx.ModelProto.decode(await Deno.readFile(fp32OnnxPath));
  const outputs = addHessianOutputs(model, inputs);
  const temp = join(dirname(fp32OnnxPath), `calibration.tmp-${Deno.pid}-${Date.now()}.onnx`);
  await Deno.writeFile(temp, onnx.ModelProto.encode(model).finish());
  const sums = new Map([...inputs].map(([name, k]) => [name, new Float64Array(k * k)]));
  let tokens = 0;
  try {
    const session = await createSession(temp);
    try {
      const s = session.session;
      const past = s.inputNames.filter((n) => n.startsWith("past_key_values."));
      for (const row of rows) {
        const n = row.length;
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor("int64", BigInt64Array.from(row.map(BigInt)), [1, n]),
          attention_mask: new ort.Tensor("int64", new BigInt64Array(n).fill(1n), [1, n]),
          position_ids: new ort.Tensor(
            "int64",
            BigInt64Array.from(row.map((_, i) => BigInt(i))),
            [1, n],
          ),
        };
        if (s.inputNames.includes("num_logits_to_keep")) feeds.num_logits_to_keep = keepAll();
        for (const name of past) {
          const meta = s.inputMetadata.find((m) => m.name === name);
          const shape = meta && meta.isTensor ? meta.shape : [];
          const heads = typeof shape[1] === "number" ? shape[1] : 1;
          const dim = typeof shape[3] === "number" ? shape[3] : 1;
          feeds[name] = new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, dim]);
        }
        const out = await s.run(feeds, outputs.map((o) => o.output));
        for (const { input, output } of outputs) {
          const h = out[output]!.data as Float32Array;
          const sum = sums.get(input)!;
          for (let i = 0; i < h.length; i++) sum[i]! += h[i]!;
        }
        tokens += n;
      }
    } finally {
      await session.session.release();
    }
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  for (const sum of sums.values()) for (let i = 0; i < sum.length; i++) sum[i]! /= tokens;
  return sums;
}

/** Adds `Transpose(A2) · A2` outputs (A2 = A reshaped to `[tokens, K]`) for each input. */
function addHessianOutputs(
  model: ModelProto,
  inputs: ReadonlyMap<string, number>,
): { input: string; output: string }[] {
  const graph = model.graph!;
  const out: { input: string; output: string }[] = [];
  let i = 0;
  for (const [name, k] of inputs) {
    const shape = `calibration_shape_${i}`;
    const flat = `calibration_flat_${i}`;
    const flatT = `calibration_flat_t_${i}`;
    const output = `calibration_hessian_${i}`;
    graph.initializer!.push({
      name: shape,
      dataType: DT.INT64,
      dims: [2],
      rawData: new Uint8Array(BigInt64Array.of(-1n, BigInt(k)).buffer),
    });
    graph.node!.push(
      { opType: "Reshape", input: [name, shape], output: [flat], name: `${flat}_Reshape` },
      {
        opType: "Transpose",
        input: [flat],
        output: [flatT],
        name: `${flatT}_Transpose`,
        attribute: [{ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 0] }],
      },
      { opType: "MatMul", input: [flatT, flat], output: [output], name: `${output}_MatMul` },
    );
    graph.output!.push({
      name: output,
      type: {
        tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: k }, { dimValue: k }] } },
      },
    });
    out.push({ input: name, output });
    i++;
  }
  return out;
}

function readConfig(fp32OnnxPath: string): { bos: number; maxPositions: number } {
  const path = join(dirname(dirname(fp32OnnxPath)), "config.json");
  let bos: unknown;
  let max: unknown;
  try {
    const config = JSON.parse(Deno.readTextFileSync(path));
    bos = config.bos_token_id;
    max = config.max_position_embeddings;
  } catch {
    bos = undefined;
  }
  const id = Array.isArray(bos) ? bos[0] : bos;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
    throw new RangeError(
      `GPTQ calibration needs 'bos_token_id' in '${path}' to start its sampled text, got ${
        JSON.stringify(bos)
      }`,
    );
  }
  return { bos: id, maxPositions: typeof max === "number" && max > 1 ? max : Infinity };
}

/** Samples an index from softmax(logits) (temperature 1). */
function sample(logits: Float32Array, rng: () => number): number {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  let u = rng() * sum;
  for (let i = 0; i < logits.length; i++) {
    u -= Math.exp(logits[i]! - max);
    if (u <= 0) return i;
  }
  return logits.length - 1;
}

/** `num_logits_to_keep = 0`: logits of every position (Hugging Face's semantics). */
function keepAll(): ort.Tensor {
  return new ort.Tensor("int64", BigInt64Array.of(0n), []);
}
