// Soft-target pairwise preference losses (Bradley–Terry; the same form DPO uses on its implicit reward
// margin) and pure-number held-out metrics: preference accuracy and calibration (expected calibration error).
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";

/**
 * log σ(x), elementwise, numerically stable and differentiable on every backend: the forward pass is
 * min(x, 0) − log(1 + e^(−|x|)) (= −softplus(−x), never overflows), and the gradient σ(−x) is given by
 * `tf.customGrad`, so no kernel of the forward pass needs a registered gradient (tfjs-core has none for
 * Log, Exp, Abs, Minimum or Softplus; see gradients.ts).
 */
export function logSigmoid<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args;
    if (!(input instanceof tf.Tensor) || typeof save !== "function")
      throw new Error("logSigmoid expects one tensor and tfjs's save function");
    save([input]);
    const value = tf.sub(tf.minimum(input, 0), tf.log(tf.add(tf.exp(tf.mul(tf.abs(input), -1)), 1)));
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs] = saved;
        if (xs === undefined) throw new Error("logSigmoid's gradient lost its saved input");
        return tf.mul(dy, tf.sigmoid(tf.mul(xs, -1)));
      },
    };
  });
  return op(x) as T;
}

/**
 * Mean over pairs of −[t·log σ(m) + (1 − t)·log σ(−m)]: the cross-entropy between the soft label t
 * (the probability that the first item is preferred) and the model's σ(m). Shared by
 * {@link bradleyTerryLoss} (m = score difference) and DPO (m = β · log-ratio difference).
 * Only kernels with registered gradients (Multiply, Add, Sum) plus {@link logSigmoid}.
 */
export function softPreferenceLoss(margins: tf.Tensor1D, targets: readonly number[]): tf.Scalar {
  const n = margins.shape[0];
  if (n === 0) throw new CaiError("a preference loss needs at least one pair");
  checkTargets(targets, n);
  return tf.tidy(() => {
    const t = tf.tensor1d(Array.from(targets));
    const notT = tf.tensor1d(targets.map((value) => 1 - value));
    const terms = tf.add(tf.mul(logSigmoid(margins), t), tf.mul(logSigmoid(tf.mul(margins, -1)), notT));
    return tf.mul(tf.sum(terms), -1 / n);
  });
}

/**
 * The soft-target Bradley–Terry loss of a preference (reward) model:
 * mean −[t·log σ(s_c − s_r) + (1 − t)·log σ(s_r − s_c)], where `targets[i]` is the probability that the
 * chosen response of pair i is better (1 for a hard label, e.g. 0.7 for an AI-feedback soft label).
 */
export function bradleyTerryLoss(
  scoreChosen: tf.Tensor1D,
  scoreRejected: tf.Tensor1D,
  targets: readonly number[],
): tf.Scalar {
  if (scoreChosen.shape[0] !== scoreRejected.shape[0])
    throw new CaiError(
      `Bradley–Terry needs as many chosen as rejected scores (${scoreChosen.shape[0]} vs ${scoreRejected.shape[0]})`,
    );
  return tf.tidy(() => softPreferenceLoss(tf.sub(scoreChosen, scoreRejected), targets));
}

function checkTargets(targets: readonly number[], n: number): void {
  if (targets.length !== n) throw new CaiError(`${targets.length} preference targets for ${n} pairs`);
  for (const t of targets)
    if (!(t >= 0 && t <= 1)) throw new CaiError(`preference targets are probabilities in [0, 1], not ${t}`);
}

/** σ(x) for a plain number, without overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * The fraction of pairs the model orders as the label does: margin > 0 where the target is > 0.5,
 * margin < 0 where it is < 0.5; a zero margin counts as half right. Pairs whose target is exactly 0.5
 * (no preferred side) are skipped. `targets` defaults to all 1 (hard labels). NaN when no pair is decisive.
 */
