// The training loop on the generated tiny model: the loss goes down, a stopped and resumed run reproduces an
// uninterrupted one bit for bit, clipping bounds the applied gradient, and accumulating two micro-batches
// of one equals one batch of two.
import { mkdtemp, readdir } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "../model/backend.js";
import { createLora, disposeLora, loraVariables } from "../model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import { createSftTrainer, type SftExample } from "../objectives/sft.js";
import { CheckpointMismatchError } from "./checkpoint-mismatch-error.js";
import {
  accumulatedStep,
  accumulateGradients,
  epochOrder,
  evaluate,
  sftObjective,
  type TrainLoopOptions,
  type TrainProgress,
  trainLoop,
} from "./train-loop.js";

// Six sequences of eight tokens; the first three of each are context, the last five are learned.
const sequences = [
  [1, 313, 333, 330, 440, 346, 334, 328],
  [1, 290, 305, 333, 412, 346, 360, 328],
  [1, 336, 435, 343, 340, 300, 301, 302],
  [1, 301, 435, 344, 302, 311, 313, 333],
  [1, 330, 440, 346, 300, 301, 302, 303],
  [1, 412, 346, 360, 328, 336, 435, 343],
];
const examples: SftExample[] = sequences.map((tokens) => ({
  tokens,
  lossMask: tokens.map((_, i) => (i >= 3 ? 1 : 0)),
}));

let modelPath: string;
let weights: TransformerWeights;

beforeAll(async () => {
  await initTrainingBackend();
  modelPath = await testModel("tiny", "F32");
  weights = await loadWeights(modelPath);
});
afterAll(() => {
  if (weights) disposeWeights(weights);
});

/** A fresh adapter and trainer on `base`; call the returned function to free them. */
function fresh(base: TransformerWeights, seed = 3) {
  const lora = createLora(base, { rank: 4, alpha: 8, seed });
  const trainer = createSftTrainer(base, lora, { weightDecay: 0.01 });
  return {
    lora,
    trainer,
    objective: sftObjective(trainer),
    dispose: () => {
      trainer.optimizer.dispose();
      disposeLora(lora);
    },
  };
}

