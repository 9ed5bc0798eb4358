// A fully trained model exported as GGUF: llama.cpp loads it and computes the trainer's log-probabilities
// (F32 exactly up to float32 arithmetic, F16 up to its rounding), for llama, qwen2 and a tied-embedding llama.
import { access, mkdtemp } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openGguf, plainValue } from "../../gguf/index.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { tiedTestModel } from "../../test-support/tied-test-model.js";
import { initTrainingBackend } from "../model/backend.js";
import {
  createFullModel,
  disposeFullModel,
  type FullModel,
  fullModelVariables,
} from "../model/full-model.js";
import { sequenceLogprobs } from "../model/transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import { AdamW, type SftExample, sftLoss } from "../objectives/sft.js";
import { BaseModelMismatchError } from "./base-model-mismatch-error.js";
import { writeGgufModel } from "./export-gguf-model.js";

const trainTokens = [1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340, 300, 301, 302, 303];
const heldOut = [
  [1, 290, 305, 333, 412, 346, 360, 328, 301, 435, 344, 302, 311],
  [1, 313, 333, 330, 440, 346, 334, 328, 336, 435, 343, 340, 300, 301],
];

const models = {
  tiny: () => testModel("tiny", "F32"),
  "tiny-qwen2": () => testModel("tiny-qwen2", "F32"),
  "tiny-tied": tiedTestModel,
} as const;
type ModelName = keyof typeof models;

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** llama.cpp's log-probabilities of every held-out sequence (F32 KV cache, no flash attention, 1 thread). */
async function llamaLogprobs(modelPath: string): Promise<number[][]> {
  const llama = await LlamaLanguageModel.load(modelPath, {
    threads: 1,
    gpu: false,
    exactKvCache: true,
    parallel: 1,
  });
  try {
    const all: number[][] = [];
    for (const tokens of heldOut)
      all.push((await llama.promptLogprobs(tokens as Token[], 0)).slice(1).map((entry) => entry!.logprob));
    return all;
  } finally {
    await llama.close();
  }
}

/** The largest |Δ log p| between the trainer on `weights` and `reference`, over every held-out sequence. */
function delta(weights: TransformerWeights, reference: readonly number[][]): number {
  return Math.max(
    ...heldOut.map((tokens, i) => maxAbsDifference(sequenceLogprobs(weights, tokens), reference[i]!)),
  );
}

describe.each(Object.keys(models) as ModelName[])("GGUF model export (%s)", (name) => {
  let basePath: string;
  let dir: string;
  let base: TransformerWeights;
  let full: FullModel;

  beforeAll(async () => {
    await initTrainingBackend();
    basePath = await models[name]();
    dir = await mkdtemp(path.join(await testFolder(), `full-${name}-`));
    base = await loadWeights(basePath);
    full = createFullModel(base);
    // A few full-parameter AdamW steps, so the export differs clearly from the base everywhere.
    const example: SftExample = { tokens: trainTokens, lossMask: trainTokens.map(() => 1) };
    const variables = fullModelVariables(full);
    const optimizer = new AdamW(variables, { learningRate: 3e-3, weightDecay: 0.01 });
    for (let step = 0; step < 8; step += 1) {
      const { value, grads } = tf.variableGrads(() => sftLoss(full.weights, undefined, [example]), variables);
      optimizer.apply(variables.map((v) => grads[v.name]!));
      tf.dispose([value, ...Object.values(grads)]);
    }
    optimizer.dispose();
  });
  afterAll(() => {
    if (full) disposeFullModel(full);
    if (base) disposeWeights(base);
  });

  it("writes an F32 model llama.cpp runs exactly as the trainer does (held-out sequences, 1e-3)", async () => {
    const out = path.join(dir, "model-f32.gguf");
    const before = tf.memory().numTensors;
    const written = await writeGgufModel(out, full.weights, basePath);
    expect(tf.memory().numTensors).toBe(before);
    const [file, baseFile] = await Promise.all([openGguf(out), openGguf(basePath)]);
    try {
      // Same tensors in the same order, same shapes, all F32; the metadata copied key by key.
      expect(file.tensors.map((t) => [t.name, t.shape])).toEqual(
        baseFile.tensors.map((t) => [t.name, t.shape]),
      );
      expect(written.tensors).toBe(baseFile.tensors.length);
      expect(new Set(file.tensors.map((t) => t.typeName))).toEqual(new Set(["F32"]));
      expect([...file.metadata.keys()]).toEqual([...baseFile.metadata.keys()]);
      for (const [key, value] of baseFile.metadata)
        expect(plainValue(file.metadata.get(key)!), key).toEqual(plainValue(value));
    } finally {
      await Promise.all([file.close(), baseFile.close()]);
    }
    // Our reader gets the trained values back bit for bit.
    const reloaded = await loadWeights(out);
    expect(
      delta(
        reloaded,
        heldOut.map((tokens) => Array.from(sequenceLogprobs(full.weights, tokens))),
      ),
    ).toBe(0);
    disposeWeights(reloaded);

    const reference = await llamaLogprobs(out);
    const error = delta(full.weights, reference);
    const shift = delta(base, reference);
    console.log(
      `${name} F32 export: llama.cpp vs trainer max |Δ log p| = ${error.toExponential(2)} (base vs trained: ${shift.toExponential(2)})`,
    );
    expect(shift).toBeGreaterThan(1e-1);
    expect(error).toBeLessThan(1e-3);
  });

  it("writes an F16 model (norms and biases F32) that matches within F16 rounding", async () => {
    const out = path.join(dir, "model-f16.gguf");
    await writeGgufModel(out, full.weights, basePath, { tensorType: "F16", name: "cai-full-f16" });
    const file = await openGguf(out);
    try {
      for (const t of file.tensors) expect(t.typeName, t.name).toBe(t.shape.length === 1 ? "F32" : "F16");
      expect(file.metadataValue("general.file_type")).toBe(1);
      expect(file.metadataValue("general.name")).toBe("cai-full-f16");
    } finally {
      await file.close();
    }
    const reference = await llamaLogprobs(out);
    // Tolerances: measured 2.9e-3 and 5.5e-3 on these models (whose trained log-probs span ~12 nats), with
    // ~3.5× margin; a layout slip shows up as whole nats (base vs trained differ by > 10).
    // The trainer on the file's own (F16-rounded) weights: what is left is llama.cpp rounding activations
    // to F16 inside its F16 matmuls.
    const rounded = await loadWeights(out);
    const layoutError = delta(rounded, reference);
    disposeWeights(rounded);
    // The trained float32 weights: adds the weight rounding (relative 2^-11 ≈ 4.9e-4 per weight).
    const error = delta(full.weights, reference);
    console.log(
      `${name} F16 export: llama.cpp vs trainer max |Δ log p| = ${error.toExponential(2)} (trainer on the rounded weights: ${layoutError.toExponential(2)})`,
    );
    expect(layoutError).toBeLessThan(1e-2);
    expect(error).toBeLessThan(2e-2);
  });

  it("writes the values at the call even when training goes on while the file is written", async () => {
    const out = path.join(dir, "model-snapshot.gguf");
    const norm = full.weights.outputNorm as unknown as tf.Variable;
    const before = Float32Array.from(norm.dataSync());
    const writing = writeGgufModel(out, full.weights, basePath);
    norm.assign(tf.zerosLike(norm));
    await writing;
    norm.assign(tf.tensor1d(before));
    const file = await openGguf(out);
    try {
      expect(Array.from(await file.readTensor("output_norm.weight"))).toEqual(Array.from(before));
    } finally {
      await file.close();
    }
  });
});

