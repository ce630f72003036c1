/**
 * Test helpers of lib/model: one ONNX decoder step with explicit past, and a plain greedy loop.
 * Private to lib/model tests.
 *
 * @module
 */
import * as ort from "onnxruntime-node";
import type { OnnxSession } from "../runtime/session.ts";
import {
  attentionMask,
  emptyKv,
  int64Tensor,
  type KvDtype,
  positionIds,
  toFloat32,
} from "../runtime/tensors.ts";
import type { LlamaConfig } from "./presets.ts";

/** Past key/values by input name (`past_key_values.{i}.key` …). */
export type Past = Record<string, ort.Tensor>;

/** Output of {@linkcode step}. */
export interface StepResult {
  /** Logits `[batch, seq, vocab]` as float32. */
  logits: Float32Array;
  /** `present.*` renamed to `past_key_values.*`, ready to feed back. */
  past: Past;
}

/** KV dtype of a session, read from its first past input. */
export function kvDtype(session: OnnxSession): KvDtype {
  const meta = session.session.inputMetadata.find((m) => m.name === "past_key_values.0.key");
  const type = meta && "type" in meta ? meta.type : "float32";
  return type === "float16" ? "float16" : "float32";
}

/**
 * Runs one step: `rows` are the new tokens (same length per row), `past` the cache (empty when
 * omitted), `leftPad` each row's padding tokens counted from the start of the whole sequence,
 * `keep` the `num_logits_to_keep` fed where the graph has it (default 0: every position).
 */
export async function step(
  session: OnnxSession,
  config: Pick<LlamaConfig, "num_hidden_layers" | "num_key_value_heads" | "head_dim">,
  rows: number[][],
  options: { past?: Past; pastLength?: number; leftPad?: number[]; keep?: number } = {},
): Promise<StepResult> {
  const batch = rows.length;
  const seq = rows[0]!.length;
  const pastLength = options.pastLength ?? 0;
  const dtype = kvDtype(session);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: int64Tensor(rows),
    attention_mask: attentionMask(batch, pastLength + seq, options.leftPad ?? []),
    position_ids: positionIds(batch, seq, pastLength, options.leftPad ?? []),
  };
  if (session.inputNames.includes("num_logits_to_keep")) {
    // 0 keeps every position (the tests compare all of them).
    feeds.num_logits_to_keep = new ort.Tensor(
      "int64",
      BigInt64Array.of(BigInt(options.keep ?? 0)),
      [],
    );
  }
  for (let i = 0; i < config.num_hidden_layers; i++) {
    for (const kind of ["key", "value"]) {
      const name = `past_key_values.${i}.${kind}`;
      feeds[name] = options.past?.[name] ??
        emptyKv(dtype, batch, config.num_key_value_heads, config.head_dim);
    }
  }
  const out = await session.session.run(feeds);
  const past: Past = {};
  for (const [name, tensor] of Object.entries(out)) {
    if (name.startsWith("present.")) past[name.replace("present.", "past_key_values.")] = tensor;
    // An in_place graph returns only the step's keys and values: appended to the past it was fed.
    if (name.startsWith("present_new.")) {
      const pastName = name.replace("present_new.", "past_key_values.");
      past[pastName] = appendPositions(feeds[pastName]!, tensor);
    }
  }
  return { logits: Float32Array.from(toFloat32(out.logits!)), past };
}

/** `[B, H, P, D]` then `[B, H, S, D]` (float32 or float16 bits) along the positions. */
function appendPositions(a: ort.Tensor, b: ort.Tensor): ort.Tensor {
  const [batch, heads, p, d] = a.dims.map(Number) as [number, number, number, number];
  const s = Number(b.dims[2]);
  const x = a.data as Float32Array | Uint16Array, y = b.data as Float32Array | Uint16Array;
  const out = x instanceof Float32Array
    ? new Float32Array(batch * heads * (p + s) * d)
    : new Uint16Array(batch * heads * (p + s) * d);
  for (let row = 0; row < batch * heads; row++) {
    out.set(x.subarray(row * p * d, (row + 1) * p * d), row * (p + s) * d);
    out.set(y.subarray(row * s * d, (row + 1) * s * d), (row * (p + s) + p) * d);
  }
  return new ort.Tensor(a.type as "float32", out as Float32Array, [batch, heads, p + s, d]);
}

/** Index of the largest value in `row` (first on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** Greedy decoding with the KV cache: `newTokens` ids after `prompt`. */
export async function greedy(
  session: OnnxSession,
  config: Pick<
    LlamaConfig,
    "num_hidden_layers" | "num_key_value_heads" | "head_dim" | "vocab_size"
  >,
  prompt: number[],
  newTokens: number,
): Promise<number[]> {
  const out: number[] = [];
  let result = await step(session, config, [prompt]);
  let length = prompt.length;
  for (let t = 0; t < newTokens; t++) {
    const last = result.logits.subarray(
      (result.logits.length / config.vocab_size - 1) * config.vocab_size,
    );
    const next = argmax(last);
    out.push(next);
    if (t + 1 === newTokens) break;
    result = await step(session, config, [[next]], { past: result.past, pastLength: length });
    length += 1;
  }
  return out;
}

/** A temp directory removed when the test process exits. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  });
  return dir;
}
