// Folds a LoRA adapter into its base: W' = W + scale · a · b for every adapted projection (the layout of
// lora.ts), giving plain weights that can be written as a GGUF model — what serves or trains further
// without the adapter (DPO on an SL-CAI model, for one).
import * as tf from "@tensorflow/tfjs-core";
import { type LoraAdapter, loraTargets, loraTargetWeights } from "../model/lora.js";
import type { BlockWeights, TransformerWeights } from "../model/weights.js";

/**
 * New weights with `lora` folded in. Adapted projections are new tensors; every other tensor is shared
 * with `weights`, so free the result with {@link disposeMerged} (never `disposeWeights`) and keep
 * `weights` alive while the result is in use.
 */
export function mergeLora(weights: TransformerWeights, lora: LoraAdapter): TransformerWeights {
  const blocks = weights.blocks.map((block, index): BlockWeights => {
    const adapted = lora.blocks[index] ?? {};
    const merged: Record<string, tf.Tensor2D> = {};
    for (const target of loraTargets) {
      const pair = adapted[target];
      if (!pair) continue;
      const key = loraTargetWeights[target];
      merged[key] = tf.tidy(() => tf.add(block[key], tf.mul(tf.matMul(pair.a, pair.b), lora.scale)));
    }
    return { ...block, ...merged };
  });
  return { ...weights, blocks };
}

/** Frees the tensors {@link mergeLora} made (the merged projections), leaving the shared ones. */
export function disposeMerged(merged: TransformerWeights, base: TransformerWeights): void {
  merged.blocks.forEach((block, index) => {
    const original = base.blocks[index];
    for (const key of Object.values(loraTargetWeights))
      if (original && block[key] !== original[key]) block[key].dispose();
  });
}
