// The reward model on the generated tiny model: the soft-target Bradley–Terry loss against values computed
// by hand from forwardHidden's rows, padded batches scoring like single sequences, gradients of the head and
// the adapter against finite differences, and the acceptance test — trained with trainLoop on a separable
// synthetic preference set, it orders ≥ 95% of held-out pairs correctly.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SeededRandom } from "../../random/seeded-random.js";
import { testModel } from "../../test-support/test-models.js";
import { trainLoop } from "../loop/train-loop.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, type LoraAdapter, loraVariables } from "../model/lora.js";
import { forwardHidden } from "../model/transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import type { DpoPair } from "../objectives/dpo.js";
import type { SftExample } from "../objectives/sft.js";
import {
  createRewardHead,
  disposeRewardHead,
  evaluateRewardModel,
  type RewardHead,
  rewardLoss,
  rewardMargins,
  rewardObjective,
  rewardScores,
} from "./reward-model.js";

function example(tokens: number[]): SftExample {
  return { tokens, lossMask: tokens.map((_, i) => (i === 0 ? 0 : 1)) };
}

/** −[t·log σ(d) + (1 − t)·log σ(−d)] in double precision. */
function pairLoss(d: number, t: number): number {
  const logSig = (x: number): number => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
  return -(t * logSig(d) + (1 - t) * logSig(-d));
}

/**
 * A separable preference set: a random sequence with one "good" token (400–409) at a random position is
 * preferred to the same sequence with a "bad" token (410–419) there. Half the pairs are stored swapped with
 * the complementary soft target (0.1 instead of 0.9), so both sides of the soft label are exercised.
 */
function syntheticPairs(count: number, seed: number): DpoPair[] {
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = 5 + random.int(6);
    const body = Array.from({ length }, () => 20 + random.int(300));
    const at = 1 + random.int(length - 1);
    const good = [1, ...body];
    const bad = [1, ...body];
    good[at] = 400 + random.int(10);
    bad[at] = 410 + random.int(10);
    return random.next() < 0.5
      ? { chosen: example(good), rejected: example(bad), target: 0.9 }
      : { chosen: example(bad), rejected: example(good), target: 0.1 };
  });
}

