// LoRA adapters for the trainer: low-rank trainable updates on a block's projections, laid out like
// weights.ts ([in, out]) so the forward pass adds them with plain matMuls.
//
// Layout: a target projection W is stored [in, out] (y = x · W). Its adapter holds
//   a: [in, r]  (PyTorch's A [r, in], transposed)   — seeded normal · 1/√in
//   b: [r, out] (PyTorch's B [out, r], transposed)  — zeros, so a fresh adapter changes nothing
// and the projection becomes y = x · W + scale · (x · a) · b with scale = alpha / r, i.e.
// W_eff = W + scale · a · b = (W_pt + scale · B·A)ᵀ: exactly what llama.cpp applies for the exported file.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { loraTargets } from "../../gguf/lora-layout.js";
import { SeededRandom } from "../../random/seeded-random.js";
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
  /**
   * Dropout probability on each adapted projection's input to the update (as PEFT's `lora_dropout`):
   * applied only inside {@link withLoraDropout}, i.e. during training steps. Default 0.
   */
  readonly dropout?: number;
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
  /** Dropout probability of the update's input while training (0: none). */
  readonly dropout: number;
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
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new CaiError(`LoRA dropout must be in [0, 1), not ${dropout}`);
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
    return { rank, alpha, scale: alpha / rank, targets, blocks, dropout };
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

/** The dropout in effect while {@link withLoraDropout} runs its function. */
let activeDropout: { rate: number; seed: number; calls: number } | undefined;

/**
 * Runs `fn` (a synchronous forward pass, e.g. a training loss) with LoRA dropout at `rate`: every
 * adapted projection's input to its update is multiplied by a fresh Bernoulli(1 − rate) mask / (1 − rate),
 * as PEFT does. The masks are drawn from `seed` and the projection's call order, so a step's masks are the
 * same on every run (checkpoint resume stays exact). Outside this function no dropout is applied.
 * Written here rather than with `tf.dropout` so the seed is explicit and each projection gets its own.
 */
export function withLoraDropout<T>(rate: number, seed: number, fn: () => T): T {
  if (rate <= 0) return fn();
  const previous = activeDropout;
  activeDropout = { rate, seed, calls: 0 };
  try {
    return fn();
  } finally {
    activeDropout = previous;
  }
}

/** A seed for the dropout masks of one micro-batch of one training step. */
export function dropoutSeed(seed: number, step: number, microBatch: number): number {
  return (
    (Math.imul(seed | 0, 0x27d4eb2d) ^
      Math.imul(step + 1, 0x165667b1) ^
      Math.imul(microBatch + 1, 0x3c6ef35f)) >>>
    0
  );
}

/** Where the dropout stream stands: what {@link replayLoraDropout} needs to draw the same masks again. */
export interface LoraDropoutSnapshot {
  readonly rate: number;
  readonly seed: number;
  readonly calls: number;
}

/**
 * The state of the active dropout (undefined outside {@link withLoraDropout}): taken before a part of the
 * forward pass that will be recomputed (activation checkpointing), so the recomputation draws the same masks.
 */
export function loraDropoutSnapshot(): LoraDropoutSnapshot | undefined {
  return activeDropout === undefined ? undefined : { ...activeDropout };
}

/**
 * Runs `fn` with the dropout stream at `snapshot` (none when undefined), then restores the stream as it was:
 * a recomputation of the projections run after the snapshot was taken draws exactly their masks again.
 */
export function replayLoraDropout<T>(snapshot: LoraDropoutSnapshot | undefined, fn: () => T): T {
  const previous = activeDropout;
  activeDropout = snapshot === undefined ? undefined : { ...snapshot };
  try {
    return fn();
  } finally {
    activeDropout = previous;
  }
}

/** `x` with the active dropout applied (a new mask per call), or `x` itself when none is active. */
function dropped(x: tf.Tensor2D): tf.Tensor2D {
  const active = activeDropout;
  if (active === undefined) return x;
  active.calls += 1;
  const keep = 1 - active.rate;
  const noise = tf.randomUniform(
    x.shape,
    0,
    1,
    "float32",
    (active.seed + Math.imul(active.calls, 0x9e3779b1)) >>> 0,
  );
  const mask = tf.mul(tf.cast(tf.greaterEqual(noise, active.rate), "float32"), 1 / keep);
  return tf.mul(x, mask);
}

/**
 * x · W (+ bias), plus scale · (x · a) · b when `pair` is given (x dropped out inside {@link withLoraDropout}).
 * Without a pair this is exactly the base projection (same ops), so a model without LoRA computes what it
 * did before. `product` computes x · W (default `tf.matMul`; the transformer passes a frozen-weight product
 * with the same value and a cheaper gradient when W is not trained).
 */
export function loraProject(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias?: tf.Tensor1D,
  pair?: LoraPair,
  scale = 1,
  product: (x: tf.Tensor2D, weight: tf.Tensor2D) => tf.Tensor2D = tf.matMul,
): tf.Tensor2D {
  let y: tf.Tensor2D = product(x, weight);
  if (pair) {
    const update: tf.Tensor2D = tf.matMul(tf.matMul(dropped(x), pair.a), pair.b);
    y = tf.add(y, scale === 1 ? update : tf.mul(update, scale));
  }
  return bias ? tf.add(y, bias) : y;
}
