// The transformer's custom gradients (fused masked softmax, frozen-weight product, fused chunked LM head,
// per-block activation checkpointing) against the plain tfjs formulation (`fastOps: false`), for LoRA and
// full-parameter training, plus finite differences through the checkpointed path.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testModel } from "../../test-support/test-models.js";
import { tiedTestModel } from "../../test-support/tied-test-model.js";
import { initTrainingBackend } from "./backend.js";
import {
  attentionMix,
  frozenMatMul,
  headLogprobs,
  type LmHead,
  maskedSoftmax,
  setTrainerTuning,
  type TrainerTuning,
} from "./fast-ops.js";
import { createFullModel, disposeFullModel, fullModelVariables } from "./full-model.js";
import { createLora, disposeLora, type LoraAdapter, loraVariables, withLoraDropout } from "./lora.js";
import { tokenLogprobs } from "./transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const plain: Partial<TrainerTuning> = { fastOps: false };
/** Every fast path at once, with LM-head chunks small enough that the test sequences span several. */
const fast: Partial<TrainerTuning> = {
  fastOps: true,
  checkpoint: "always",
  headChunkRows: 5,
  headVocabBlock: 4,
};
/** The other variants: the head recomputing its logits in the backward pass, only block 0 checkpointed. */
const recomputing: Partial<TrainerTuning> = {
  ...fast,
  checkpoint: 1,
  headSaveBytes: 0,
  headVocabBlock: 4096,
};
const variants = [
  ["every block checkpointed, head keeps its softmax", fast],
  ["block 0 checkpointed, head recomputes its logits", recomputing],
] as const;

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/** f() under `tuning`, restoring the previous tuning after. */
function under<T>(tuning: Partial<TrainerTuning>, f: () => T): T {
  const back = setTrainerTuning(tuning);
  try {
    return f();
  } finally {
    back();
  }
}

/** max |a − b| / max |b| over all the pairs (0 when both are all zeros). */
function relativeDifference(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  a.forEach((x, i) => {
    const y = b[i] as tf.Tensor;
    expect(x.shape).toEqual(y.shape);
    const xs = x.dataSync();
    const ys = y.dataSync();
    for (let j = 0; j < xs.length; j += 1) {
      diff = Math.max(diff, Math.abs(xs[j]! - ys[j]!));
      scale = Math.max(scale, Math.abs(ys[j]!));
    }
  });
  return scale === 0 ? diff : diff / scale;
}

/** Value and gradients of `loss` with respect to `xs` (tf.grads: plain tensors or variables). */
function valueAndGrads(loss: (...xs: tf.Tensor[]) => tf.Scalar, xs: tf.Tensor[]) {
  return tf.valueAndGrads(loss)(xs);
}

function random(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.randomNormal(shape, 0, scale, "float32", seed);
}

