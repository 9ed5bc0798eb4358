// Direct Preference Optimization (Rafailov et al. 2023) of a LoRA adapter, with soft labels: the policy is
// the base model plus the adapter, the frozen reference is the base model alone (its log-probabilities are
// computed once, as plain numbers), and each pair's target t ∈ [0, 1] allows label smoothing
// (conservative DPO) or AI-feedback preference probabilities.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { type LoraAdapter, loraVariables } from "../model/lora.js";
import { tokenLogprobs } from "../model/transformer.js";
import type { TransformerWeights } from "../model/weights.js";
import { softPreferenceLoss } from "./preference-loss.js";
import { AdamW, type AdamWOptions, optimizerStep, type SftExample } from "./sft.js";

/** One preference pair: two responses to the same prompt, as masked sequences (mask = the response). */
export interface DpoPair {
  /** The preferred sequence; its loss mask selects the response tokens. */
  readonly chosen: SftExample;
  /** The dispreferred sequence, masked the same way. */
  readonly rejected: SftExample;
  /**
   * Probability that `chosen` is really better. Default 1 (standard DPO); e.g. 0.9 for label smoothing
   * (conservative DPO) or a soft AI-feedback label; 0.5 says nothing.
   */
  readonly target?: number;
}

/** The frozen reference model's summed log-probabilities of one pair's masked tokens. */
export interface ReferenceLogprobs {
  readonly chosen: number;
  readonly rejected: number;
}

/** Options of {@link dpoLoss}. */
export interface DpoOptions {
  /** β: the strength of the implicit KL penalty toward the reference (typically 0.1–0.5). */
  readonly beta: number;
}

/**
 * Σ log p(token | prefix) over the masked tokens of `example` (entry 0 of the mask is ignored), with
 * `lora` applied: a differentiable scalar. Throws when the mask selects nothing.
 */
export function sequenceLogprob(
  weights: TransformerWeights,
  example: SftExample,
  lora?: LoraAdapter,
): tf.Scalar {
  const mask = shiftedMask(example);
  return tf.tidy(() => {
    const logprobs = tokenLogprobs(weights, [example.tokens], lora);
    return tf.sum(tf.mul(logprobs, tf.tensor2d(mask, [1, mask.length])));
  });
}

/** The mask aligned with the log-prob positions (length seq − 1), validated. */
function shiftedMask(example: SftExample): number[] {
  const seq = example.tokens.length;
  if (seq < 2) throw new CaiError("DPO needs sequences of at least two tokens");
  if (example.lossMask.length !== seq)
    throw new CaiError(`a loss mask has ${example.lossMask.length} entries for ${seq} tokens`);
  const mask = example.lossMask.slice(1).map((m) => {
    if (m !== 0 && m !== 1) throw new CaiError(`loss mask entries must be 0 or 1, not ${m}`);
    return m;
  });
  if (!mask.includes(1)) throw new CaiError("the loss mask selects no token to score");
  return mask;
}

/**
 * The reference model's (base weights, no adapter) summed masked log-probabilities of every pair, read
 * back as plain numbers: compute them once, before training, and pass them to every {@link dpoLoss}.
 */
export function referenceLogprobs(
  weights: TransformerWeights,
  pairs: readonly DpoPair[],
): ReferenceLogprobs[] {
  const read = (example: SftExample): number =>
    tf.tidy(() => sequenceLogprob(weights, example).dataSync()[0] ?? Number.NaN);
  return pairs.map((pair) => ({ chosen: read(pair.chosen), rejected: read(pair.rejected) }));
}

/**
 * The DPO margins m_i = β · [(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))] of `pairs` under the
 * policy (base + `lora`): differentiable, [pairs]. β · (log π − log π_ref) is DPO's implicit reward, so the
 * margin is the implicit reward difference; σ(m) is the policy's implied preference probability.
 */
export function dpoMargins(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  pairs: readonly DpoPair[],
  reference: readonly ReferenceLogprobs[],
  options: DpoOptions,
): tf.Tensor1D {
  if (pairs.length === 0) throw new CaiError("DPO needs at least one preference pair");
  if (reference.length !== pairs.length)
    throw new CaiError(`${reference.length} reference log-probabilities for ${pairs.length} pairs`);
  if (!(options.beta > 0)) throw new CaiError(`DPO's beta must be positive, not ${options.beta}`);
  return tf.tidy(() => {
    // One forward pass per sequence (pairs may differ in length); Reshape and Concat have gradients.
    const margins = pairs.map((pair, i) => {
      const ref = reference[i] as ReferenceLogprobs;
      const chosen = sequenceLogprob(weights, pair.chosen, lora);
      const rejected = sequenceLogprob(weights, pair.rejected, lora);
      const logRatio = tf.sub(chosen, rejected);
      return tf.reshape(tf.mul(tf.sub(logRatio, ref.chosen - ref.rejected), options.beta), [1]);
    });
    // tf.concat of a single tensor is a clone (Identity), which has no registered gradient.
    const [only] = margins;
    return (margins.length === 1 && only ? only : tf.concat(margins)) as tf.Tensor1D;
  });
}

/**
 * The soft-label DPO loss: mean over pairs of −[t·log σ(m) + (1 − t)·log σ(−m)] with m from
 * {@link dpoMargins} and t the pair's target (default 1). Equals log 2 while the policy equals the
 * reference (m = 0). A scalar to differentiate with respect to the adapter's variables.
 */
export function dpoLoss(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  pairs: readonly DpoPair[],
  reference: readonly ReferenceLogprobs[],
  options: DpoOptions,
): tf.Scalar {
  const targets = pairs.map((pair) => pair.target ?? 1);
  return tf.tidy(() => softPreferenceLoss(dpoMargins(weights, lora, pairs, reference, options), targets));
}

/** A LoRA DPO trainer: its adapter's variables, their optimizer and β. */
export interface DpoTrainer {
  readonly weights: TransformerWeights;
  readonly lora: LoraAdapter;
  readonly optimizer: AdamW;
  readonly beta: number;
}

/** An AdamW optimizer over every variable of `lora`, ready for {@link dpoStep}. Dispose `trainer.optimizer` after. */
export function createDpoTrainer(
  weights: TransformerWeights,
  lora: LoraAdapter,
  options: DpoOptions & AdamWOptions,
): DpoTrainer {
  if (!(options.beta > 0)) throw new CaiError(`DPO's beta must be positive, not ${options.beta}`);
  return { weights, lora, optimizer: new AdamW(loraVariables(lora), options), beta: options.beta };
}

/**
 * One DPO step on one batch of pairs: the loss, its gradients with respect to the LoRA variables (the
 * base weights and the reference stay frozen) and an AdamW update. `reference` comes from
 * {@link referenceLogprobs} for the same pairs. Returns the loss before the update.
 */
export function dpoStep(
  trainer: DpoTrainer,
  pairs: readonly DpoPair[],
  reference: readonly ReferenceLogprobs[],
): number {
  return optimizerStep(trainer.optimizer, loraVariables(trainer.lora), () =>
    dpoLoss(trainer.weights, trainer.lora, pairs, reference, { beta: trainer.beta }),
  );
}
