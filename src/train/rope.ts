// Rotary position embedding (RoPE) as llama.cpp applies it, in its two pairings: GGML "normal"
// (adjacent pairs, llama/mistral GGUFs) and NEOX (first half with second half, qwen2).
import * as tf from "@tensorflow/tfjs-core";
import type { RopeScalingType, RopeStyle } from "./model-config.js";

/** cos θ and sin θ for every position and pair, shaped to broadcast against grouped heads. */
export interface RopeTables {
  readonly style: RopeStyle;
  readonly cos: tf.Tensor4D;
  readonly sin: tf.Tensor4D;
}

/**
 * How a model rescales RoPE, as llama.cpp reads it from GGUF metadata (the `rope*` fields of ModelConfig).
 * Every field is optional: an empty object (the default) is plain RoPE.
 */
export interface RopeScaling {
  /** "linear" multiplies every angle by `ropeFreqScale`; "yarn" blends that with the unscaled angle per pair. */
  readonly ropeScaling?: RopeScalingType;
  /** 1 / `rope.scaling.factor`. */
  readonly ropeFreqScale?: number;
  /** `rope.scaling.attn_factor`: multiplies cos θ and sin θ (so the rotated q and k). */
  readonly ropeAttnFactor?: number;
  /** YaRN's correction range is computed from it (`rope.scaling.original_context_length`). */
  readonly ropeOriginalContextLength?: number;
  /** Llama 3's `rope_freqs.weight` [headDim/2]: pair i's angle is divided by factor i. */
  readonly ropeFreqFactors?: Float32Array | undefined;
}

/** YaRN's β_fast and β_slow: llama.cpp's defaults, which llama and qwen2 GGUFs cannot override. */
const yarnBetaFast = 32;
const yarnBetaSlow = 1;

/**
 * The tables for positions 0…length−1 of heads of `headDim` dimensions, as ggml's CPU rope computes them
 * (ggml_rope_cache_init and rope_yarn in ggml-cpu/ops.cpp), in float32 as it does:
 * θ(pos, i) = s · pos · base^(−2i/d) / f[i] for pair i < d/2, with s = `ropeFreqScale` (1 unscaled) and f
 * the optional frequency factors; cos and sin are multiplied by `ropeAttnFactor`. YaRN instead mixes the
 * scaled and the unscaled angle by a ramp over the pairs and scales cos and sin by 1 + 0.1·ln(1/s).
 * Shape [length, 1, d/2, 1] (normal) or [length, 1, 1, d/2] (neox).
 */
export function ropeTables(
  length: number,
  headDim: number,
  freqBase: number,
  style: RopeStyle,
  scaling: RopeScaling = {},
): RopeTables {
  const half = headDim / 2;
  const f = Math.fround;
  const factors = scaling.ropeFreqFactors;
  if (factors !== undefined && factors.length < half)
    throw new Error(`${factors.length} RoPE frequency factors for ${half} pairs`);
  const type = scaling.ropeScaling ?? "none";
  const freqScale = type === "none" ? 1 : f(scaling.ropeFreqScale ?? 1);
  const yarn = type === "yarn" ? yarnRamp(headDim, freqBase, scaling.ropeOriginalContextLength) : undefined;
  const mscale = f(f(scaling.ropeAttnFactor ?? 1) * (yarn === undefined ? 1 : yarnMagnitude(freqScale)));
  const thetaScale = f(f(freqBase) ** f(-2 / headDim));
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let pos = 0; pos < length; pos += 1) {
    let theta = f(pos);
    for (let i = 0; i < half; i += 1) {
      const extrapolated = f(theta / (factors?.[i] ?? 1));
      const interpolated = f(freqScale * extrapolated);
      const mix = yarn?.[i] ?? 0;
      const angle = mix === 0 ? interpolated : f(f(interpolated * (1 - mix)) + f(extrapolated * mix));
      cos[pos * half + i] = Math.cos(angle) * mscale;
      sin[pos * half + i] = Math.sin(angle) * mscale;
      theta = f(theta * thetaScale);
    }
  }
  const shape: [number, number, number, number] =
    style === "normal" ? [length, 1, half, 1] : [length, 1, 1, half];
  return { style, cos: tf.tensor4d(cos, shape), sin: tf.tensor4d(sin, shape) };
}

/**
 * YaRN's weight of the unscaled angle for each pair (ggml_rope_yarn_corr_dims and rope_yarn_ramp, with
 * llama.cpp's ext_factor 1): 1 for the fast pairs that turn many times within the original context, 0 for
 * the slow ones, linear between.
 */
function yarnRamp(headDim: number, freqBase: number, originalContext: number | undefined): Float32Array {
  if (originalContext === undefined || originalContext <= 0)
    throw new Error("YaRN needs the original context length");
  const f = Math.fround;
  const correctionDim = (beta: number) =>
    f(f(headDim * Math.log(f(originalContext / f(beta * 2 * f(Math.PI))))) / f(2 * Math.log(f(freqBase))));
  const low = Math.max(0, Math.floor(correctionDim(yarnBetaFast)));
  const high = Math.min(headDim - 1, Math.ceil(correctionDim(yarnBetaSlow)));
  const ramp = new Float32Array(headDim / 2);
  for (let i = 0; i < ramp.length; i += 1) {
    const y = f(f(i - low) / Math.max(0.001, high - low));
    ramp[i] = 1 - Math.min(1, Math.max(0, y));
  }
  return ramp;
}

/**
 * YaRN's magnitude correction 1 + 0.1·ln(1/s) (rope_yarn). llama.cpp also sets the attention factor to
 * mscale(1/s)/(1 + 0.1·ln(1/s)) (llama-context.cpp), which is 1 when 1/s > 1 and cancels the correction
 * otherwise.
 */
function yarnMagnitude(freqScale: number): number {
  const f = Math.fround;
  const factor = f(1 / freqScale);
  const correction = f(1 + f(0.1 * Math.log(factor)));
  const attention = f((factor <= 1 ? 1 : correction) * f(1 / correction));
  return f(attention * correction);
}

/**
 * Rotates `x` [batch, seq, heads, headDim] by position: each pair (a, b) becomes
 * (a·cos θ − b·sin θ, a·sin θ + b·cos θ). Differentiable (reshape, split, multiply, concat).
 */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, seq, heads, headDim] = x.shape;
    const half = headDim / 2;
    // normal: [.., d/2, 2] and split the last axis; neox: [.., 2, d/2] and split the one before.
    const normal = tables.style === "normal";
    const grouped = normal
      ? tf.reshape(x, [batch, seq, heads, half, 2])
      : tf.reshape(x, [batch, seq, heads, 2, half]);
    const axis = normal ? 4 : 3;
    const [a, b] = tf.split(grouped, 2, axis);
    if (a === undefined || b === undefined) throw new Error("split into two parts returned fewer");
    const rotatedA = tf.sub(tf.mul(a, tables.cos), tf.mul(b, tables.sin));
    const rotatedB = tf.add(tf.mul(a, tables.sin), tf.mul(b, tables.cos));
    return tf.reshape(tf.concat([rotatedA, rotatedB], axis), [batch, seq, heads, headDim]);
  });
}

/** Frees the tables. */
export function disposeRopeTables(tables: RopeTables): void {
  tables.cos.dispose();
  tables.sin.dispose();
}