describe("fast ops against their plain formulation", () => {
  beforeAll(async () => {
    await initTrainingBackend();
  });

  it("masked softmax: same values and gradient", () => {
    const scores = random([3, 6, 6], 1, 2);
    const weights = random([3, 6, 6], 2);
    const mask = tf.tensor2d(
      Array.from({ length: 36 }, (_, i) => (i % 6 > Math.floor(i / 6) ? Number.NEGATIVE_INFINITY : 0)),
      [6, 6],
    );
    const loss = (x: tf.Tensor) => tf.sum(tf.mul(maskedSoftmax(x, mask), weights)) as tf.Scalar;
    const ours = under(fast, () => valueAndGrads(loss, [scores]));
    const reference = under(plain, () => valueAndGrads(loss, [scores]));
    expect(
      relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]),
    ).toBeLessThan(1e-6);
    tf.dispose([scores, weights, mask, ours.value, ours.grads, reference.value, reference.grads]);
  });

  it("attention mix p · v: same values and gradients", () => {
    const p = random([12, 5], 9);
    const v = random([5, 3], 10);
    const weights = random([12, 3], 11);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(attentionMix(a as tf.Tensor2D, b as tf.Tensor2D), weights)) as tf.Scalar;
    const ours = under(fast, () => valueAndGrads(loss, [p, v]));
    const reference = under(plain, () => valueAndGrads(loss, [p, v]));
    expect(
      relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]),
    ).toBeLessThan(1e-6);
    tf.dispose([p, v, weights, ours.value, ours.grads, reference.value, reference.grads]);
  });

  it("frozen-weight product: same values and input gradient", () => {
    const x = random([7, 5], 3);
    const w = random([5, 4], 4);
    const weights = random([7, 4], 5);
    const loss = (input: tf.Tensor) =>
      tf.sum(tf.mul(frozenMatMul(input as tf.Tensor2D, w as tf.Tensor2D), weights)) as tf.Scalar;
    const ours = under(fast, () => valueAndGrads(loss, [x]));
    const reference = under(plain, () => valueAndGrads(loss, [x]));
    expect(
      relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]),
    ).toBeLessThan(1e-6);
    tf.dispose([x, w, weights, ours.value, ours.grads, reference.value, reference.grads]);
  });

  it.each([
    ["[dim, vocab], trained", "dimVocab", true, fast],
    ["[dim, vocab], frozen", "dimVocab", false, fast],
    ["[vocab, dim] (tied), trained", "vocabDim", true, fast],
    ["[vocab, dim] (tied), frozen", "vocabDim", false, fast],
    ["[dim, vocab], trained, logits recomputed", "dimVocab", true, recomputing],
    ["[vocab, dim] (tied), trained, logits recomputed", "vocabDim", true, recomputing],
    ["[vocab, dim] (tied), frozen, logits recomputed", "vocabDim", false, recomputing],
  ] as const)("chunked LM head %s: same log-probs and gradients", (_, layout, trainable, tuning) => {
    const [rows, dim, vocab] = [13, 6, 12];
    const h = random([rows, dim], 6);
    const w = random(layout === "dimVocab" ? [dim, vocab] : [vocab, dim], 7);
    const targets = Array.from({ length: rows }, (_, i) => (i * 7) % vocab);
    const weights = random([rows], 8);
    const loss = (hidden: tf.Tensor, head: tf.Tensor) => {
      const lmHead: LmHead = { weight: head as tf.Tensor2D, layout, trainable };
      return tf.sum(tf.mul(headLogprobs(hidden as tf.Tensor2D, lmHead, targets), weights)) as tf.Scalar;
    };
    const xs = trainable ? [h, w] : [h];
    const f = trainable ? loss : (hidden: tf.Tensor) => loss(hidden, w);
    const ours = under(tuning, () => valueAndGrads(f, xs));
    const reference = under(plain, () => valueAndGrads(f, xs));
    expect(ours.grads).toHaveLength(xs.length);
    expect(
      relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]),
    ).toBeLessThan(1e-5);
    // Without a tape (forward only), the same values too.
    const forwardOnly = under(fast, () => loss(h, w));
    expect(relativeDifference([forwardOnly], [reference.value])).toBeLessThan(1e-6);
    tf.dispose([h, w, weights, forwardOnly, ours.value, ours.grads, reference.value, reference.grads]);
  });
});

const models = {
  tiny: () => testModel("tiny", "F32"),
  "tiny-qwen2": () => testModel("tiny-qwen2", "F32"),
  "tiny-tied": tiedTestModel,
} as const;

