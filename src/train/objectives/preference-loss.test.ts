// The soft-target preference losses against hand-computed values and finite differences, and the
// held-out metrics (accuracy, calibration) on small hand-checked cases.
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initTrainingBackend } from "../model/backend.js";
import {
  bradleyTerryLoss,
  calibrationSummary,
  logSigmoid,
  preferenceAccuracy,
  sigmoid,
  softPreferenceLoss,
} from "./preference-loss.js";

/** −[t·log σ(m) + (1 − t)·log σ(−m)] in plain double precision. */
function pairLoss(m: number, t: number): number {
  const logSig = (x: number): number => -Math.log1p(Math.exp(-x));
  return -(t * logSig(m) + (1 - t) * logSig(-m));
}

const read = (t: tf.Tensor): number => t.dataSync()[0] ?? Number.NaN;

beforeAll(async () => {
  await initTrainingBackend();
});

describe("bradleyTerryLoss", () => {
  it("matches hand-computed values for margins 0, 1, −2 with targets 1, 0.9, 0.5", () => {
    // 0: log 2 = 0.693147; 1, t 0.9: 0.9·0.313262 + 0.1·1.313262 = 0.413262;
    // −2, t 0.5: 0.5·(2.126928 + 0.126928) = 1.126928; mean 0.744446.
    const expected = [Math.LN2, 0.4132617, 1.126928];
    [
      [0, 1],
      [1, 0.9],
      [-2, 0.5],
    ].forEach(([m, t], i) => {
      expect(pairLoss(m!, t!)).toBeCloseTo(expected[i]!, 6);
    });
    const loss = tf.tidy(() =>
      read(bradleyTerryLoss(tf.tensor1d([1, 3, 0]), tf.tensor1d([1, 2, 2]), [1, 0.9, 0.5])),
    );
    expect(loss).toBeCloseTo((pairLoss(0, 1) + pairLoss(1, 0.9) + pairLoss(-2, 0.5)) / 3, 5);
    expect(loss).toBeCloseTo(0.7444456, 5);
  });

  it("is symmetric: swapping chosen and rejected equals flipping the targets", () => {
    const [a, b] = tf.tidy(() => {
      const sc = tf.tensor1d([0.3, -1.2, 2]);
      const sr = tf.tensor1d([1, 0.4, -0.5]);
      return [read(bradleyTerryLoss(sc, sr, [1, 0.8, 0.3])), read(bradleyTerryLoss(sr, sc, [0, 0.2, 0.7]))];
    });
    expect(a).toBeCloseTo(b!, 6);
  });

  it("stays finite and accurate for large margins (stable log σ)", () => {
    const values = tf.tidy(() => Array.from(logSigmoid(tf.tensor1d([-100, -30, 0, 30, 100])).dataSync()));
    expect(values[0]).toBeCloseTo(-100, 4);
    expect(values[1]).toBeCloseTo(-30, 4);
    expect(values[2]).toBeCloseTo(-Math.LN2, 6);
    expect(values[3]).toBeCloseTo(0, 6);
    expect(values[4]).toBe(0);
    const loss = tf.tidy(() => read(softPreferenceLoss(tf.tensor1d([-100, 100]), [1, 1])));
    expect(loss).toBeCloseTo(50, 3);
  });

  it("has gradients that match central finite differences", () => {
    const sc = [0.3, -1.2, 2, 0.5];
    const sr = [1, 0.4, -0.5, 0.5];
    const targets = [1, 0.8, 0.3, 0.5];
    const loss = (c: number[], r: number[]): number =>
      tf.tidy(() => read(bradleyTerryLoss(tf.tensor1d(c), tf.tensor1d(r), targets)));
    const [gc, gr] = tf.tidy(() =>
      tf
        .grads((c: tf.Tensor, r: tf.Tensor) => bradleyTerryLoss(c as tf.Tensor1D, r as tf.Tensor1D, targets))(
          [tf.tensor1d(sc), tf.tensor1d(sr)],
        )
        .map((g) => Array.from(g.dataSync())),
    );
    const h = 1e-2;
    for (let i = 0; i < sc.length; i += 1) {
      const bump = (v: number[], d: number): number[] => v.map((x, j) => (j === i ? x + d : x));
      const fdC = (loss(bump(sc, h), sr) - loss(bump(sc, -h), sr)) / (2 * h);
      const fdR = (loss(sc, bump(sr, h)) - loss(sc, bump(sr, -h))) / (2 * h);
      // Analytic: ∂/∂s_c = −(t − σ(s_c − s_r)) / n.
      const analytic = -((targets[i] ?? 0) - sigmoid(sc[i]! - sr[i]!)) / sc.length;
      expect(gc?.[i]).toBeCloseTo(fdC, 3);
      expect(gr?.[i]).toBeCloseTo(fdR, 3);
      expect(gc?.[i]).toBeCloseTo(analytic, 5);
      expect(gr?.[i]).toBeCloseTo(-analytic, 5);
    }
  });

  it("rejects mismatched lengths and targets outside [0, 1]", () => {
    tf.tidy(() => {
      expect(() => bradleyTerryLoss(tf.tensor1d([1, 2]), tf.tensor1d([1]), [1, 1])).toThrow(/as many/);
      expect(() => bradleyTerryLoss(tf.tensor1d([1]), tf.tensor1d([1]), [1.5])).toThrow(/\[0, 1\]/);
      expect(() => bradleyTerryLoss(tf.tensor1d([1]), tf.tensor1d([1]), [1, 1])).toThrow(/targets for/);
    });
  });
});

describe("preferenceAccuracy", () => {
  it("counts agreeing signs, ties as half, and skips 0.5 targets", () => {
    expect(preferenceAccuracy([1, -1, 0, 2], [1, 1, 1, 0.5])).toBeCloseTo(0.5, 10);
    expect(preferenceAccuracy([1, -1, 3], [0.9, 0.2, 0])).toBeCloseTo(2 / 3, 10);
    expect(preferenceAccuracy([0.5, 2])).toBe(1);
    expect(preferenceAccuracy([1], [0.5])).toBeNaN();
  });
});

describe("calibrationSummary", () => {
  it("computes ECE, Brier and log loss over 10 bins", () => {
    // σ(0) = 0.5 twice (targets 1 and 0: bin 5 is calibrated); σ(3) = 0.952574 with target 1 (bin 9).
    const summary = calibrationSummary([0, 0, 3], [1, 0, 1]);
    expect(summary.count).toBe(3);
    expect(summary.bins).toHaveLength(10);
    expect(summary.bins[5]).toMatchObject({ count: 2, meanPredicted: 0.5, meanTarget: 0.5 });
    expect(summary.bins[9]?.count).toBe(1);
    expect(summary.expectedCalibrationError).toBeCloseTo((1 - sigmoid(3)) / 3, 10);
    expect(summary.expectedCalibrationError).toBeCloseTo(0.0158086, 6);
    expect(summary.brierScore).toBeCloseTo(0.1674164, 6);
    expect(summary.logLoss).toBeCloseTo((pairLoss(0, 1) + pairLoss(0, 0) + pairLoss(3, 1)) / 3, 10);
    expect(summary.bins[0]?.meanPredicted).toBeNaN();
  });

  it("is zero for soft targets that equal the predictions", () => {
    const margins = [-2, -0.3, 0.7, 4];
    const summary = calibrationSummary(margins, margins.map(sigmoid), { bins: 5 });
    expect(summary.expectedCalibrationError).toBeCloseTo(0, 12);
    expect(summary.brierScore).toBeCloseTo(0, 12);
    expect(summary.bins).toHaveLength(5);
  });
});
