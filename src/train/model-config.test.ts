// Reading trainer hyper-parameters from GGUF metadata, and the errors for models it cannot run.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type GgufValue, gguf, openGguf, writeGguf } from "../gguf/index.js";
import { testFolder, testModel } from "../test-support/test-models.js";
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
});