describe("reward model (tiny)", () => {
  let weights: TransformerWeights;
  let lora: LoraAdapter;
  let head: RewardHead;

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await testModel());
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 2 });
    head = createRewardHead(weights.config.embeddingLength, { seed: 3 });
  });
  afterAll(() => {
    if (head) disposeRewardHead(head);
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  const pairs: DpoPair[] = [
    { chosen: example([1, 313, 333, 330, 440]), rejected: example([1, 313, 333, 330, 300, 301, 302]) },
    { chosen: example([1, 290, 305]), rejected: example([1, 290, 412, 346, 360]), target: 0.7 },
    { chosen: example([1, 50, 60, 70, 80, 90]), rejected: example([1, 51]), target: 0.2 },
  ];

  /** w · h_last + b from forwardHidden's last row of the sequence alone, in double precision. */
  function handScore(tokens: readonly number[]): number {
    const hidden = forwardHidden(weights, [tokens], lora);
    const rows = hidden.arraySync();
    hidden.dispose();
    const last = rows[tokens.length - 1] as number[];
    const w = head.w.arraySync();
    return last.reduce((acc, h, i) => acc + h * (w[i] as number), 0) + head.b.arraySync();
  }

  it("computes the soft-target Bradley–Terry loss of w · h_last + b (hand-computed, zero LoRA)", () => {
    const margins = pairs.map((p) => handScore(p.chosen.tokens) - handScore(p.rejected.tokens));
    expect(Math.max(...margins.map(Math.abs))).toBeGreaterThan(1e-3); // the random head tells them apart
    const expected = pairs.reduce((acc, p, i) => acc + pairLoss(margins[i] as number, p.target ?? 1), 0) / 3;
    const loss = tf.tidy(() => rewardLoss(weights, lora, head, pairs).dataSync()[0] as number);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5);
    const ours = tf.tidy(() => Array.from(rewardMargins(weights, lora, head, pairs).dataSync()));
    ours.forEach((m, i) => {
      expect(Math.abs(m - (margins[i] as number))).toBeLessThan(1e-5);
    });
  });

  it("scores a padded batch as it scores each sequence alone", () => {
    const sequences = pairs.flatMap((p) => [p.chosen.tokens, p.rejected.tokens]);
    const batched = tf.tidy(() => Array.from(rewardScores(weights, lora, head, sequences).dataSync()));
    sequences.forEach((tokens, i) => {
      const alone = tf.tidy(() => rewardScores(weights, lora, head, [tokens]).dataSync()[0] as number);
      expect(Math.abs((batched[i] as number) - alone)).toBeLessThan(1e-5);
      expect(Math.abs(alone - handScore(tokens))).toBeLessThan(1e-5);
    });
  });

  it("has the gradients of finite differences, for the head and the adapter", () => {
    // Move B off zero first so the adapter's A also has a gradient.
    const random = new SeededRandom(4);
    const variables = [...loraVariables(lora), head.w, head.b];
    const saved = variables.map((v) => tf.clone(v));
    try {
      for (const v of loraVariables(lora)) v.assign(tf.tensor(random.normals(v.size, 0.02), v.shape));
      const { value, grads } = tf.variableGrads(() => rewardLoss(weights, lora, head, pairs), variables);
      value.dispose();
      const lossAt = (): number =>
        tf.tidy(() => rewardLoss(weights, lora, head, pairs).dataSync()[0] as number);
      const firstA = loraVariables(lora)[0] as tf.Variable;
      const lastB = loraVariables(lora).at(-1) as tf.Variable;
      // b shifts both scores alike: the Bradley–Terry loss depends on score differences only.
      expect((grads[head.b.name] as tf.Tensor).dataSync()[0]).toBe(0);
      for (const v of [head.w, firstA, lastB]) {
        const g = (grads[v.name] as tf.Tensor).dataSync();
        // The entry with the largest gradient: its finite difference stands out of float32 noise.
        let index = 0;
        g.forEach((x, i) => {
          if (Math.abs(x) > Math.abs(g[index] as number)) index = i;
        });
        const h = 1e-2;
        const original = v.dataSync().slice();
        const nudged = (delta: number): number => {
          const values = original.slice();
          values[index] = (values[index] as number) + delta;
          v.assign(tf.tensor(values, v.shape));
          return lossAt();
        };
        const numeric = (nudged(h) - nudged(-h)) / (2 * h);
        v.assign(tf.tensor(original, v.shape));
        const analytic = g[index] as number;
        expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
        expect(Math.abs(numeric - analytic)).toBeLessThan(2e-3 * Math.max(1, Math.abs(analytic)) + 1e-4);
      }
      tf.dispose(grads);
    } finally {
      variables.forEach((v, i) => {
        v.assign(saved[i] as tf.Tensor);
      });
      tf.dispose(saved);
    }
  });

  it("learns a separable preference rule to ≥ 95% held-out accuracy (trainLoop, soft targets)", async () => {
    const train = syntheticPairs(256, 10);
    const held = syntheticPairs(100, 11);
    const rmLora = createLora(weights, { rank: 4, alpha: 8, seed: 7 });
    const rmHead = createRewardHead(weights.config.embeddingLength, { seed: 7 });
    const objective = rewardObjective(weights, rmLora, rmHead, { weightDecay: 0 });
    try {
      const before = evaluateRewardModel(weights, rmLora, rmHead, held);
      const result = await trainLoop({
        objective,
        examples: train,
        batchSize: 8,
        totalSteps: 120,
        learningRate: { peak: 1e-2, warmupSteps: 5 },
        maxGradNorm: 1,
        seed: 1,
      });
      const after = evaluateRewardModel(weights, rmLora, rmHead, held);
      console.log(
        `reward model (tiny): held-out accuracy ${before.accuracy.toFixed(3)} → ${after.accuracy.toFixed(3)}, ` +
          `loss ${before.loss.toFixed(4)} → ${after.loss.toFixed(4)}, ECE ${before.expectedCalibrationError.toFixed(3)} → ${after.expectedCalibrationError.toFixed(3)}, ` +
          `Brier ${before.brierScore.toFixed(4)} → ${after.brierScore.toFixed(4)}, train loss ${result.history[0]?.loss.toFixed(4)} → ${result.history.at(-1)?.loss.toFixed(4)}`,
      );
      expect(after.pairs).toBe(100);
      expect(after.accuracy).toBeGreaterThanOrEqual(0.95);
      expect(after.loss).toBeLessThan(before.loss);
      // The soft targets cap the confidence: the optimum predicts 0.9, so the loss stays above its entropy.
      expect(after.loss).toBeGreaterThan(pairLoss(Math.log(9), 0.9) - 1e-6);
    } finally {
      objective.optimizer.dispose();
      disposeRewardHead(rmHead);
      disposeLora(rmLora);
    }
  });
});
