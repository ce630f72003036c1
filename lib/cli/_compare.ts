/**
 * The contenders of `deno task compare` (private to lib/cli): each generates greedily from one
 * prompt and reports wall-clock decode tokens/s and CPU ms per decode token (tokens 2..N).
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import { AutoModelForCausalLM, BaseStreamer, Tensor as HfTensor } from "@huggingface/transformers";
import process from "node:process";
import type { DecoderModel } from "../engine/decoder.ts";
import { generate } from "../engine/generate.ts";
import type { OnnxSession } from "../runtime/session.ts";
import { emptyKv } from "../runtime/tensors.ts";

/** What one generation of a contender measured. */
export interface Sample {
  /** Wall-clock decode tokens/s (tokens 2..N). */
  decodeTokensPerS: number;
  /** Process CPU time (user + system) per decode token, milliseconds. */
  decodeCpuMsPerToken: number;
  /** The generated ids. */
  tokens: number[];
}

/** One way of generating. */
export type Contender = (prompt: number[], n: number) => Promise<Sample>;

/** Process CPU time (user + system) so far, milliseconds. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * (a) The baseline: the least code that greedily decodes with a KV cache through ONNX Runtime.
 */
export function rawLoop(s: OnnxSession, model: DecoderModel): Contender {
  const past = s.inputNames.filter((n) => n.startsWith("past_key_values."));
  const present = past.map((n) => n.replace("past_key_values.", "present."));
  const withPositions = s.inputNames.includes("position_ids");
  return async (prompt, n) => {
    const len = prompt.length;
    const ids = (values: number[]) =>
      new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [1, values.length]);
    const ones = (k: number) => new ort.Tensor("int64", new BigInt64Array(k).fill(1n), [1, k]);
    const range = (from: number, k: number) => ids(Array.from({ length: k }, (_, i) => from + i));
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ids(prompt),
      attention_mask: ones(len),
    };
    if (withPositions) feeds.position_ids = range(0, len);
    // Only the last position's logits are read: ask for just those where the graph can.
    if (s.inputNames.includes("num_logits_to_keep")) {
      feeds.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(1n), []);
    }
    for (const name of past) {
      feeds[name] = emptyKv(model.kvDtype, 1, model.numKvHeads, model.headDim);
    }
    const tokens: number[] = [];
    let start = 0;
    let cpuStart = 0;
    for (let t = 0; t < n; t++) {
      const out = await s.session.run(feeds);
      const logits = out.logits!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      const offset = (logits.dims[1]! - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (data[offset + v]! > data[offset + best]!) best = v;
      tokens.push(best);
      if (t === 0) [start, cpuStart] = [performance.now(), cpuMs()];
      feeds.input_ids = ids([best]);
      feeds.attention_mask = ones(len + t + 1);
      if (withPositions) feeds.position_ids = range(len + t, 1);
      past.forEach((name, i) => feeds[name] = out[present[i]!]!);
    }
    return {
      decodeTokensPerS: (n - 1) / (performance.now() - start) * 1000,
      decodeCpuMsPerToken: (cpuMs() - cpuStart) / (n - 1),
      tokens,
    };
  };
}

/**
 * (e, with `--gqa-shared`) onnxruntime-genai's way on this binding: a GroupQueryAttention graph
 * whose `past_key_values.*` and pre-allocated `present.*` fetches are the same max-length
 * buffers, so the kernel appends in place; the binding still returns each present as a new
 * copy of the whole buffer (docs/engine.md). Batch 1, float32 cache.
 */
