/**
 * Rotary position embedding (RoPE) of the Llama family: inverse frequencies (with Llama 3's
 * long-context scaling when the config has it) and the cos/sin caches the ONNX graph gathers.
 *
 * @module
 */
import type { LlamaConfig } from "./presets.ts";

/**
 * RoPE inverse frequencies `theta^(-2i/head_dim)` for `i < head_dim / 2`, rescaled as Hugging
 * Face's `rope_type: "llama3"` does when `rope_scaling` is set: wavelengths beyond the original
 * context are divided by `factor`, short ones kept, the band between interpolated smoothly.
 *
 * @param config `head_dim`, `rope_theta`, `rope_scaling`.
 * @returns `head_dim / 2` frequencies in float64.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inverseFrequencies } from "./rope.ts";
 * import { PRESETS } from "./presets.ts";
 * const f = inverseFrequencies(PRESETS.tiny!);
 * assert(f.length === 8 && f[0] === 1);
 * ```
 */
export function inverseFrequencies(
  config: Pick<LlamaConfig, "head_dim" | "rope_theta" | "rope_scaling">,
): Float64Array {
  const d = config.head_dim;
  const out = new Float64Array(d / 2);
  for (let i = 0; i < d / 2; i++) out[i] = 1 / config.rope_theta ** ((2 * i) / d);
  const s = config.rope_scaling;
  if (!s) return out;
  const lowFreqWavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const highFreqWavelen = s.original_max_position_embeddings / s.high_freq_factor;
  for (let i = 0; i < out.length; i++) {
    const freq = out[i]!;
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      out[i] = freq / s.factor;
      continue;
    }
    const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
      (s.high_freq_factor - s.low_freq_factor);
    out[i] = (1 - smooth) * (freq / s.factor) + smooth * freq;
  }
  return out;
}

/**
 * Half-width RoPE caches `[max_position_embeddings, head_dim / 2]`, the layout com.microsoft
 * GroupQueryAttention / RotaryEmbedding take.
 *
 * @param config The configuration.
 * @returns Float32 caches, row-major.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeHalfCaches } from "./rope.ts";
 * import { PRESETS } from "./presets.ts";
 * assert(ropeHalfCaches(PRESETS.tiny!).sin.length === 512 * 8);
 * ```
 */
export function ropeHalfCaches(
  config: Readonly<LlamaConfig>,
): { cos: Float32Array; sin: Float32Array } {
  const half = config.head_dim / 2;
  const full = ropeCaches(config);
  const n = config.max_position_embeddings;
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  for (let pos = 0; pos < n; pos++) {
    cos.set(full.cos.subarray(pos * 2 * half, pos * 2 * half + half), pos * half);
    sin.set(full.sin.subarray(pos * 2 * half, pos * 2 * half + half), pos * half);
  }
  return { cos, sin };
}

/**
 * RoPE cos/sin caches `[max_position_embeddings, head_dim]`, each row `cat(freqs, freqs)` for
 * inverse frequencies `theta^(-2i/head_dim)`.
 *
 * @param config The configuration.
 * @returns Float32 caches, row-major.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ropeCaches } from "./rope.ts";
 * import { PRESETS } from "./presets.ts";
 * const { cos } = ropeCaches(PRESETS.tiny!);
 * assert(cos[0] === 1); // position 0 is not rotated
 * ```
 */
export function ropeCaches(
  config: Readonly<LlamaConfig>,
): { cos: Float32Array; sin: Float32Array } {
  const d = config.head_dim;
  const half = d / 2;
  const n = config.max_position_embeddings;
  const cos = new Float32Array(n * d);
  const sin = new Float32Array(n * d);
  const inv = inverseFrequencies(config);
  for (let i = 0; i < half; i++) {
    const invFreq = inv[i]!;
    for (let pos = 0; pos < n; pos++) {
      const angle = pos * invFreq;
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[pos * d + i] = c;
      cos[pos * d + half + i] = c;
      sin[pos * d + i] = s;
      sin[pos * d + half + i] = s;
    }
  }
  return { cos, sin };
}
