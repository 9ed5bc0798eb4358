// LoRA adapters for the trainer: low-rank trainable updates on a block's projections, laid out like
// weights.ts ([in, out]) so the forward pass adds them with plain matMuls.
//
// Layout: a target projection W is stored [in, out] (y = x · W). Its adapter holds
//   a: [in, r]  (PyTorch's A [r, in], transposed)   — seeded normal · 1/√in
//   b: [r, out] (PyTorch's B [out, r], transposed)  — zeros, so a fresh adapter changes nothing
// and the projection becomes y = x · W + scale · (x · a) · b with scale = alpha / r, i.e.
// W_eff = W + scale · a · b = (W_pt + scale · B·A)ᵀ: exactly what llama.cpp applies for the exported file.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../errors/cai-error.js";
import { loraTargets } from "../gguf/lora-layout.js";
import { SeededRandom } from "../random/seeded-random.js";
import type { TransformerWeights } from "./weights.js";

export { loraTargets };

/** One LoRA target projection. */
export type LoraTarget = (typeof loraTargets)[number];

/** The `BlockWeights` keys of the projections LoRA can adapt. */
export type ProjectionKey = "wq" | "wk" | "wv" | "wo" | "wGate" | "wUp" | "wDown";

/** The `BlockWeights` key of each target's base projection. */
export const loraTargetWeights: Readonly<Record<LoraTarget, ProjectionKey>> = {
  attn_q: "wq",
  attn_k: "wk",
  attn_v: "wv",
  attn_output: "wo",
  ffn_gate: "wGate",
  ffn_up: "wUp",
  ffn_down: "wDown",
};

/** Options of {@link createLora}. */
export interface LoraOptions {
  /** Rank r of every update. Default 8. */
  readonly rank?: number;
  /** LoRA alpha: updates are scaled by alpha / rank. Default: the rank (scale 1). */
  readonly alpha?: number;
  /** Projections to adapt. Default: all seven of {@link loraTargets}. */
  readonly targets?: readonly LoraTarget[];
  /** Seed of A's initialisation. Default 0. */
  readonly seed?: number;
}

/** The two trainable factors of one adapted projection (see the file header for the layout). */
export interface LoraPair {
  /** [in, r]. */
  readonly a: tf.Variable<tf.Rank.R2>;
  /** [r, out]. */
  readonly b: tf.Variable<tf.Rank.R2>;
}

/** The adapted projections of one block, by target. */
export type BlockLora = Readonly<Partial<Record<LoraTarget, LoraPair>>>;

/** A LoRA adapter over a whole model: one {@link BlockLora} per transformer block. */
export interface LoraAdapter {
  readonly rank: number;
  readonly alpha: number;
  /** alpha / rank, the factor the forward pass multiplies the update by. */
  readonly scale: number;
  readonly targets: readonly LoraTarget[];
  readonly blocks: readonly BlockLora[];
}

/**
 * A fresh adapter for `weights`: A seeded-random (normal · 1/√in), B zeros (the standard initialisation,
 * so the adapted model starts equal to the base). Free it with {@link disposeLora}.
 */
export function createLora(weights: TransformerWeights, options: LoraOptions = {}): LoraAdapter {
  const rank = options.rank ?? 8;
  const alpha = options.alpha ?? rank;
  const targets = [...new Set(options.targets ?? loraTargets)];
  const seed = options.seed ?? 0;
  if (!Number.isInteger(rank) || rank < 1)
    throw new CaiError(`LoRA rank must be a positive integer, not ${rank}`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new CaiError(`LoRA alpha must be positive, not ${alpha}`);
  for (const target of targets)
    if (!(loraTargets as readonly string[]).includes(target))
      throw new CaiError(`unknown LoRA target ${target}; use ${loraTargets.join(", ")}`);
  const made: tf.Variable[] = [];
  try {
    const blocks = weights.blocks.map((block, index) => {
      const adapted: Partial<Record<LoraTarget, LoraPair>> = {};
      for (const target of targets) {
        const [inputs, outputs] = block[loraTargetWeights[target]].shape;
        // One independent stream per (block, target), so changing the targets keeps the others' init.
        const random = new SeededRandom(seed * 1000003 + index * 101 + loraTargets.indexOf(target));
        const a = tf.variable(
          tf.tensor2d(random.normals(inputs * rank, 1 / Math.sqrt(inputs)), [inputs, rank]),
        );
        made.push(a);
        const b = tf.variable(tf.zeros<tf.Rank.R2>([rank, outputs]));
        made.push(b);
        adapted[target] = { a, b };
      }
      return adapted;
    });
    return { rank, alpha, scale: alpha / rank, targets, blocks };
  } catch (error) {
    for (const v of made) v.dispose();
    throw error;
  }
}

/** Every trainable variable of `lora`, in a fixed order (block, then target order, then a before b). */
export function loraVariables(lora: LoraAdapter): tf.Variable[] {
  const variables: tf.Variable[] = [];
  for (const block of lora.blocks)
    for (const target of loraTargets) {
      const pair = block[target];
      if (pair) variables.push(pair.a, pair.b);
    }
  return variables;
}

/** Frees every variable of `lora`. */
export function disposeLora(lora: LoraAdapter): void {
  for (const v of loraVariables(lora)) v.dispose();
}

/**
 * x · W (+ bias), plus scale · (x · a) · b when `pair` is given. Without a pair this is exactly the base
 * projection (same ops), so a model without LoRA computes what it did before.
 */
export function loraProject(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias?: tf.Tensor1D,
  pair?: LoraPair,
  scale = 1,
): tf.Tensor2D {
  let y: tf.Tensor2D = tf.matMul(x, weight);
  if (pair) {
    const update: tf.Tensor2D = tf.matMul(tf.matMul(x, pair.a), pair.b);
    y = tf.add(y, scale === 1 ? update : tf.mul(update, scale));
  }
  return bias ? tf.add(y, bias) : y;
}
