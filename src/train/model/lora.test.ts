// LoRA training end to end on the generated models: a zero update changes nothing, SFT lowers the masked
// loss, and the exported GGUF adapter makes llama.cpp compute the trainer's log-probabilities.
import { mkdtemp } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { writeGgufAdapter } from "../formats/export-gguf-adapter.js";
import { createSftTrainer, type SftExample, sftLoss, sftStep } from "../objectives/sft.js";
import { initTrainingBackend } from "./backend.js";
import { createLora, disposeLora, type LoraAdapter, loraVariables, withLoraDropout } from "./lora.js";
import { forwardLogits, sequenceLogprobs, tokenLogprobs } from "./transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const trainTokens = [1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340, 300, 301, 302, 303];
const heldOut = [1, 290, 305, 333, 412, 346, 360, 328, 301, 435, 344, 302, 311];
const steps = 30;

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each(["tiny", "tiny-qwen2"] as const)("LoRA SFT (%s)", (preset) => {
  let modelPath: string;
  let weights: TransformerWeights;
  let lora: LoraAdapter;

  beforeAll(async () => {
    await initTrainingBackend();
    modelPath = await testModel(preset, "F32");
    weights = await loadWeights(modelPath);
    lora = createLora(weights, { rank: 4, alpha: 8, seed: 3 });
  });
  afterAll(() => {
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  it("leaves the logits exactly unchanged while B = 0", () => {
    expect(loraVariables(lora)).toHaveLength(weights.blocks.length * 7 * 2);
    const [base, adapted] = [
      forwardLogits(weights, [trainTokens]),
      forwardLogits(weights, [trainTokens], lora),
    ];
    expect(Array.from(adapted.dataSync())).toEqual(Array.from(base.dataSync()));
    tf.dispose([base, adapted]);
  });

  it("is seeded: the same seed and data give the same initial and trained weights", () => {
    const example: SftExample = { tokens: trainTokens, lossMask: trainTokens.map(() => 1) };
    const run = (seed: number): number[][] => {
      const fresh = createLora(weights, { rank: 2, targets: ["attn_v", "ffn_down"], seed });
      const initial = loraVariables(fresh).map((v) => Array.from(v.dataSync()));
      const trainer = createSftTrainer(weights, fresh, { learningRate: 1e-2 });
      for (let step = 0; step < 3; step += 1) sftStep(trainer, [example]);
      const trained = loraVariables(fresh).map((v) => Array.from(v.dataSync()));
      trainer.optimizer.dispose();
      disposeLora(fresh);
      return [...initial, ...trained];
    };
    const first = run(5);
    expect(run(5)).toEqual(first);
    expect(run(6)[0]).not.toEqual(first[0]);
  });

  it(`lowers the masked loss over ${steps} AdamW steps`, () => {
    const half = trainTokens.length / 2;
    const example: SftExample = {
      tokens: trainTokens,
      lossMask: trainTokens.map((_, i) => (i >= half ? 1 : 0)),
    };
    const trainer = createSftTrainer(weights, lora, { learningRate: 1e-2, weightDecay: 0.01 });
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let step = 0; step < steps; step += 1) losses.push(sftStep(trainer, [example]));
    expect(tf.memory().numTensors).toBe(before);
    trainer.optimizer.dispose();
    const final = tf.tidy(() => sftLoss(weights, lora, [example]).dataSync()[0]!);
    console.log(`${preset}: masked loss ${losses[0]!.toFixed(4)} → ${final.toFixed(4)} after ${steps} steps`);
    expect(final).toBeLessThan(losses[0]! * 0.5);
  });

  it("exports an adapter llama.cpp applies exactly as the trainer does (held-out sequence, 1e-3)", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), `lora-${preset}-`));
    const adapterPath = path.join(dir, "adapter.gguf");
    const { tensors } = await writeGgufAdapter(adapterPath, lora, weights.config.architecture);
    expect(tensors).toBe(weights.blocks.length * 7 * 2);
    const llama = await LlamaLanguageModel.load(modelPath, {
      threads: 1,
      gpu: false,
      exactKvCache: true,
      parallel: 1,
      adapters: [{ path: adapterPath }],
    });
    try {
      const reference = (await llama.promptLogprobs(heldOut as Token[], 0))
        .slice(1)
        .map((entry) => entry!.logprob);
      const ours = sequenceLogprobs(weights, heldOut, lora);
      const base = sequenceLogprobs(weights, heldOut);
      const delta = maxAbsDifference(ours, reference);
      const shift = maxAbsDifference(base, reference);
      console.log(
        `${preset}: llama.cpp vs trainer with LoRA, max |Δ log p| = ${delta.toExponential(2)} (base vs adapted: ${shift.toExponential(2)})`,
      );
      expect(shift).toBeGreaterThan(1e-2);
      expect(delta).toBeLessThan(1e-3);
    } finally {
      await llama.close();
    }
  });
});

describe("LoRA dropout", () => {
  it("drops inputs of the update only inside withLoraDropout, seeded, with gradients", async () => {
    await initTrainingBackend();
    const weights = await loadWeights(await testModel("tiny", "F32"));
    const lora = createLora(weights, { rank: 4, alpha: 8, seed: 1, dropout: 0.5 });
    try {
      for (const v of loraVariables(lora)) v.assign(tf.randomNormal(v.shape, 0, 0.1, "float32", 5));
      const tokens = [[1, 300, 301, 302, 303, 304]];
      const run = (seed?: number) => {
        const compute = () => Array.from(sequenceLogprobs(weights, tokens[0] ?? [], lora));
        return seed === undefined ? compute() : withLoraDropout(0.5, seed, compute);
      };
      const plain = run();
      expect(run()).toEqual(plain); // no dropout outside
      const a = run(7);
      expect(run(7)).toEqual(a); // seeded
      expect(a).not.toEqual(plain);
      expect(run(8)).not.toEqual(a);
      const { value, grads } = withLoraDropout(0.5, 7, () =>
        tf.variableGrads(
          () => tf.sum(tokenLogprobs(weights, tokens, lora)) as tf.Scalar,
          loraVariables(lora),
        ),
      );
      expect(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite))).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      disposeLora(lora);
      disposeWeights(weights);
    }
  });

  it("refuses a dropout outside [0, 1)", async () => {
    await initTrainingBackend();
    const weights = await loadWeights(await testModel("tiny", "F32"));
    try {
      expect(() => createLora(weights, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    } finally {
      disposeWeights(weights);
    }
  });
});
