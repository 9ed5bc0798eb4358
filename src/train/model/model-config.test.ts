// Reading trainer hyper-parameters from GGUF metadata, and the errors for models it cannot run.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type GgufValue, gguf, openGguf, writeGguf } from "../../gguf/index.js";
import { makeTestModel, type TestRopeScaling } from "../../gguf/test-models/make-model.js";
import { testFolder, testModel } from "../../test-support/test-models.js";
import { readModelConfig } from "./model-config.js";
import { ModelConfigError } from "./model-config-error.js";
import { UnsupportedArchitectureError } from "./unsupported-architecture-error.js";

async function configOf(file: string) {
  const gguf = await openGguf(file);
  try {
    return readModelConfig(gguf);
  } finally {
    await gguf.close();
  }
}

async function metadataOnlyModel(name: string, metadata: Array<[string, GgufValue]>): Promise<string> {
  const file = path.join(await testFolder(), name);
  const tensors = [
    { name: "token_embd.weight", shape: [4, 2], type: "F32" as const, data: new Float32Array(8) },
  ];
  await writeGguf(file, { metadata, tensors });
  return file;
}

describe("readModelConfig", () => {
  it("reads the tiny llama model", async () => {
    expect(await configOf(await testModel("tiny", "F32"))).toEqual({
      architecture: "llama",
      vocabSize: 512,
      embeddingLength: 64,
      blockCount: 2,
      headCount: 4,
      headCountKv: 2,
      headDim: 16,
      feedForwardLength: 128,
      contextLength: 8192,
      ropeFreqBase: 10000,
      ropeDimensionCount: 16,
      ropeStyle: "normal",
      ropeScaling: "none",
      ropeFreqScale: 1,
      ropeAttnFactor: 1,
      ropeOriginalContextLength: 8192,
      ropeFreqFactors: undefined,
      rmsEpsilon: expect.closeTo(1e-5, 12),
      tiedEmbeddings: false,
      attentionBias: false,
    });
  });

  it("gives qwen2 NEOX RoPE and attention biases", async () => {
    const config = await configOf(await testModel("tiny-qwen2", "F32"));
    expect(config).toMatchObject({ architecture: "qwen2", ropeStyle: "neox", attentionBias: true });
    expect(config.ropeFreqBase).toBe(1e6);
  });

  it("rejects an architecture the trainer does not implement", async () => {
    const file = await metadataOnlyModel("gpt2.gguf", [["general.architecture", gguf.str("gpt2")]]);
    const error = await configOf(file).catch((e: unknown) => e);
    expect(UnsupportedArchitectureError.isInstance(error)).toBe(true);
    expect(String(error)).toContain('"gpt2" is not supported');
  });

  it("names a missing hyper-parameter", async () => {
    const file = await metadataOnlyModel("incomplete.gguf", [
      ["general.architecture", gguf.str("mistral")],
      ["mistral.embedding_length", gguf.u32(64)],
    ]);
    const error = await configOf(file).catch((e: unknown) => e);
    expect(ModelConfigError.isInstance(error)).toBe(true);
    expect(String(error)).toContain("mistral.attention.head_count is missing");
  });

  describe("RoPE scaling", () => {
    /** A llama model's metadata (tensors aside) with extra `llama.rope.*` entries. */
    const llamaWith = (name: string, rope: Array<[string, GgufValue]>) =>
      metadataOnlyModel(name, [
        ["general.architecture", gguf.str("llama")],
        ["llama.embedding_length", gguf.u32(64)],
        ["llama.attention.head_count", gguf.u32(4)],
        ["llama.block_count", gguf.u32(1)],
        ["llama.feed_forward_length", gguf.u32(128)],
        ["llama.context_length", gguf.u32(4096)],
        ["llama.attention.layer_norm_rms_epsilon", gguf.f32(1e-5)],
        ["llama.vocab_size", gguf.u32(4)],
        ...rope,
      ]);

    it("reads a factor without a type as linear scaling, as llama.cpp does (old key too)", async () => {
      const file = await llamaWith("scale-linear.gguf", [["llama.rope.scale_linear", gguf.f32(2)]]);
      expect(await configOf(file)).toMatchObject({ ropeScaling: "linear", ropeFreqScale: 0.5 });
    });

    it("ignores the factor when the type is none", async () => {
      const file = await llamaWith("scaling-none.gguf", [
        ["llama.rope.scaling.type", gguf.str("none")],
        ["llama.rope.scaling.factor", gguf.f32(4)],
      ]);
      expect(await configOf(file)).toMatchObject({ ropeScaling: "none", ropeFreqScale: 1 });
    });

    it("reads YaRN's original context, defaulting to the context length", async () => {
      const yarn = (extra: Array<[string, GgufValue]>) => [
        ["llama.rope.scaling.type", gguf.str("yarn")] as [string, GgufValue],
        ["llama.rope.scaling.factor", gguf.f32(8)] as [string, GgufValue],
        ...extra,
      ];
      const plain = await configOf(await llamaWith("yarn.gguf", yarn([])));
      expect(plain).toMatchObject({
        ropeScaling: "yarn",
        ropeFreqScale: 0.125,
        ropeOriginalContextLength: 4096,
      });
      const original = await llamaWith("yarn-1024.gguf", [
        ...yarn([["llama.rope.scaling.original_context_length", gguf.u32(1024)]]),
      ]);
      expect((await configOf(original)).ropeOriginalContextLength).toBe(1024);
    });

    it.each(["longrope", "su", "dynamic"])(
      "refuses scaling type %j, naming the file and the key",
      async (type) => {
        const file = await llamaWith(`scaling-${type}.gguf`, [
          ["llama.rope.scaling.type", gguf.str(type)],
          ["llama.rope.scaling.factor", gguf.f32(4)],
        ]);
        const error = await configOf(file).catch((e: unknown) => e);
        expect(ModelConfigError.isInstance(error)).toBe(true);
        expect(String(error)).toContain(file);
        expect(String(error)).toContain(`llama.rope.scaling.type is "${type}"`);
      },
    );

    /** A generated tiny model with RoPE scaling metadata or frequency factors. */
    const scaledModel = async (
      name: string,
      preset: "tiny" | "tiny-qwen2",
      ropeScaling?: TestRopeScaling,
      ropeFreqFactors?: Float32Array,
    ) => {
      const out = path.join(await testFolder(), name);
      await makeTestModel({ preset, out, ropeScaling, ropeFreqFactors });
      return out;
    };

    it("reads the llama3 frequency factors", async () => {
      const factors = Float32Array.from({ length: 8 }, (_, i) => 1 + i);
      const config = await configOf(await scaledModel("freqs.gguf", "tiny", undefined, factors));
      expect(config.ropeFreqFactors).toEqual(factors);
      expect(config).toMatchObject({ ropeScaling: "none", ropeFreqScale: 1 });
    });

    it("refuses frequency factors of the wrong length", async () => {
      const file = await scaledModel("freqs-short.gguf", "tiny", undefined, new Float32Array([1, 2, 3, 4]));
      const error = await configOf(file).catch((e: unknown) => e);
      expect(ModelConfigError.isInstance(error)).toBe(true);
      expect(String(error)).toContain("rope_freqs.weight is F32 [4]; llama.cpp expects F32 [8]");
    });

    it("refuses frequency factors in a qwen2 model, which llama.cpp would not load", async () => {
      const factors = new Float32Array(8).fill(2);
      const file = await scaledModel("qwen2-freqs.gguf", "tiny-qwen2", undefined, factors);
      const error = await configOf(file).catch((e: unknown) => e);
      expect(ModelConfigError.isInstance(error)).toBe(true);
      expect(String(error)).toContain("rope_freqs.weight");
    });

    it("reads linear scaling with an attention factor", async () => {
      const scaling = { type: "linear", factor: 4, attnFactor: 1.5 };
      const config = await configOf(await scaledModel("linear.gguf", "tiny", scaling));
      expect(config).toMatchObject({ ropeScaling: "linear", ropeFreqScale: 0.25, ropeAttnFactor: 1.5 });
    });
  });
});
