/**
 * A plain TypeScript float64 forward pass of a built model, straight from `model.safetensors` and
 * `config.json`, or of an imported Hugging Face checkpoint (any of its tensor types, sharded or
 * not, attention biases included) — independent of the ONNX graph, so tests can check the graph
 * against it.
 *
 * @module
 */
import { join } from "node:path";
import { checkCheckpoint } from "./import/import_checkpoint.ts";
import type { LlamaConfig } from "./presets.ts";
import { inverseFrequencies } from "./rope.ts";
import { readSafetensors, readTensorRows } from "./safetensors.ts";

/** A model loaded for the reference forward. */
export interface ReferenceModel {
  /** Configuration from `config.json`. */
  config: LlamaConfig;
  /** Parameters as float64, torch layout, by Hugging Face name. */
  weights: Map<string, Float64Array>;
}

/**
 * Loads a model directory for {@linkcode referenceForward} (small models only: all in memory).
 *
 * @param dir A directory written by `buildModel`.
 * @returns The configuration and float64 weights.
 * @example
 * ```ts ignore
 * import { loadReferenceModel } from "./reference.ts";
 * const model = loadReferenceModel(".cache/models/tiny-s42");
 * ```
 */
export function loadReferenceModel(dir: string): ReferenceModel {
  const config = JSON.parse(Deno.readTextFileSync(join(dir, "config.json"))) as LlamaConfig;
  const weights = new Map<string, Float64Array>();
  for (const [name, t] of readSafetensors(join(dir, "model.safetensors"))) {
    weights.set(name, Float64Array.from(t.data));
  }
  return { config, weights };
}

/**
 * Loads a Hugging Face checkpoint directory for {@linkcode referenceForward} (small models only):
 * the configuration as the importer maps it, every tensor widened exactly to float64.
 *
 * @param from A checkpoint directory (`config.json`, safetensors, tokenizer files).
 * @returns The configuration and float64 weights.
 * @throws what the importer's checks throw for a checkpoint that does not convert.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadReferenceCheckpoint } from "./reference.ts";
 * const model = loadReferenceCheckpoint("models/wikitext-llama");
 * assert(model.config.hidden_size === 256 && model.weights.has("lm_head.weight"));
 * ```
 */
export function loadReferenceCheckpoint(from: string): ReferenceModel {
  const checked = checkCheckpoint(from);
  const weights = new Map<string, Float64Array>();
  for (const [name, info] of checked.tensors) {
    weights.set(name, Float64Array.from(readTensorRows(info)));
  }
  return { config: checked.config, weights };
}

/**
 * Logits of one unpadded sequence at every position (positions 0…n-1, causal attention), in
 * float64, following Hugging Face's LlamaForCausalLM.
 *
 * @param model A loaded model.
 * @param ids Token ids.
 * @returns Logits `[ids.length, vocab_size]`, row-major.
 * @throws {RangeError} on an id outside the vocabulary or a sequence longer than the positions.
 * @example
 * ```ts ignore
 * import { loadReferenceModel, referenceForward } from "./reference.ts";
 * const logits = referenceForward(loadReferenceModel(dir), [1, 2, 3]);
 * ```
 */
