// The policy-gradient objective against hand-computed values: RLOO and GRPO advantages, the KL-penalised
// reward, the clipped ratio at and beyond ε, the surrogate loss and its gradient (against finite
// differences through the unclipped side, zero on the clipped side), and the adaptive KL controller.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTrainingBackend } from "../model/backend.js";
import {
  adaptiveKlCoef,
  clippedObjective,
  clipRatio,
  grpoAdvantages,
  penalisedReward,
  rlooAdvantages,
  type SurrogateStats,
  sequenceKl,
  surrogateLoss,
} from "./policy-gradient.js";

beforeAll(async () => {
  await initTrainingBackend();
});

describe("advantages", () => {
  it("RLOO subtracts the mean of the other samples", () => {
    // rewards 1, 2, 3, 6: others' means (2+3+6)/3 = 11/3, (1+3+6)/3 = 10/3, 3, 2.
    const a = rlooAdvantages([1, 2, 3, 6]);
    expect(a[0]).toBeCloseTo(1 - 11 / 3, 12);
    expect(a[1]).toBeCloseTo(2 - 10 / 3, 12);
    expect(a[2]).toBeCloseTo(0, 12);
    expect(a[3]).toBeCloseTo(4, 12);
    // k/(k−1) times the mean-centred reward.
    expect(rlooAdvantages([0, 1])).toEqual([-1, 1]);
    expect(() => rlooAdvantages([1])).toThrow(/at least two/);
  });

  it("GRPO normalises by the group's sample standard deviation", () => {
    // rewards 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9)/3 = 14/3.
    const sd = Math.sqrt(14 / 3) + 1e-4;
    const a = grpoAdvantages([1, 2, 3, 6]);
    expect(a[0]).toBeCloseTo(-2 / sd, 12);
    expect(a[1]).toBeCloseTo(-1 / sd, 12);
    expect(a[2]).toBeCloseTo(0, 12);
    expect(a[3]).toBeCloseTo(3 / sd, 12);
    expect(grpoAdvantages([0.5, 0.5, 0.5])).toEqual([0, 0, 0]);
  });

  it("the KL estimate is summed over tokens and subtracted from the score", () => {
    expect(sequenceKl([-1, -2, -0.5], [-1.5, -2, -1])).toBeCloseTo(1, 12);
    expect(penalisedReward(0.8, 1, 0.05)).toBeCloseTo(0.75, 12);
    expect(() => sequenceKl([-1], [])).toThrow(/1 policy log-probabilities for 0/);
  });
});

describe("clipping", () => {
  it("clips the ratio at and beyond ε", () => {
    expect(clipRatio(1.2, 0.2)).toBeCloseTo(1.2, 12);
    expect(clipRatio(1.5, 0.2)).toBeCloseTo(1.2, 12);
    expect(clipRatio(0.8, 0.2)).toBeCloseTo(0.8, 12);
    expect(clipRatio(0.1, 0.2)).toBeCloseTo(0.8, 12);
    expect(clipRatio(1.05, 0.2)).toBe(1.05);
  });

  it("takes the pessimistic side: clipped beyond ε in the advantage's direction only", () => {
    // A > 0: r = 1.5 → min(1.5·2, 1.2·2) = 2.4, clipped; r = 0.5 → min(1, 1.6) = 1, not clipped.
    expect(clippedObjective(1.5, 2, 0.2)).toEqual({ value: 2.4, clipped: true });
    expect(clippedObjective(0.5, 2, 0.2)).toEqual({ value: 1, clipped: false });
    // A < 0: r = 0.5 → min(−0.5, −0.8) = −0.8, clipped; r = 1.5 → min(−1.5, −1.2) = −1.5, not clipped.
    expect(clippedObjective(0.5, -1, 0.2).value).toBeCloseTo(-0.8, 12);
    expect(clippedObjective(0.5, -1, 0.2).clipped).toBe(true);
    expect(clippedObjective(1.5, -1, 0.2)).toEqual({ value: -1.5, clipped: false });
    // At exactly 1 ± ε both sides are equal: not counted as clipped.
    expect(clippedObjective(1.2, 1, 0.2).clipped).toBe(false);
  });
});

