// Reads the hyper-parameters of a llama-family GGUF model (llama, mistral, qwen2) that the trainer's
// transformer needs, and says how each architecture applies RoPE, as llama.cpp does.
import type { GgufFile } from "../gguf/index.js";
import { ModelConfigError } from "./model-config-error.js";
import { UnsupportedArchitectureError } from "./unsupported-architecture-error.js";

/**
 * How RoPE pairs the dimensions of a head. `normal` (GGML's default, used for `llama`/`mistral` GGUFs,
 * whose converter permutes Q/K): pairs (x[2i], x[2i+1]). `neox` (`qwen2`): pairs (x[i], x[i + d/2]).
 */
export type RopeStyle = "normal" | "neox";

/** Architectures the trainer's transformer implements. */
export const trainableArchitectures = ["llama", "mistral", "qwen2"] as const;
/** One of {@link trainableArchitectures}. */
export type TrainableArchitecture = (typeof trainableArchitectures)[number];

const ropeStyles: Record<TrainableArchitecture, RopeStyle> = {
  llama: "normal",
  mistral: "normal",
  qwen2: "neox",
};

/** The shape and numerical constants of a model, as llama.cpp reads them from GGUF metadata. */
export interface ModelConfig {
  readonly architecture: TrainableArchitecture;
  readonly vocabSize: number;
  /** Width of the residual stream (`embedding_length`). */
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly headCount: number;
  readonly headCountKv: number;
  /** `embeddingLength / headCount`. */
  readonly headDim: number;
  readonly feedForwardLength: number;
  readonly contextLength: number;
  readonly ropeFreqBase: number;
  /** Dimensions of each head RoPE rotates (equal to `headDim` for every supported model). */
  readonly ropeDimensionCount: number;
  readonly ropeStyle: RopeStyle;
  /** The ε of RMSNorm: x / sqrt(mean(x²) + ε) · w. */
  readonly rmsEpsilon: number;
  /** No `output.weight`: the LM head is the token embedding. */
  readonly tiedEmbeddings: boolean;
  /** Q, K and V projections have biases (`attn_q.bias` …), as qwen2 does. */
  readonly attentionBias: boolean;
}

function isTrainable(architecture: string): architecture is TrainableArchitecture {
  return (trainableArchitectures as readonly string[]).includes(architecture);
}

/**
 * The {@link ModelConfig} of an open GGUF file. Throws UnsupportedArchitectureError for other
 * architectures, ModelConfigError when a needed key is missing or the shapes do not add up.
 */
export function readModelConfig(file: GgufFile): ModelConfig {
  const fail = (reason: string) => new ModelConfigError(file.path, reason);
  const architecture = file.metadataValue("general.architecture");
  if (typeof architecture !== "string") throw fail("it has no general.architecture");
  if (!isTrainable(architecture))
    throw new UnsupportedArchitectureError(file.path, architecture, trainableArchitectures);

  const number = (key: string, fallback?: number): number => {
    const value = file.metadataValue(`${architecture}.${key}`);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value === "number") return value;
    if (typeof value === "bigint") return Number(value);
    throw fail(`metadata ${architecture}.${key} is ${value === undefined ? "missing" : "not a number"}`);
  };
  const embeddingLength = number("embedding_length");
  const headCount = number("attention.head_count");
  const headCountKv = number("attention.head_count_kv", headCount);
  const headDim = embeddingLength / headCount;
  if (!Number.isInteger(headDim))
    throw fail(`embedding_length ${embeddingLength} is not a multiple of ${headCount} heads`);
  if (headCount % headCountKv !== 0)
    throw fail(`${headCount} heads cannot share ${headCountKv} KV heads evenly`);
  const ropeDimensionCount = number("rope.dimension_count", headDim);
  if (ropeDimensionCount !== headDim)
    throw fail(`partial RoPE (${ropeDimensionCount} of ${headDim} head dimensions) is not supported yet`);
  checkNoRopeScaling(file, architecture, fail);

  const tokens = file.metadataValue("tokenizer.ggml.tokens");
  const vocabSize = Array.isArray(tokens) ? tokens.length : number("vocab_size");
  return {
    architecture,
    vocabSize,
    embeddingLength,
    blockCount: number("block_count"),
    headCount,
    headCountKv,
    headDim,
    feedForwardLength: number("feed_forward_length"),
    contextLength: number("context_length"),
    ropeFreqBase: number("rope.freq_base", 10000),
    ropeDimensionCount,
    ropeStyle: ropeStyles[architecture],
    rmsEpsilon: number("attention.layer_norm_rms_epsilon"),
    tiedEmbeddings: file.tensor("output.weight") === undefined,
    attentionBias: file.tensor("blk.0.attn_q.bias") !== undefined,
  };
}

/** Context-extension schemes (linear, YaRN, llama3 frequency factors) change RoPE; not implemented yet. */
function checkNoRopeScaling(file: GgufFile, architecture: string, fail: (reason: string) => Error): void {
  const type = file.metadataValue(`${architecture}.rope.scaling.type`);
  const factor = file.metadataValue(`${architecture}.rope.scaling.factor`);
  const scaled =
    (type !== undefined && type !== "none") || (typeof factor === "number" && factor !== 1 && factor !== 0);
  if (scaled || file.tensor("rope_freqs.weight") !== undefined)
    throw fail("RoPE scaling (linear, YaRN or llama3 frequency factors) is not supported by the trainer yet");
}