describe.each(Object.keys(models) as Array<keyof typeof models>)("transformer fast paths (%s)", (name) => {
  let weights: TransformerWeights;
  let lora: LoraAdapter;
  const tokens = [
    [1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340, 300],
    [1, 290, 305, 333, 412, 346, 360, 328, 301, 435, 344, 302, 311],
  ];
  /** A loss that weights every log-prob differently (so no gradient cancels by symmetry). */
  const lossOf = (w: TransformerWeights, adapter?: LoraAdapter) => () =>
    tf.tidy(() => {
      const logprobs = tokenLogprobs(w, tokens, adapter);
      const mix = tf.reshape(tf.linspace(0.5, 1.5, logprobs.size), logprobs.shape);
      return tf.sum(tf.mul(logprobs, mix)) as tf.Scalar;
    });

  beforeAll(async () => {
    await initTrainingBackend();
    weights = await loadWeights(await models[name]());
    lora = createLora(weights, { rank: 3, alpha: 6, seed: 2, dropout: 0.25 });
    // B ≠ 0, so every LoRA factor gets a gradient.
    for (const v of loraVariables(lora)) v.assign(random(v.shape, 11 + v.size, 0.05));
  });
  afterAll(() => {
    if (lora) disposeLora(lora);
    if (weights) disposeWeights(weights);
  });

  const loraGrads = (tuning: Partial<TrainerTuning>, dropoutSeed?: number) =>
    under(tuning, () => {
      const run = () => tf.variableGrads(lossOf(weights, lora), loraVariables(lora));
      const { value, grads } = dropoutSeed === undefined ? run() : withLoraDropout(0.25, dropoutSeed, run);
      return { value, grads: loraVariables(lora).map((v) => grads[v.name] as tf.Tensor) };
    });

  it.each(variants)(
    "LoRA (%s): checkpointed blocks, frozen products and the chunked head give tfjs's gradients",
    (label, tuning) => {
      for (const seed of [undefined, 9]) {
        const ours = loraGrads(tuning, seed);
        const reference = loraGrads(plain, seed);
        const rel = relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]);
        console.log(
          `${name} LoRA, ${label}${seed === undefined ? "" : ", with dropout"}: max relative Δ ${rel.toExponential(2)}`,
        );
        expect(rel).toBeLessThan(1e-5);
        tf.dispose([ours.value, ours.grads, reference.value, reference.grads]);
      }
    },
  );

  it("LoRA: the checkpointed step is deterministic and leaks no tensor", () => {
    const first = loraGrads(fast, 4);
    const before = tf.memory().numTensors;
    const second = loraGrads(fast, 4);
    const after = tf.memory().numTensors;
    expect(after - before).toBe(1 + second.grads.length);
    first.grads.forEach((g, i) => {
      expect(Array.from(second.grads[i]!.dataSync())).toEqual(Array.from(g.dataSync()));
    });
    tf.dispose([first.value, first.grads, second.value, second.grads]);
  });

  it("LoRA: the checkpointed gradient matches finite differences", () => {
    const variables = loraVariables(lora).filter((_, i) => i % 5 === 0);
    const { grads } = under(fast, () => tf.variableGrads(lossOf(weights, lora), variables));
    const epsilon = 4e-3;
    const mismatches: string[] = [];
    variables.forEach((v, i) => {
      const original = tf.keep(v.clone());
      const direction = tf.keep(random(v.shape, 40 + i));
      const analytic = tf.tidy(() => tf.sum(tf.mul(grads[v.name]!, direction)).dataSync()[0]!);
      const at = (step: number) => {
        v.assign(tf.tidy(() => tf.add(original, tf.mul(direction, step))));
        return tf.tidy(() => lossOf(weights, lora)().dataSync()[0]!);
      };
      const central = (step: number) => (at(step) - at(-step)) / (2 * step);
      const numeric = (4 * central(epsilon / 2) - central(epsilon)) / 3;
      v.assign(original);
      tf.dispose([original, direction]);
      if (Math.abs(numeric - analytic) > 1e-2 + 1e-2 * Math.abs(analytic))
        mismatches.push(`${v.name}: analytic ${analytic}, numeric ${numeric}`);
    });
    tf.dispose(Object.values(grads));
    expect(mismatches).toEqual([]);
  });

  it.each(variants)(
    "full-parameter training (%s; every weight a variable, tied head included): tfjs's gradients",
    (label, tuning) => {
      const full = createFullModel(weights);
      try {
        const variables = fullModelVariables(full);
        const run = (tuning: Partial<TrainerTuning>) =>
          under(tuning, () => {
            const { value, grads } = tf.variableGrads(lossOf(full.weights), variables);
            return { value, grads: variables.map((v) => grads[v.name] as tf.Tensor) };
          });
        const ours = run(tuning);
        const reference = run(plain);
        const rel = relativeDifference([ours.value, ...ours.grads], [reference.value, ...reference.grads]);
        console.log(`${name} full, ${label}: max relative Δ ${rel.toExponential(2)}`);
        expect(rel).toBeLessThan(1e-5);
        // Per tensor too: a small gradient (e.g. an embedding row reached only through the tied head) counts.
        const worst = variables
          .map((v, i) => [v.name, relativeDifference([ours.grads[i]!], [reference.grads[i]!])] as const)
          .filter(([, r]) => r > 1e-4);
        expect(worst).toEqual([]);
        tf.dispose([ours.value, ours.grads, reference.value, reference.grads]);
      } finally {
        disposeFullModel(full);
      }
    },
  );
});