export function referenceForward(model: ReferenceModel, ids: readonly number[]): Float64Array {
  const c = model.config;
  const n = ids.length;
  const h = c.hidden_size;
  const d = c.head_dim;
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads;
  const rep = heads / kvHeads;
  if (n > c.max_position_embeddings) {
    throw new RangeError(
      `referenceForward: ${n} tokens exceed max_position_embeddings ${c.max_position_embeddings}`,
    );
  }
  const w = (name: string): Float64Array => {
    const t = model.weights.get(name);
    if (!t) throw new TypeError(`referenceForward: model.safetensors has no '${name}'`);
    return t;
  };
  const embed = w("model.embed_tokens.weight");
  let x = new Float64Array(n * h);
  ids.forEach((id, t) => {
    if (!Number.isInteger(id) || id < 0 || id >= c.vocab_size) {
      throw new RangeError(
        `referenceForward: 'ids[${t}]' must be in [0, ${c.vocab_size}), got ${id}`,
      );
    }
    x.set(embed.subarray(id * h, (id + 1) * h), t * h);
  });
  const half = d / 2;
  const invFreq = inverseFrequencies(c);
  const rope = (v: Float64Array, rows: number, nHeads: number) => {
    for (let t = 0; t < rows; t++) {
      for (let hd = 0; hd < nHeads; hd++) {
        const base = (t * nHeads + hd) * d;
        for (let i = 0; i < half; i++) {
          const angle = t * invFreq[i]!;
          const cos = Math.cos(angle), sin = Math.sin(angle);
          const a = v[base + i]!, b = v[base + half + i]!;
          v[base + i] = a * cos - b * sin;
          v[base + half + i] = b * cos + a * sin;
        }
      }
    }
  };
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    const xn = rmsNorm(x, w(`${p}.input_layernorm.weight`), n, h, c.rms_norm_eps);
    const bias = (out: Float64Array, name: string) => {
      const b = model.weights.get(name); // Qwen2's q/k/v, Llama's attention_bias
      if (b) { for (let i = 0; i < out.length; i++) out[i]! += b[i % b.length]!; }
      return out;
    };
    const q = bias(
      linear(xn, w(`${p}.self_attn.q_proj.weight`), n, h, heads * d),
      `${p}.self_attn.q_proj.bias`,
    );
    const k = bias(
      linear(xn, w(`${p}.self_attn.k_proj.weight`), n, h, kvHeads * d),
      `${p}.self_attn.k_proj.bias`,
    );
    const v = bias(
      linear(xn, w(`${p}.self_attn.v_proj.weight`), n, h, kvHeads * d),
      `${p}.self_attn.v_proj.bias`,
    );
    rope(q, n, heads);
    rope(k, n, kvHeads);
    const ctx = new Float64Array(n * heads * d);
    const scale = 1 / Math.sqrt(d);
    const scores = new Float64Array(n);
    for (let hd = 0; hd < heads; hd++) {
      const g = Math.floor(hd / rep);
      for (let t = 0; t < n; t++) {
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let i = 0; i < d; i++) {
            dot += q[(t * heads + hd) * d + i]! * k[(s * kvHeads + g) * d + i]!;
          }
          scores[s] = dot * scale;
          if (scores[s]! > max) max = scores[s]!;
        }
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += scores[s] = Math.exp(scores[s]! - max);
        for (let s = 0; s <= t; s++) {
          const pr = scores[s]! / sum;
          for (let i = 0; i < d; i++) {
            ctx[(t * heads + hd) * d + i]! += pr * v[(s * kvHeads + g) * d + i]!;
          }
        }
      }
    }
    const attn = bias(
      linear(ctx, w(`${p}.self_attn.o_proj.weight`), n, heads * d, h),
      `${p}.self_attn.o_proj.bias`,
    );
    for (let i = 0; i < x.length; i++) x[i]! += attn[i]!;
    const xn2 = rmsNorm(x, w(`${p}.post_attention_layernorm.weight`), n, h, c.rms_norm_eps);
    const inter = c.intermediate_size;
    const gate = linear(xn2, w(`${p}.mlp.gate_proj.weight`), n, h, inter);
    const up = linear(xn2, w(`${p}.mlp.up_proj.weight`), n, h, inter);
    for (let i = 0; i < gate.length; i++) {
      const gv = gate[i]!;
      gate[i] = (gv / (1 + Math.exp(-gv))) * up[i]!;
    }
    const down = linear(gate, w(`${p}.mlp.down_proj.weight`), n, inter, h);
    const next = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) next[i] = x[i]! + down[i]!;
    x = next;
  }
  const final = rmsNorm(x, w("model.norm.weight"), n, h, c.rms_norm_eps);
  const head = c.tie_word_embeddings ? embed : w("lm_head.weight");
  return linear(final, head, n, h, c.vocab_size);
}

/** `x · Wᵀ` for torch-layout `W [out, in]`. */
function linear(x: Float64Array, weight: Float64Array, rows: number, inF: number, outF: number) {
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let sum = 0;
      const wBase = o * inF, xBase = r * inF;
      for (let i = 0; i < inF; i++) sum += x[xBase + i]! * weight[wBase + i]!;
      out[r * outF + o] = sum;
    }
  }
  return out;
}

function rmsNorm(x: Float64Array, weight: Float64Array, rows: number, h: number, eps: number) {
  const out = new Float64Array(rows * h);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < h; i++) ss += x[r * h + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / h + eps);
    for (let i = 0; i < h; i++) out[r * h + i] = x[r * h + i]! * inv * weight[i]!;
  }
  return out;
}