describe("GGUF model export against the wrong base", () => {
  let tiny: TransformerWeights;

  beforeAll(async () => {
    await initTrainingBackend();
    tiny = await loadWeights(await testModel("tiny", "F32"));
  });
  afterAll(() => {
    if (tiny) disposeWeights(tiny);
  });

  it("refuses another architecture or a tied base for untied weights, writing nothing", async () => {
    const dir = await mkdtemp(path.join(await testFolder(), "full-mismatch-"));
    for (const [label, basePath, expected] of [
      ["qwen2", await testModel("tiny-qwen2", "F32"), /architecture: base qwen2, trained llama/],
      ["tied", await tiedTestModel(), /tiedEmbeddings: base true, trained false/],
    ] as const) {
      const out = path.join(dir, `${label}.gguf`);
      const error = await writeGgufModel(out, tiny, basePath).catch((e: unknown) => e);
      expect(BaseModelMismatchError.isInstance(error), label).toBe(true);
      expect((error as Error).message).toMatch(expected);
      expect((error as Error).message).toMatch(/export against the GGUF file the weights were loaded from/);
      await expect(access(out)).rejects.toThrow();
    }
  });

  it("names every tensor whose shape differs", async () => {
    const block = tiny.blocks[0]!;
    const narrow = tf.zeros([64, 32]) as tf.Tensor2D;
    const reshaped: TransformerWeights = {
      ...tiny,
      blocks: [{ ...block, wq: narrow }, ...tiny.blocks.slice(1)],
    };
    try {
      const out = path.join(await testFolder(), "reshaped.gguf");
      const error = await writeGgufModel(out, reshaped, await testModel("tiny", "F32")).catch(
        (e: unknown) => e,
      );
      expect(BaseModelMismatchError.isInstance(error)).toBe(true);
      expect((error as BaseModelMismatchError).differences).toEqual([
        "blk.0.attn_q.weight: base [64, 64], trained [64, 32]",
      ]);
    } finally {
      narrow.dispose();
    }
  });

  it("refuses a tied model whose head copy was trained apart from the embedding", async () => {
    const tied = await loadWeights(await tiedTestModel());
    const drifted: TransformerWeights = { ...tied, output: tf.mul(tied.output, 1.01) as tf.Tensor2D };
    try {
      const out = path.join(await testFolder(), "tied-drifted.gguf");
      await expect(writeGgufModel(out, drifted, await tiedTestModel())).rejects.toThrow(/createFullModel/);
    } finally {
      drifted.output.dispose();
      disposeWeights(tied);
    }
  });
});