export function gqaSharedLoop(model: DecoderModel): Contender {
  const s = model.session.session;
  const names = model.session.inputNames.filter((n) => n.startsWith("past_key_values."));
  const [heads, dim] = [model.numKvHeads, model.headDim];
  const ids = (values: number[]) =>
    new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [1, values.length]);
  const ones = (k: number) => new ort.Tensor("int64", new BigInt64Array(k).fill(1n), [1, k]);
  const argmax = (logits: ort.Tensor) => {
    const data = logits.data as Float32Array;
    const vocab = logits.dims[2]!;
    const offset = (logits.dims[1]! - 1) * vocab;
    let best = 0;
    for (let v = 1; v < vocab; v++) if (data[offset + v]! > data[offset + best]!) best = v;
    return best;
  };
  return async (prompt, n) => {
    const len = prompt.length;
    const max = len + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ids(prompt),
      attention_mask: ones(len),
      position_ids: ids(prompt.map((_, i) => i)),
    };
    if (model.session.inputNames.includes("num_logits_to_keep")) {
      feeds.num_logits_to_keep = new ort.Tensor("int64", BigInt64Array.of(1n), []);
    }
    for (const name of names) feeds[name] = emptyKv("float32", 1, heads, dim);
    const first = await s.run(feeds);
    const buffers = names.map((name) => {
      const buffer = new Float32Array(heads * max * dim);
      const src = first[name.replace("past_key_values.", "present.")]!.data as Float32Array;
      for (let h = 0; h < heads; h++) {
        buffer.set(src.subarray(h * len * dim, (h + 1) * len * dim), h * max * dim);
      }
      return buffer;
    });
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    names.forEach((name, i) => {
      const view = new ort.Tensor("float32", buffers[i]!, [1, heads, max, dim]);
      feeds[name] = view;
      fetches[name.replace("past_key_values.", "present.")] = view;
    });
    const tokens = [argmax(first.logits!)];
    const [start, cpuStart] = [performance.now(), cpuMs()];
    for (let t = 1; t < n; t++) {
      feeds.input_ids = ids([tokens[t - 1]!]);
      feeds.attention_mask = ones(len + t);
      feeds.position_ids = ids([len + t - 1]);
      const out = await s.run(feeds, fetches);
      tokens.push(argmax(out.logits!));
    }
    return {
      decodeTokensPerS: (n - 1) / (performance.now() - start) * 1000,
      decodeCpuMsPerToken: (cpuMs() - cpuStart) / (n - 1),
      tokens,
    };
  };
}

/** (b), (c) This project's engine (its KV mode follows from the model's graph). */
export function engine(model: DecoderModel): Contender {
  // The same model whose step() notes the CPU clock when the first run (the prefill) returns.
  let calls = 0;
  let cpuAfterPrefill = 0;
  const timed: DecoderModel = {
    ...model,
    step: async (...args) => {
      const out = await model.step(...args);
      if (++calls === 1) cpuAfterPrefill = cpuMs();
      return out;
    },
  };
  return async (prompt, n) => {
    calls = 0;
    const r = await generate(timed, [prompt], { maxNewTokens: n });
    return {
      decodeTokensPerS: r.decodeTokensPerS!,
      decodeCpuMsPerToken: (cpuMs() - cpuAfterPrefill) / (n - 1),
      tokens: r.tokens[0]!,
    };
  };
}

/** (c) transformers.js `generate()`, timed from the first generated token a streamer sees. */
class FirstTokenClock extends BaseStreamer {
  calls = 0;
  first = 0;
  firstCpu = 0;
  override put(): void {
    if (++this.calls === 2) [this.first, this.firstCpu] = [performance.now(), cpuMs()];
  }
  override end(): void {}
}

export async function transformersJs(
  dir: string,
  dtype: string,
  threads: number,
): Promise<Contender> {
  const model = await AutoModelForCausalLM.from_pretrained(dir, {
    dtype: dtype as "q4",
    device: "cpu",
    local_files_only: true,
    session_options: threads > 0 ? { intraOpNumThreads: threads } : {},
  });
  return async (prompt, n) => {
    const clock = new FirstTokenClock();
    const input = new HfTensor("int64", BigInt64Array.from(prompt, BigInt), [1, prompt.length]);
    const out = await model.generate(
      {
        input_ids: input,
        attention_mask: new HfTensor("int64", new BigInt64Array(prompt.length).fill(1n), [
          1,
          prompt.length,
        ]),
        max_new_tokens: n,
        min_new_tokens: n,
        do_sample: false,
        streamer: clock,
      } as unknown as Parameters<typeof model.generate>[0],
    );
    const end = performance.now();
    const ids = Array.from((out as unknown as { data: BigInt64Array }).data, Number).slice(
      prompt.length,
    );
    return {
      decodeTokensPerS: (n - 1) / (end - clock.first) * 1000,
      decodeCpuMsPerToken: (cpuMs() - clock.firstCpu) / (n - 1),
      tokens: ids,
    };
  };
}
