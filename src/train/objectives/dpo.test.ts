// DPO on the generated tiny model: the soft-label loss against hand-computed values, log 2 while the
// policy equals the reference, and a few AdamW steps widening the chosen − rejected log-ratio margin.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, type LoraAdapter } from "../model/lora.js";
import { sequenceLogprobs } from "../model/transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import {
  createDpoTrainer,
  type DpoPair,
  dpoLoss,
  dpoMargins,
  dpoStep,
  referenceLogprobs,
  sequenceLogprob,
} from "./dpo.js";
import type { SftExample } from "./sft.js";

const prompt = [1, 313, 333, 330];
const heldOutPrompt = [1, 290, 305, 412];

/** `prompt` + `response`, the response masked in. */
function example(promptTokens: number[], response: number[]): SftExample {
  return {
    tokens: [...promptTokens, ...response],
    lossMask: [...promptTokens.map(() => 0), ...response.map(() => 1)],
  };
}

const chosen = [440, 346, 334, 328];
const rejected = [300, 301, 302, 303, 304];
const trainPair: DpoPair = { chosen: example(prompt, chosen), rejected: example(prompt, rejected) };
const heldOutPair: DpoPair = {
  chosen: example(heldOutPrompt, chosen),
  rejected: example(heldOutPrompt, rejected),
};

/** −[t·log σ(m) + (1 − t)·log σ(−m)] in plain double precision. */
function pairLoss(m: number, t: number): number {
  const logSig = (x: number): number => -Math.log1p(Math.exp(-x));
  return -(t * logSig(m) + (1 - t) * logSig(-m));
}

describe("DPO (tiny)", () => {
  let weights: TransformerWeights;
  let lora: LoraAdapter;

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await testModel());
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 11 });
  });
  afterAll(() => {
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  const margins = (pairs: DpoPair[], beta: number, adapter: LoraAdapter | undefined = lora): number[] =>
    tf.tidy(() =>
      Array.from(dpoMargins(weights, adapter, pairs, referenceLogprobs(weights, pairs), { beta }).dataSync()),
    );

  it("sequenceLogprob sums the masked token log-probabilities", () => {
    const all = sequenceLogprobs(weights, trainPair.chosen.tokens);
    const expected = Array.from(all).reduce(
      (acc, lp, i) => acc + lp * (trainPair.chosen.lossMask[i + 1] ?? 0),
      0,
    );
    const ours = tf.tidy(() => sequenceLogprob(weights, trainPair.chosen).dataSync()[0]!);
    expect(ours).toBeCloseTo(expected, 4);
    expect(ours).toBeLessThan(0);
    expect(() => sequenceLogprob(weights, { tokens: [1, 2], lossMask: [1, 0] })).toThrow(/no token/);
  });

  it("has margin 0 and loss log 2 while the policy equals the reference (B = 0)", () => {
    const pairs = [trainPair, heldOutPair];
    const reference = referenceLogprobs(weights, pairs);
    for (const m of margins(pairs, 0.5)) expect(m).toBeCloseTo(0, 4);
    const loss = tf.tidy(() => dpoLoss(weights, lora, pairs, reference, { beta: 0.5 }).dataSync()[0]!);
    expect(loss).toBeCloseTo(Math.LN2, 5);
    // Any soft target gives log 2 at m = 0 too.
    const soft = pairs.map((p) => ({ ...p, target: 0.7 }));
    const softLoss = tf.tidy(() => dpoLoss(weights, lora, soft, reference, { beta: 0.5 }).dataSync()[0]!);
    expect(softLoss).toBeCloseTo(Math.LN2, 5);
  });

  it("matches hand-computed losses for margins 0, 1, −2 with targets 1, 0.9, 0.5", () => {
    // With B = 0, log π = log π_ref; shifting the reference's chosen log-prob by −a gives m = β·a.
    const beta = 0.5;
    const base = referenceLogprobs(weights, [trainPair])[0]!;
    const shifts = [0, 2, -4];
    const targets = [1, 0.9, 0.5];
    const pairs = targets.map((target): DpoPair => ({ ...trainPair, target }));
    const reference = shifts.map((a) => ({ chosen: base.chosen - a, rejected: base.rejected }));
    const ms = tf.tidy(() => Array.from(dpoMargins(weights, lora, pairs, reference, { beta }).dataSync()));
    [0, 1, -2].forEach((m, i) => {
      expect(ms[i]).toBeCloseTo(m, 4);
    });
    const loss = tf.tidy(() => dpoLoss(weights, lora, pairs, reference, { beta }).dataSync()[0]!);
    // (0.693147 + 0.413262 + 1.126928) / 3
    expect(loss).toBeCloseTo((pairLoss(0, 1) + pairLoss(1, 0.9) + pairLoss(-2, 0.5)) / 3, 4);
    expect(loss).toBeCloseTo(0.7444456, 4);
  });

  it("raises the chosen − rejected log-ratio margin on the training pair and on a held-out prompt over 8 steps", () => {
    const beta = 0.5;
    const fresh = createLora(weights, { rank: 4, alpha: 8, seed: 5 });
    const trainer = createDpoTrainer(weights, fresh, { beta, learningRate: 1e-2, weightDecay: 0 });
    const reference = referenceLogprobs(weights, [trainPair]);
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < 8; step += 1) losses.push(dpoStep(trainer, [trainPair], reference));
    expect(tf.memory().numTensors).toBe(before);
    trainer.optimizer.dispose();
    const [trained] = margins([trainPair], beta, fresh);
    const [heldOut] = margins([heldOutPair], beta, fresh);
    const final = tf.tidy(() => dpoLoss(weights, fresh, [trainPair], reference, { beta }).dataSync()[0]!);
    disposeLora(fresh);
    console.log(
      `tiny DPO: loss ${losses[0]!.toFixed(4)} → ${final.toFixed(4)}, margin on the training pair ${trained!.toFixed(3)}, on a held-out prompt ${heldOut!.toFixed(3)}`,
    );
    expect(losses[0]).toBeCloseTo(Math.LN2, 5);
    expect(trained).toBeGreaterThan(0.5);
    // Same responses after an unseen prompt: the preference generalises (it starts at exactly 0).
    expect(heldOut).toBeGreaterThan(0);
    expect(final).toBeLessThan(losses[0]! - 0.2);
  });

  it("rejects mismatched reference lengths and a non-positive beta", () => {
    const reference = referenceLogprobs(weights, [trainPair]);
    expect(() => dpoLoss(weights, lora, [trainPair, heldOutPair], reference, { beta: 0.5 })).toThrow(
      /reference/,
    );
    expect(() => dpoLoss(weights, lora, [trainPair], reference, { beta: 0 })).toThrow(/beta/);
  });
});
