// Shapes of the generated test models: `tiny` for tests (well under 1 MB), its qwen2 twin (QKV bias,
// NEOX RoPE in llama.cpp), and `smollm2-135m` with SmolLM2-135M's real shapes for benchmarks.

/** The shape of a generated model. */
export interface ModelPreset {
  architecture: "llama" | "qwen2";
  vocabSize: number;
  embeddingLength: number;
  blockCount: number;
  headCount: number;
  headCountKv: number;
  feedForwardLength: number;
  contextLength: number;
  ropeFreqBase: number;
  rmsEpsilon: number;
  /** Output projection shares the token embedding (no `output.weight`). */
  tiedEmbeddings: boolean;
}

/** Preset names accepted by `cai dev make-model --preset`. */
export const presetNames = ["tiny", "tiny-qwen2", "smollm2-135m"] as const;
export type PresetName = (typeof presetNames)[number];

const tiny: ModelPreset = {
  architecture: "llama",
  vocabSize: 512,
  embeddingLength: 64,
  blockCount: 2,
  headCount: 4,
  headCountKv: 2,
  feedForwardLength: 128,
  // Long enough for a constitution's few-shot examples, which this small vocabulary spells out.
  contextLength: 8192,
  ropeFreqBase: 10000,
  rmsEpsilon: 1e-5,
  tiedEmbeddings: false,
};

export const presets: Record<PresetName, ModelPreset> = {
  tiny,
  "tiny-qwen2": { ...tiny, architecture: "qwen2", ropeFreqBase: 1000000, rmsEpsilon: 1e-6 },
  "smollm2-135m": {
    architecture: "llama",
    vocabSize: 49152,
    embeddingLength: 576,
    blockCount: 30,
    headCount: 9,
    headCountKv: 3,
    feedForwardLength: 1536,
    contextLength: 8192,
    ropeFreqBase: 100000,
    rmsEpsilon: 1e-5,
    tiedEmbeddings: true,
  },
};
