// Rotary position embedding (RoPE) as llama.cpp applies it, in its two pairings: GGML "normal"
// (adjacent pairs, llama/mistral GGUFs) and NEOX (first half with second half, qwen2).
import * as tf from "@tensorflow/tfjs-core";
import type { RopeStyle } from "./model-config.js";

/** cos θ and sin θ for every position and pair, shaped to broadcast against grouped heads. */
export interface RopeTables {
  readonly style: RopeStyle;
  readonly cos: tf.Tensor4D;
  readonly sin: tf.Tensor4D;
}

/**
 * The tables for positions 0…length−1 of heads of `headDim` dimensions: θ(pos, i) = pos · base^(−2i/d)
 * for pair i < d/2. Shape [length, 1, d/2, 1] (normal) or [length, 1, 1, d/2] (neox).
 */
export function ropeTables(length: number, headDim: number, freqBase: number, style: RopeStyle): RopeTables {
  const half = headDim / 2;
  const cos = new Float32Array(length * half);
  const sin = new Float32Array(length * half);
  for (let pos = 0; pos < length; pos += 1) {
    for (let i = 0; i < half; i += 1) {
      const theta = pos * freqBase ** ((-2 * i) / headDim);
      cos[pos * half + i] = Math.cos(theta);
      sin[pos * half + i] = Math.sin(theta);
    }
  }
  const shape: [number, number, number, number] =
    style === "normal" ? [length, 1, half, 1] : [length, 1, 1, half];
  return { style, cos: tf.tensor4d(cos, shape), sin: tf.tensor4d(sin, shape) };
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
