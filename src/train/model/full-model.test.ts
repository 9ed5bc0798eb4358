// Full-parameter training on the generated models (llama, qwen2 and a tied-embedding llama): every weight a
// variable under its GGUF name, gradients that match finite differences, and AdamW lowering the loss.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openGguf } from "../../gguf/index.js";
import { testModel } from "../../test-support/test-models.js";
import { tiedTestModel } from "../../test-support/tied-test-model.js";
import { trainLoop } from "../loop/train-loop.js";
import { AdamW, type SftExample, sftLoss } from "../objectives/sft.js";
import { initTrainingBackend } from "./backend.js";
import {
  createFullModel,
  disposeFullModel,
  type FullModel,
  fullModelVariables,
  fullSftObjective,
  loadFullModel,
} from "./full-model.js";
import { forwardLogits } from "./transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const tokens = [1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340];
/** Learned: the second half of the sequence. */
const example: SftExample = { tokens, lossMask: tokens.map((_, i) => (i >= tokens.length / 2 ? 1 : 0)) };
/** A token the input never contains: its embedding row reaches the logits only through a tied head. */
const absent = 7;

const models = {
  tiny: () => testModel("tiny", "F32"),
  "tiny-qwen2": () => testModel("tiny-qwen2", "F32"),
  "tiny-tied": tiedTestModel,
} as const;