describe("surrogateLoss", () => {
  const old = [-1, -2, -0.5];

  it("is −A at ratio 1 and has gradient −A/n per token there", () => {
    const x = tf.variable(tf.tensor1d(old));
    const stats: SurrogateStats = { clippedTokens: 0, tokens: 0, maxRatioDeviation: 0 };
    const { value, grads } = tf.variableGrads(
      () => surrogateLoss(x as unknown as tf.Tensor1D, { oldLogprobs: old, advantage: 1.5 }, 0.2, stats),
      [x],
    );
    expect(value.dataSync()[0]).toBeCloseTo(-1.5, 6);
    const g = Array.from(grads[x.name]?.dataSync() ?? []);
    for (const gi of g) expect(gi).toBeCloseTo(-0.5, 6);
    expect(stats).toEqual({ clippedTokens: 0, tokens: 3, maxRatioDeviation: 0 });
    x.dispose();
  });

  it("matches hand values off-policy, with zero gradient on the clipped token", () => {
    // log-ratios 0.1, 0.5, −0.1 → r = 1.105, 1.649 (clipped to 1.2 for A > 0), 0.905; A = 2.
    const current = [-1 + 0.1, -2 + 0.5, -0.5 - 0.1];
    const [r0, r1, r2] = [Math.exp(0.1), Math.exp(0.5), Math.exp(-0.1)];
    const expected = -(r0 * 2 + 1.2 * 2 + r2 * 2) / 3;
    const x = tf.variable(tf.tensor1d(current));
    const stats: SurrogateStats = { clippedTokens: 0, tokens: 0, maxRatioDeviation: 0 };
    const { value, grads } = tf.variableGrads(
      () => surrogateLoss(x as unknown as tf.Tensor1D, { oldLogprobs: old, advantage: 2 }, 0.2, stats),
      [x],
    );
    expect(value.dataSync()[0]).toBeCloseTo(expected, 5);
    const g = Array.from(grads[x.name]?.dataSync() ?? []);
    expect(g[0]).toBeCloseTo((-2 * r0) / 3, 5);
    expect(g[1]).toBe(0);
    expect(g[2]).toBeCloseTo((-2 * r2) / 3, 5);
    expect(stats.clippedTokens).toBe(1);
    expect(stats.maxRatioDeviation).toBeCloseTo(r1 - 1, 5);

    // Finite differences on the unclipped tokens agree with the hand-written gradient.
    const at = (values: number[]) =>
      tf.tidy(
        () =>
          surrogateLoss(tf.tensor1d(values), { oldLogprobs: old, advantage: 2 }, 0.2).dataSync()[0] as number,
      );
    for (const t of [0, 2]) {
      const h = 1e-3;
      const up = [...current];
      const down = [...current];
      up[t] = (up[t] as number) + h;
      down[t] = (down[t] as number) - h;
      expect((at(up) - at(down)) / (2 * h)).toBeCloseTo(g[t] as number, 3);
    }
    x.dispose();
  });

  it("refuses a length mismatch and an ε outside (0, 1)", () => {
    expect(() => surrogateLoss(tf.tensor1d([0, 0]), { oldLogprobs: [0], advantage: 1 }, 0.2)).toThrow(
      /2 log-probabilities for 1 sampled tokens/,
    );
    expect(() => surrogateLoss(tf.tensor1d([0]), { oldLogprobs: [0], advantage: 1 }, 0)).toThrow(/ε/);
  });
});

describe("adaptiveKlCoef", () => {
  it("moves β toward the target, by at most 20% of samples/horizon", () => {
    // KL twice the target: error clipped to 0.2; 64 samples over a horizon of 10000.
    expect(adaptiveKlCoef(0.05, 12, 64, { target: 6 })).toBeCloseTo(0.05 * (1 + (0.2 * 64) / 10000), 12);
    // KL 5 of target 6: error −1/6.
    expect(adaptiveKlCoef(0.1, 5, 100, { target: 6, horizon: 1000 })).toBeCloseTo(0.1 * (1 - 1 / 60), 12);
  });
});
