// The policy-gradient objective of RL-CAI: advantages within each prompt's group of k samples (RLOO's
// leave-one-out baseline, or GRPO's group normalisation), the KL penalty to the reference folded into the
// reward, PPO's clipped importance ratio per token, and the adaptive KL controller. Numbers in, numbers
// out, except the surrogate loss, which is a tfjs scalar with a hand-written gradient.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";

/** How advantages are computed within a group of samples for one prompt. */
export type AdvantageEstimator = "rloo" | "grpo";

/**
 * RLOO (Ahmadian et al. 2024): each sample's reward minus the mean reward of the other k − 1 samples for
 * the same prompt — an unbiased baseline without a value model. Needs k ≥ 2.
 */
export function rlooAdvantages(rewards: readonly number[]): number[] {
  const k = rewards.length;
  if (k < 2) throw new CaiError(`RLOO needs at least two samples per prompt, not ${k}`);
  const total = rewards.reduce((sum, r) => sum + r, 0);
  return rewards.map((r) => r - (total - r) / (k - 1));
}

/**
 * GRPO (Shao et al. 2024): each sample's reward minus the group's mean, divided by the group's standard
 * deviation (the sample one, n − 1, as TRL computes it) plus `epsilon`, so a group of equal rewards has
 * advantages 0. Needs k ≥ 2.
 */
export function grpoAdvantages(rewards: readonly number[], epsilon = 1e-4): number[] {
  const k = rewards.length;
  if (k < 2) throw new CaiError(`GRPO needs at least two samples per prompt, not ${k}`);
  const mean = rewards.reduce((sum, r) => sum + r, 0) / k;
  const variance = rewards.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (k - 1);
  const scale = Math.sqrt(variance) + epsilon;
  return rewards.map((r) => (r - mean) / scale);
}

/** The advantages of one group by `estimator`. */
export function groupAdvantages(estimator: AdvantageEstimator, rewards: readonly number[]): number[] {
  return estimator === "rloo" ? rlooAdvantages(rewards) : grpoAdvantages(rewards);
}

/**
 * The per-token KL estimate of a sampled sequence, log π_old(t) − log π_ref(t) (the k1 estimator TRL's
 * RLOO and PPO trainers put in the reward), summed over its tokens.
 */
export function sequenceKl(policyLogprobs: readonly number[], referenceLogprobs: readonly number[]): number {
  if (policyLogprobs.length !== referenceLogprobs.length)
    throw new CaiError(
      `${policyLogprobs.length} policy log-probabilities for ${referenceLogprobs.length} reference ones`,
    );
  let kl = 0;
  for (let i = 0; i < policyLogprobs.length; i += 1)
    kl += (policyLogprobs[i] as number) - (referenceLogprobs[i] as number);
  return kl;
}

/** The reward the policy is optimised for: the score minus `klCoef` times the sequence's KL estimate. */
export function penalisedReward(score: number, kl: number, klCoef: number): number {
  return score - klCoef * kl;
}

/** The importance ratio clipped to [1 − ε, 1 + ε]. */
export function clipRatio(ratio: number, epsilon: number): number {
  return Math.min(Math.max(ratio, 1 - epsilon), 1 + epsilon);
}

/**
 * PPO's per-token objective min(r·A, clip(r, 1 − ε, 1 + ε)·A) (to maximise), and whether the clipped side
 * is the one taken — where the gradient is zero: r > 1 + ε with A > 0, or r < 1 − ε with A < 0.
 */
export function clippedObjective(
  ratio: number,
  advantage: number,
  epsilon: number,
): { value: number; clipped: boolean } {
  const unclipped = ratio * advantage;
  const clipped = clipRatio(ratio, epsilon) * advantage;
  return clipped < unclipped ? { value: clipped, clipped: true } : { value: unclipped, clipped: false };
}

/** One sampled sequence as the surrogate loss sees it. */
export interface SurrogateSequence {
  /** log π_old of each sampled token (the policy that sampled it, recomputed by the trainer). */
  readonly oldLogprobs: readonly number[];
  /** The sequence's advantage, the same for each of its tokens. */
  readonly advantage: number;
}

/** What one evaluation of the surrogate saw, for the step's log. */
export interface SurrogateStats {
  /** Tokens whose clipped side was taken. */
  clippedTokens: number;
  tokens: number;
  /** The largest |r − 1| over the tokens. */
  maxRatioDeviation: number;
}

/**
 * The clipped surrogate loss of one sequence: −(1/n) Σ_t min(r_t·A, clip(r_t)·A) with
 * r_t = exp(log π(t) − log π_old(t)), from `logprobs` (log π of its n sampled tokens, differentiable).
 * The gradient, −(1/n)·A·r_t·∂log π(t) on unclipped tokens and 0 on clipped ones, is written by hand
 * (`tf.customGrad`): tfjs-core registers no gradient for Exp, Minimum or ClipByValue, and the choice of
 * side is a branch on the forward values. `stats`, when given, is incremented with what the tokens did.
 */
export function surrogateLoss(
  logprobs: tf.Tensor1D,
  sequence: SurrogateSequence,
  epsilon: number,
  stats?: SurrogateStats,
): tf.Scalar {
  const n = sequence.oldLogprobs.length;
  if (logprobs.shape[0] !== n)
    throw new CaiError(`${logprobs.shape[0]} log-probabilities for ${n} sampled tokens`);
  if (n === 0) throw new CaiError("a sampled sequence has no tokens to train on");
  if (!(epsilon > 0 && epsilon < 1)) throw new CaiError(`the clip range ε must be in (0, 1), not ${epsilon}`);
  const loss = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => {
    const current = (x as tf.Tensor).dataSync();
    const slopes = new Float32Array(n);
    let objective = 0;
    for (let t = 0; t < n; t += 1) {
      const ratio = Math.exp((current[t] as number) - (sequence.oldLogprobs[t] as number));
      const { value, clipped } = clippedObjective(ratio, sequence.advantage, epsilon);
      objective += value;
      if (!clipped) slopes[t] = (-sequence.advantage * ratio) / n;
      if (stats) {
        stats.tokens += 1;
        if (clipped) stats.clippedTokens += 1;
        stats.maxRatioDeviation = Math.max(stats.maxRatioDeviation, Math.abs(ratio - 1));
      }
    }
    return {
      value: tf.scalar(-objective / n),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor1d(slopes)),
    };
  });
  return loss(logprobs) as tf.Scalar;
}

/** Options of {@link adaptiveKlCoef}. */
export interface AdaptiveKlOptions {
  /** The KL (per sequence, in nats) the controller steers toward. */
  readonly target: number;
  /** Samples over which the coefficient may change by a factor e^0.2. Default 10000 (TRL's). */
  readonly horizon?: number;
}

/**
 * The adaptive KL controller of Ziegler et al. (2019), as TRL implements it: after a batch of `samples`
 * sequences with mean KL `kl`, β ← β·(1 + clip((kl − target)/target, −0.2, 0.2)·samples/horizon).
 */
export function adaptiveKlCoef(
  coef: number,
  kl: number,
  samples: number,
  options: AdaptiveKlOptions,
): number {
  if (!(options.target > 0)) throw new CaiError(`the KL target must be positive, not ${options.target}`);
  const horizon = options.horizon ?? 10000;
  const error = Math.min(Math.max((kl - options.target) / options.target, -0.2), 0.2);
  return coef * (1 + (error * samples) / horizon);
}
