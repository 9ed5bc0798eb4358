// Parity with llama.cpp of the trainer's RoPE scaling: Llama 3 frequency factors (`rope_freqs.weight`),
// linear scaling and YaRN, on generated tiny llama models and sequences long enough for positions to matter.
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MakeTestModelOptions, makeTestModel } from "../../gguf/test-models/make-model.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import { testFolder } from "../../test-support/test-models.js";
import { writeGgufModel } from "../formats/export-gguf-model.js";
import { initTrainingBackend } from "./backend.js";
import type { ModelConfig } from "./model-config.js";
import { sequenceLogprobs } from "./transformer.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

const text =
  "The quick brown fox jumps over the lazy dog, then runs far into the deep green forest to find (A) or (B).";

type Variant = Pick<MakeTestModelOptions, "ropeFreqFactors" | "ropeScaling">;
type Wrong = Partial<
  Pick<
    ModelConfig,
    "ropeScaling" | "ropeFreqScale" | "ropeAttnFactor" | "ropeFreqFactors" | "ropeOriginalContextLength"
  >
>;

const ignored: Wrong = {
  ropeScaling: "none",
  ropeFreqScale: 1,
  ropeAttnFactor: 1,
  ropeFreqFactors: undefined,
};

/** Name, model options, the config they should read as, and wrong readings the parity check must reject. */
const variants: Array<[string, Variant, Partial<ModelConfig>, Record<string, Wrong>]> = [
  [
    "llama3 frequency factors",
    { ropeFreqFactors: "seeded" },
    { ropeScaling: "none", ropeFreqScale: 1 },
    { "factors ignored": ignored },
  ],
  [
    "linear scaling ×4",
    { ropeScaling: { type: "linear", factor: 4 } },
    { ropeScaling: "linear", ropeFreqScale: 0.25, ropeFreqFactors: undefined },
    { "scaling ignored": ignored, "scale 4 instead of 1/4": { ropeFreqScale: 4 } },
  ],
  [
    "YaRN ×4 from a 1024-token context",
    { ropeScaling: { type: "yarn", factor: 4, originalContextLength: 1024 } },
    { ropeScaling: "yarn", ropeFreqScale: 0.25, ropeOriginalContextLength: 1024 },
    {
      "scaling ignored": ignored,
      "read as linear": { ropeScaling: "linear" },
      "magnitude correction 1 + 0.1·ln 4 ignored": { ropeAttnFactor: 1 / (1 + 0.1 * Math.log(4)) },
      "original context ignored": { ropeOriginalContextLength: 8192 },
    },
  ],
  [
    "linear ×2 with frequency factors and an attention factor",
    { ropeFreqFactors: "seeded", ropeScaling: { type: "linear", factor: 2, attnFactor: 1.5 } },
    { ropeScaling: "linear", ropeFreqScale: 0.5, ropeAttnFactor: 1.5 },
    {
      "scaling ignored": ignored,
      "attention factor ignored": { ropeAttnFactor: 1 },
      "factors ignored": { ropeFreqFactors: undefined },
    },
  ],
];

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.each(variants)("RoPE parity with llama.cpp: %s", (name, variant, expectedConfig, wrongs) => {
  let llama: LlamaLanguageModel;
  let weights: TransformerWeights;
  let tokens: ReturnType<LlamaLanguageModel["prompts"]["textTokens"]>;
  let reference: number[];

  beforeAll(async () => {
    await initTrainingBackend();
    const out = path.join(await testFolder(), `rope-${name.replace(/\W+/g, "-")}.gguf`);
    await makeTestModel({ preset: "tiny", seed: 1, out, ...variant });
    llama = await LlamaLanguageModel.load(out, { threads: 1, gpu: false, exactKvCache: true, parallel: 1 });
    weights = await loadWeights(out);
    tokens = llama.prompts.textTokens(text);
    reference = (await llama.promptLogprobs(tokens, 0)).slice(1).map((entry) => entry!.logprob);
  });

  afterAll(async () => {
    if (weights) disposeWeights(weights);
    await llama?.close();
  });

  it("reads the scaling from the GGUF", () => {
    expect(weights.config).toMatchObject(expectedConfig);
    if (variant.ropeFreqFactors === "seeded") {
      const factors = weights.config.ropeFreqFactors;
      expect(factors?.length).toBe(weights.config.headDim / 2);
      expect(Math.min(...factors!)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...factors!)).toBeLessThanOrEqual(8);
    }
  });

  it("matches llama.cpp's log-probabilities to 1e-4", () => {
    expect(tokens.length).toBeGreaterThan(40);
    const delta = maxAbsDifference(sequenceLogprobs(weights, tokens), reference);
    console.log(`${name}: ${tokens.length} tokens, max |Δ log p| = ${delta.toExponential(2)}`);
    expect(delta).toBeLessThan(1e-4);
  });

  it.each(Object.entries(wrongs))("would notice: %s (the check is sensitive to it)", (wrongName, wrong) => {
    const config = { ...weights.config, ...wrong };
    const delta = maxAbsDifference(sequenceLogprobs({ ...weights, config }, tokens), reference);
    console.log(`${name}, ${wrongName}: max |Δ log p| = ${delta.toExponential(2)}`);
    expect(delta).toBeGreaterThan(1e-2);
  });
});

describe("GGUF model export of a Llama 3 model", () => {
  it("copies rope_freqs.weight from the base: llama.cpp runs the export as the trainer does", async () => {
    await initTrainingBackend();
    const dir = await testFolder();
    const base = path.join(dir, "rope-export-base.gguf");
    await makeTestModel({ preset: "tiny", seed: 2, out: base, ropeFreqFactors: "seeded" });
    const weights = await loadWeights(base);
    const out = path.join(dir, "rope-export-out.gguf");
    try {
      // A changed weight, so the export is not the base file over again.
      const changed = { ...weights, outputNorm: tf.mul(weights.outputNorm, 1.5) as tf.Tensor1D };
      await writeGgufModel(out, changed, base);
      const llama = await LlamaLanguageModel.load(out, {
        threads: 1,
        gpu: false,
        exactKvCache: true,
        parallel: 1,
      });
      try {
        const tokens = llama.prompts.textTokens(text);
        const reference = (await llama.promptLogprobs(tokens, 0)).slice(1).map((entry) => entry!.logprob);
        expect(maxAbsDifference(sequenceLogprobs(changed, tokens), reference)).toBeLessThan(1e-4);
        expect(maxAbsDifference(sequenceLogprobs(weights, tokens), reference)).toBeGreaterThan(1e-2);
      } finally {
        await llama.close();
      }
      changed.outputNorm.dispose();
    } finally {
      disposeWeights(weights);
    }
  });
});
