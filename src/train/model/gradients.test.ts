// The transformer's gradients on the training backend, checked against central finite differences.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { initTrainingBackend } from "./backend.js";
import { tokenLogprobs } from "./transformer.js";
import { type BlockWeights, disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const blockKeys = [
  "attnNorm",
  "wq",
  "wk",
  "wv",
  "bq",
  "bk",
  "bv",
  "wo",
  "ffnNorm",
  "wGate",
  "wUp",
  "wDown",
] as const;

/** Every weight tensor with a readable name, in a fixed order. */
function namedParameters(w: TransformerWeights): Array<[string, tf.Tensor]> {
  const named: Array<[string, tf.Tensor]> = [
    ["token_embd", w.tokenEmbedding],
    ["output_norm", w.outputNorm],
    ["output", w.output],
  ];
  w.blocks.forEach((block, i) => {
    for (const key of blockKeys) {
      const t = block[key];
      if (t) named.push([`blk.${i}.${key}`, t]);
    }
  });
  return named;
}

/** `w` with the tensors of `namedParameters` replaced, in the same order. */
function withParameters(w: TransformerWeights, values: readonly tf.Tensor[]): TransformerWeights {
  let next = 0;
  const take = <T extends tf.Tensor>(): T => values[next++] as T;
  const tokenEmbedding = take<tf.Tensor2D>();
  const outputNorm = take<tf.Tensor1D>();
  const output = take<tf.Tensor2D>();
  const blocks = w.blocks.map((block) => {
    const copy: Record<string, tf.Tensor | undefined> = { ...block };
    for (const key of blockKeys) if (block[key]) copy[key] = take();
    return copy as unknown as BlockWeights;
  });
  return { config: w.config, tokenEmbedding, outputNorm, output, blocks };
}

describe.each(["tiny", "tiny-qwen2"] as const)("transformer gradients (%s)", (preset) => {
  let weights: TransformerWeights;
  const tokens = [[1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340]];

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await testModel(preset, "F32"));
  });
  afterAll(() => {
    if (weights) disposeWeights(weights);
  });

  it("match finite differences for every weight", () => {
    const named = namedParameters(weights);
    const loss = (...values: tf.Tensor[]): tf.Scalar =>
      tf.sum(tokenLogprobs(withParameters(weights, values), tokens));
    const grads = tf.grads(loss)(named.map(([, t]) => t));
    // Richardson extrapolation of central differences (error O(ε⁴)): float32 forbids a tiny ε.
    const epsilon = 4e-3;
    const mismatches: string[] = [];
    named.forEach(([name, value], i) => {
      tf.tidy(() => {
        const direction = tf.randomNormal(value.shape, 0, 1, "float32", 17 + i);
        const analytic = tf.sum(tf.mul(grads[i]!, direction)).dataSync()[0]!;
        const at = (step: number) => {
          const values = named.map(([, t], j) => (j === i ? tf.add(t, tf.mul(direction, step)) : t));
          return loss(...values).dataSync()[0]!;
        };
        const central = (step: number) => (at(step) - at(-step)) / (2 * step);
        const numeric = (4 * central(epsilon / 2) - central(epsilon)) / 3;
        if (Math.abs(numeric - analytic) > 1e-2 + 1e-2 * Math.abs(analytic))
          mismatches.push(`${name}: analytic ${analytic}, numeric ${numeric}`);
      });
    });
    tf.dispose(grads);
    expect(mismatches).toEqual([]);
  });
});
