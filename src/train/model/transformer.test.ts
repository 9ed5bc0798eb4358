// Parity of the trainer's forward pass with llama.cpp on the generated llama and qwen2 test models.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "./backend.js";
import { forwardLogits, sequenceLogprobs } from "./transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const texts = ["The quick brown fox jumps over the lazy dog.", "Grüße, 你好! (A) or (B)?"];

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each(["tiny", "tiny-qwen2"] as const)("transformer parity with llama.cpp (%s)", (preset) => {
  let llama: LlamaLanguageModel;
  let weights: TransformerWeights;

  beforeAll(async () => {
    await initTrainingBackend();
    const path = await testModel(preset, "F32");
    llama = await LlamaLanguageModel.load(path, { threads: 1, gpu: false, exactKvCache: true, parallel: 1 });
    weights = await loadWeights(path);
  });

  afterAll(async () => {
    if (weights) disposeWeights(weights);
    await llama?.close();
  });

  it.each(texts)("log-probabilities of %j match to 1e-4", async (text) => {
    const tokens = llama.prompts.textTokens(text);
    expect(tokens.length).toBeGreaterThan(5);
    const reference = (await llama.promptLogprobs(tokens, 0)).slice(1).map((entry) => entry!.logprob);
    const ours = sequenceLogprobs(weights, tokens);
    const delta = maxAbsDifference(ours, reference);
    console.log(
      `${preset} ${JSON.stringify(text)}: ${tokens.length} tokens, max |Δ log p| = ${delta.toExponential(2)}`,
    );
    expect(delta).toBeLessThan(1e-4);
  });

  it("would notice the other RoPE pairing (the parity check is sensitive to it)", async () => {
    const tokens = llama.prompts.textTokens(texts[0]!);
    const reference = (await llama.promptLogprobs(tokens, 0)).slice(1).map((entry) => entry!.logprob);
    const ropeStyle = weights.config.ropeStyle === "normal" ? "neox" : "normal";
    const swapped = sequenceLogprobs({ ...weights, config: { ...weights.config, ropeStyle } }, tokens);
    expect(maxAbsDifference(swapped, reference)).toBeGreaterThan(1e-2);
  });

  it("computes a batch exactly as its sequences one by one", () => {
    const [first, second] = texts.map((text) => llama.prompts.textTokens(text));
    const length = Math.min(first!.length, second!.length);
    const rows = [first!.slice(0, length), second!.slice(0, length)];
    const before = tf.memory().numTensors;
    const batched = forwardLogits(weights, rows);
    const singles = rows.map((row) => forwardLogits(weights, [row]));
    expect(batched.shape).toEqual([2, length, weights.config.vocabSize]);
    const batchedValues = batched.arraySync();
    singles.forEach((single, b) => {
      expect(maxAbsDifference(batchedValues[b]!.flat(), single.arraySync()[0]!.flat())).toBeLessThan(1e-5);
    });
    tf.dispose([batched, ...singles]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
