// Rotary position embedding (RoPE) as llama.cpp applies it, in its two pairings: GGML "normal"
// (adjacent pairs, llama/mistral GGUFs) and NEOX (first half with second half, qwen2).
import * as tf from "@tensorflow/tfjs-core";
import type { RopeScalingType, RopeStyle } from "./model-config.js";

/**
 * cos θ and sin θ for every position and dimension, [length, 1, headDim] (each pair's angle at both of its
 * dimensions), and the pair rotation R [headDim, headDim]: the constant signed permutation with
 * (x·R)[a] = −x[b], (x·R)[b] = x[a] for each pair (a, b). RoPE is then x ⊙ cos + (x·R) ⊙ sin: one plain 2-D
 * matMul (exact: every output is one input times ±1) and element-wise products, no strided split or concat.
 */
export interface RopeTables {
  readonly style: RopeStyle;
  readonly cos: tf.Tensor3D;
  readonly sin: tf.Tensor3D;
  readonly rotation: tf.Tensor2D;
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
 * Pair i is dimensions (2i, 2i+1) (normal) or (i, i + d/2) (neox); see {@link RopeTables} for the layout.
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
  const first = (i: number) => (style === "normal" ? 2 * i : i);
  const second = (i: number) => (style === "normal" ? 2 * i + 1 : i + half);
  const cos = new Float32Array(length * headDim);
  const sin = new Float32Array(length * headDim);
  for (let pos = 0; pos < length; pos += 1) {
    let theta = f(pos);
    for (let i = 0; i < half; i += 1) {
      const extrapolated = f(theta / (factors?.[i] ?? 1));
      const interpolated = f(freqScale * extrapolated);
      const mix = yarn?.[i] ?? 0;
      const angle = mix === 0 ? interpolated : f(f(interpolated * (1 - mix)) + f(extrapolated * mix));
      const c = Math.cos(angle) * mscale;
      const si = Math.sin(angle) * mscale;
      cos[pos * headDim + first(i)] = c;
      cos[pos * headDim + second(i)] = c;
      sin[pos * headDim + first(i)] = si;
      sin[pos * headDim + second(i)] = si;
      theta = f(theta * thetaScale);
    }
  }
  const rotation = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i += 1) {
    const a = first(i);
    const b = second(i);
    rotation[b * headDim + a] = -1; // (x·R)[a] = −x[b]
    rotation[a * headDim + b] = 1; // (x·R)[b] = x[a]
  }
  const shape: [number, number, number] = [length, 1, headDim];
  return {
    style,
    cos: tf.tensor3d(cos, shape),
    sin: tf.tensor3d(sin, shape),
    rotation: tf.tensor2d(rotation, [headDim, headDim]),
  };
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
 * (a·cos θ − b·sin θ, a·sin θ + b·cos θ), computed as x ⊙ cos + (x·R) ⊙ sin (see {@link RopeTables}).
 * Differentiable with plain kernels (matMul, multiply, add), and bit-identical to the pairwise formula.
 */
export function applyRope(x: tf.Tensor4D, tables: RopeTables): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, seq, heads, headDim] = x.shape;
    const rows: tf.Tensor2D = tf.reshape(x, [batch * seq * heads, headDim]);
    const rotated = tf.reshape(tf.matMul(rows, tables.rotation), [batch, seq, heads, headDim]);
    return tf.add(tf.mul(x, tables.cos), tf.mul(rotated, tables.sin));
  });
}

/** Frees the tables. */
export function disposeRopeTables(tables: RopeTables): void {
  tables.cos.dispose();
  tables.sin.dispose();
  tables.rotation.dispose();
}