describe.each(Object.keys(models) as Array<keyof typeof models>)("full-parameter training (%s)", (name) => {
  let modelPath: string;
  let loaded: TransformerWeights;
  let full: FullModel;

  beforeAll(async () => {
    // wasm on this kind of machine (no tfjs-node): the backend whose missing gradients gradients.ts supplies.
    console.log(`${name}: tfjs backend ${await initTrainingBackend()}`);
    modelPath = await models[name]();
    loaded = await loadWeights(modelPath);
    full = createFullModel(loaded);
  });
  afterAll(() => {
    if (full) disposeFullModel(full);
    if (loaded) disposeWeights(loaded);
  });

  it("has one variable per GGUF tensor, named after it, and computes what the loaded weights compute", async () => {
    const file = await openGguf(modelPath);
    const ggufNames = file.tensors.map((t) => t.name);
    await file.close();
    const names = full.parameters.map((p) => p.name);
    expect([...names].sort()).toEqual([...ggufNames].sort());
    expect(names[0]).toBe("token_embd.weight");
    expect(names.includes("output.weight")).toBe(!loaded.config.tiedEmbeddings);
    expect(full.weights.tiedHead ?? false).toBe(loaded.config.tiedEmbeddings);
    const variables = fullModelVariables(full);
    expect(new Set(variables).size).toBe(variables.length);
    expect(variables.every((v) => v instanceof tf.Variable && v.trainable)).toBe(true);
    const [base, trainable] = [forwardLogits(loaded, [tokens]), forwardLogits(full.weights, [tokens])];
    expect(Array.from(trainable.dataSync())).toEqual(Array.from(base.dataSync()));
    tf.dispose([base, trainable]);
  });

  it("loads straight from the GGUF file into variables that outlive the loaded tensors", async () => {
    const direct = await loadFullModel(modelPath);
    try {
      expect(direct.parameters.map((p) => p.name)).toEqual(full.parameters.map((p) => p.name));
      const [a, b] = [forwardLogits(direct.weights, [tokens]), forwardLogits(full.weights, [tokens])];
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      tf.dispose([a, b]);
    } finally {
      disposeFullModel(direct);
    }
  });

  it("reads the LM head from the embedding variable exactly when the model ties them", () => {
    const embedding = full.weights.tokenEmbedding as unknown as tf.Variable;
    const original = tf.clone(embedding);
    const logitOfAbsent = () =>
      tf.tidy(() => {
        const logits = forwardLogits(full.weights, [tokens]);
        return tf.slice(logits, [0, tokens.length - 1, absent], [1, 1, 1]).dataSync()[0]!;
      });
    const before = logitOfAbsent();
    tf.tidy(() => {
      const row = tf.mul(oneHotRow(absent, loaded.config.vocabSize, loaded.config.embeddingLength), 0.5);
      embedding.assign(tf.add(embedding, row));
    });
    const after = logitOfAbsent();
    embedding.assign(original);
    original.dispose();
    if (loaded.config.tiedEmbeddings) expect(Math.abs(after - before)).toBeGreaterThan(1e-3);
    else expect(after).toBe(before);
  });

  it("gives every parameter a gradient that matches central finite differences", () => {
    const variables = fullModelVariables(full);
    const loss = () => sftLoss(full.weights, undefined, [example]);
    const { value, grads } = tf.variableGrads(loss, variables);
    value.dispose();
    const empty = full.parameters.filter(({ variable }) => {
      const g = grads[variable.name];
      return !g || !(tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!) > 0);
    });
    expect(empty.map((p) => p.name)).toEqual([]);

    const sample = [
      "token_embd.weight",
      "blk.0.attn_norm.weight",
      "blk.1.attn_q.weight",
      "blk.0.attn_k.bias",
      "blk.0.ffn_down.weight",
      "output_norm.weight",
      "output.weight",
    ];
    const checked = full.parameters.filter((p) => sample.includes(p.name));
    expect(checked.length).toBe(
      5 + (loaded.config.attentionBias ? 1 : 0) + (loaded.config.tiedEmbeddings ? 0 : 1),
    );
    // Richardson extrapolation of central differences (error O(ε⁴)): float32 forbids a tiny ε.
    const epsilon = 4e-3;
    const report: string[] = [];
    const mismatches: string[] = [];
    checked.forEach(({ name, variable }, i) => {
      const original = tf.clone(variable);
      const direction = tf.randomNormal(variable.shape, 0, 1, "float32", 31 + i);
      const analytic = tf.tidy(() => tf.sum(tf.mul(grads[variable.name]!, direction)).dataSync()[0]!);
      const at = (step: number): number => {
        tf.tidy(() => variable.assign(tf.add(original, tf.mul(direction, step))));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const central = (step: number) => (at(step) - at(-step)) / (2 * step);
      const numeric = (4 * central(epsilon / 2) - central(epsilon)) / 3;
      variable.assign(original);
      tf.dispose([original, direction]);
      report.push(`${name} ${analytic.toPrecision(5)}/${numeric.toPrecision(5)}`);
      // Measured |Δ| ≤ 6e-4 (float32 rounding of the loss, divided by 2ε); the bound leaves ≥ 5× margin and
      // stays far below what a dropped gradient path would cost (tenths to whole units here).
      if (Math.abs(numeric - analytic) > 2e-3 + 5e-3 * Math.abs(analytic))
        mismatches.push(`${name}: analytic ${analytic}, numeric ${numeric}`);
    });
    tf.dispose(grads);
    console.log(`${name}: directional derivatives analytic/numeric: ${report.join(", ")}`);
    expect(mismatches).toEqual([]);
  });

  it("lowers the masked loss substantially in 15 AdamW steps of trainLoop", async () => {
    const fresh = createFullModel(loaded);
    const optimizer = new AdamW(fullModelVariables(fresh), { learningRate: 3e-3, weightDecay: 0 });
    try {
      const objective = fullSftObjective(fresh, optimizer);
      const initial = tf.tidy(() => objective.loss([example]).dataSync()[0]!);
      const before = tf.memory().numTensors;
      const { history } = await trainLoop({
        objective,
        examples: [example],
        batchSize: 1,
        totalSteps: 15,
        learningRate: { peak: 3e-3 },
        seed: 1,
      });
      expect(tf.memory().numTensors).toBe(before);
      const final = tf.tidy(() => objective.loss([example]).dataSync()[0]!);
      console.log(`${name}: full-parameter loss ${initial.toFixed(4)} → ${final.toFixed(4)} (15 steps)`);
      expect(history).toHaveLength(15);
      expect(history[0]!.loss).toBeCloseTo(initial, 5);
      expect(final).toBeLessThan(initial * 0.25);
    } finally {
      optimizer.dispose();
      disposeFullModel(fresh);
    }
  });
});

/** [vocab, dim]: ones in row `row`, zeros elsewhere. */
function oneHotRow(row: number, vocab: number, dim: number): tf.Tensor2D {
  const values = new Float32Array(vocab * dim);
  values.fill(1, row * dim, (row + 1) * dim);
  return tf.tensor2d(values, [vocab, dim]);
}