export function preferenceAccuracy(margins: readonly number[], targets?: readonly number[]): number {
  const labels = targets ?? margins.map(() => 1);
  checkTargets(labels, margins.length);
  let right = 0;
  let counted = 0;
  margins.forEach((m, i) => {
    const t = labels[i] ?? 1;
    if (t === 0.5) return;
    counted += 1;
    if (m === 0) right += 0.5;
    else if (m > 0 === t > 0.5) right += 1;
  });
  return counted === 0 ? Number.NaN : right / counted;
}

/** One bin of a {@link CalibrationSummary}'s reliability diagram. */
export interface CalibrationBin {
  /** Lower edge of σ(margin) in this bin (inclusive). */
  readonly lower: number;
  /** Upper edge (exclusive, except the last bin's 1). */
  readonly upper: number;
  /** How many pairs fell in the bin. */
  readonly count: number;
  /** Mean predicted probability σ(margin) of the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Mean target (the observed preference rate) of the bin (NaN when empty). */
  readonly meanTarget: number;
}

/** How well σ(margin) matches the preference labels on held-out pairs. */
export interface CalibrationSummary {
  /** Number of pairs. */
  readonly count: number;
  /** Expected calibration error: Σ_b (n_b / N) · |mean σ(m) − mean t| over the bins. */
  readonly expectedCalibrationError: number;
  /** Mean (σ(m) − t)². */
  readonly brierScore: number;
  /** Mean −[t·log σ(m) + (1 − t)·log σ(−m)], the loss the models are trained on. */
  readonly logLoss: number;
  /** The reliability diagram, equal-width bins over [0, 1] of σ(margin). */
  readonly bins: readonly CalibrationBin[];
}

/**
 * Calibration of the predicted preference probability p = σ(margin) (margin = s_c − s_r for a preference
 * model, the DPO implicit-reward margin for a policy) against the targets (hard 0/1 or soft labels; the
 * bin's mean target is its observed rate). `targets` defaults to all 1; `bins` defaults to 10.
 */
export function calibrationSummary(
  margins: readonly number[],
  targets?: readonly number[],
  options: { readonly bins?: number } = {},
): CalibrationSummary {
  const binCount = options.bins ?? 10;
  if (!Number.isInteger(binCount) || binCount < 1)
    throw new CaiError(`calibration needs a positive whole number of bins, not ${binCount}`);
  const labels = targets ?? margins.map(() => 1);
  checkTargets(labels, margins.length);
  const n = margins.length;
  if (n === 0) throw new CaiError("calibration needs at least one pair");
  const sums = Array.from({ length: binCount }, () => ({ count: 0, predicted: 0, target: 0 }));
  let brier = 0;
  let logLoss = 0;
  margins.forEach((m, i) => {
    const t = labels[i] ?? 1;
    const p = sigmoid(m);
    const bin = sums[Math.min(binCount - 1, Math.floor(p * binCount))];
    if (bin === undefined) throw new Error("calibration bin out of range");
    bin.count += 1;
    bin.predicted += p;
    bin.target += t;
    brier += (p - t) ** 2;
    logLoss -= t * logSigmoidNumber(m) + (1 - t) * logSigmoidNumber(-m);
  });
  const bins = sums.map(
    (s, b): CalibrationBin => ({
      lower: b / binCount,
      upper: (b + 1) / binCount,
      count: s.count,
      meanPredicted: s.count === 0 ? Number.NaN : s.predicted / s.count,
      meanTarget: s.count === 0 ? Number.NaN : s.target / s.count,
    }),
  );
  const ece = sums.reduce((acc, s) => acc + (s.count === 0 ? 0 : Math.abs(s.predicted - s.target) / n), 0);
  return { count: n, expectedCalibrationError: ece, brierScore: brier / n, logLoss: logLoss / n, bins };
}

/** log σ(x) for a plain number: −softplus(−x), stable for large |x|. */
export function logSigmoidNumber(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}