describe("epochOrder", () => {
  it("is a seeded permutation that changes with the epoch", () => {
    const first = epochOrder(6, 9, 0);
    expect([...first].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(epochOrder(6, 9, 0)).toEqual(first);
    expect([epochOrder(6, 9, 1), epochOrder(6, 9, 2), epochOrder(6, 10, 0)]).not.toContainEqual(first);
  });
});

describe("trainLoop (tiny)", () => {
  it("lowers the training and evaluation loss, reporting progress", async () => {
    const run = fresh(weights);
    try {
      const before = evaluate(run.objective, examples, 3);
      const progress: TrainProgress[] = [];
      const result = await trainLoop({
        objective: run.objective,
        examples,
        evalExamples: examples,
        batchSize: 3,
        totalSteps: 12,
        learningRate: { peak: 2e-2, warmupSteps: 2 },
        evalEvery: 4,
        seed: 1,
        onProgress: (p) => progress.push(p),
      });
      expect(result.history.map((r) => r.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(progress.map((p) => p.step)).toEqual(result.history.map((r) => r.step));
      expect(progress.at(-1)?.etaSeconds).toBe(0);
      expect(progress[0]?.tokensPerSecond).toBeGreaterThan(0);
      expect(result.history[1]?.learningRate).toBe(2e-2);
      const evals = result.history.filter((r) => r.evalLoss !== undefined).map((r) => r.evalLoss ?? 0);
      expect(evals).toHaveLength(3);
      const losses = result.history.map((r) => r.loss);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(
        `train-loop: loss ${losses[0]?.toFixed(4)} → ${losses.at(-1)?.toFixed(4)}, eval ${before.toFixed(4)} → ${evals.at(-1)?.toFixed(4)}`,
      );
      expect(mean(losses.slice(-3))).toBeLessThan(mean(losses.slice(0, 3)));
      expect(evals.at(-1)).toBeLessThan(before * 0.8);
    } finally {
      run.dispose();
    }
  });

  it("resumes exactly: a run stopped at step 3 and resumed equals an uninterrupted run", async () => {
    const root = await mkdtemp(path.join(await testFolder(), "train-loop-"));
    const options = (dir: string): Omit<TrainLoopOptions<SftExample>, "objective"> => ({
      examples,
      evalExamples: examples.slice(0, 2),
      batchSize: 2,
      gradAccumulation: 2, // 4 examples an update: micro-batches straddle the 6-example epochs
      maxGradNorm: 0.5,
      totalSteps: 8,
      learningRate: { peak: 1e-2, warmupSteps: 2, minRatio: 0.1 },
      evalEvery: 3,
      seed: 11,
      checkpointDir: dir,
      checkpointEvery: 1,
    });

    const a = fresh(weights);
    const runA = await trainLoop({ ...options(path.join(root, "a")), objective: a.objective });
    const finalA = loraVariables(a.lora).map((v) => Array.from(v.dataSync()));
    a.dispose();
    expect(runA.history).toHaveLength(8);
    expect(runA.stopped).toBe(false);
    // Only the newest two checkpoints are kept, and no temporary file is left.
    expect(await readdir(path.join(root, "a"))).toEqual([
      "checkpoint-00000007.safetensors",
      "checkpoint-00000008.safetensors",
    ]);

    const controller = new AbortController();
    const b1 = fresh(weights);
    const stopped = await trainLoop({
      ...options(path.join(root, "b")),
      objective: b1.objective,
      stop: controller.signal,
      onProgress: (p) => {
        if (p.step === 3) controller.abort();
      },
    });
    b1.dispose();
    expect(stopped.stopped).toBe(true);
    expect(stopped.history).toHaveLength(3);

    // Forget everything in memory: new base weights, an adapter with another seed, a new optimizer.
    const reloaded = await loadWeights(modelPath);
    const b2 = fresh(reloaded, 99);
    try {
      const runB = await trainLoop({ ...options(path.join(root, "b")), objective: b2.objective });
      expect(runB.resumedFrom).toBe(3);
      expect(runB.history).toEqual(runA.history);
      expect(b2.trainer.optimizer.stepCount).toBe(8);
      expect(loraVariables(b2.lora).map((v) => Array.from(v.dataSync()))).toEqual(finalA);
    } finally {
      b2.dispose();
      disposeWeights(reloaded);
    }
  });

  it("refuses to resume from a checkpoint made with other settings, naming them", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "train-settings-"));
    const base = {
      examples,
      batchSize: 2,
      totalSteps: 1,
      learningRate: { peak: 1e-3 },
      checkpointDir: dir,
    };
    const first = fresh(weights);
    try {
      await trainLoop({ ...base, objective: first.objective, settings: { rank: 4, data: "a.jsonl" } });
    } finally {
      first.dispose();
    }
    const second = fresh(weights);
    try {
      // A longer run with the same settings resumes (the step count is not a setting) …
      const longer = await trainLoop({
        ...base,
        totalSteps: 2,
        objective: second.objective,
        settings: { rank: 4, data: "a.jsonl" },
      });
      expect(longer.resumedFrom).toBe(1);
      // … other settings do not.
      const changed = trainLoop({
        ...base,
        totalSteps: 3,
        objective: second.objective,
        settings: { rank: 8, data: "a.jsonl" },
      });
      await expect(changed).rejects.toThrow(CheckpointMismatchError);
      await expect(changed).rejects.toThrow(/rank: 4 there, 8 now/);
    } finally {
      second.dispose();
    }
  });

  it("clips the gradient to maxGradNorm before the update", () => {
    const run = fresh(weights);
    try {
      const before = tf.memory().numTensors;
      const record = accumulatedStep(run.objective, [examples.slice(0, 2)], 1e-2, 1, 1e-3);
      expect(tf.memory().numTensors).toBe(before);
      expect(record.gradNorm).toBeGreaterThan(1e-2);
      expect(record.appliedGradNorm).toBeLessThanOrEqual(1e-3);
      expect(record.appliedGradNorm).toBeCloseTo(1e-3, 6);
      const unclipped = accumulatedStep(run.objective, [examples.slice(0, 2)], 1e-2, 2);
      expect(unclipped.appliedGradNorm).toBe(unclipped.gradNorm);
    } finally {
      run.dispose();
    }
  });

  it("accumulates two micro-batches of one into the gradient of one batch of two", () => {
    const run = fresh(weights);
    try {
      // Move B off zero first so every gradient (A's too) is non-trivial.
      accumulatedStep(run.objective, [examples.slice(2, 4)], 1e-2, 1);
      const pair = examples.slice(0, 2);
      const whole = accumulateGradients(run.objective, [pair]);
      const split = accumulateGradients(
        run.objective,
        pair.map((e) => [e]),
      );
      expect(split.loss).toBeCloseTo(whole.loss, 6);
      let maxDiff = 0;
      let maxAbs = 0;
      whole.grads.forEach((g, i) => {
        const x = g.dataSync();
        const y = (split.grads[i] as tf.Tensor).dataSync();
        for (let k = 0; k < x.length; k += 1) {
          maxDiff = Math.max(maxDiff, Math.abs((x[k] ?? 0) - (y[k] ?? 0)));
          maxAbs = Math.max(maxAbs, Math.abs(x[k] ?? 0));
        }
      });
      tf.dispose([...whole.grads, ...split.grads]);
      expect(maxAbs).toBeGreaterThan(1e-4);
      expect(maxDiff).toBeLessThan(1e-6);
    } finally {
      run.dispose();
    }
  });
});
