// Reads the hyper-parameters of a llama-family GGUF model (llama, mistral, qwen2) that the trainer's
// transformer needs, and says how each architecture applies RoPE, as llama.cpp does.
import { closeSync, openSync, readSync } from "node:fs";
import { GgmlType, type GgufFile } from "../../gguf/index.js";
import { HOST_IS_LITTLE_ENDIAN, swapBytes32 } from "../../gguf/numeric.js";
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
  /**
   * Context extension, as llama.cpp applies it: "linear" multiplies every RoPE angle by `ropeFreqScale`,
   * "yarn" blends scaled and unscaled angles per pair (and scales cos/sin); "none" when the angles are
   * not rescaled (also for `linear` with factor 1, which llama.cpp assumes when the type is absent).
   */
  readonly ropeScaling: RopeScalingType;
  /** 1 / `rope.scaling.factor` (or the older `rope.scale_linear`); 1 when `ropeScaling` is "none". */
  readonly ropeFreqScale: number;
  /** `rope.scaling.attn_factor`, which multiplies RoPE's cos and sin; 1 unless set. */
  readonly ropeAttnFactor: number;
  /** `rope.scaling.original_context_length`, else `context_length`: YaRN's correction range depends on it. */
  readonly ropeOriginalContextLength: number;
  /**
   * Llama 3.1+'s `rope_freqs.weight` [headDim/2] (its conversion bakes the "llama3" scaling into it): the
   * angle of pair i is divided by factor i. Undefined when the model has no such tensor.
   */
  readonly ropeFreqFactors: Float32Array | undefined;
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
  const contextLength = number("context_length");
  const scaling = readRopeScaling(file, architecture, headDim, contextLength, fail);

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
    contextLength,
    ropeFreqBase: number("rope.freq_base", 10000),
    ropeDimensionCount,
    ropeStyle: ropeStyles[architecture],
    ...scaling,
    rmsEpsilon: number("attention.layer_norm_rms_epsilon"),
    tiedEmbeddings: file.tensor("output.weight") === undefined,
    attentionBias: file.tensor("blk.0.attn_q.bias") !== undefined,
  };
}

/** Values of {@link ModelConfig.ropeScaling}. */
export type RopeScalingType = "none" | "linear" | "yarn";

type RopeScalingFields = Pick<
  ModelConfig,
  "ropeScaling" | "ropeFreqScale" | "ropeAttnFactor" | "ropeOriginalContextLength" | "ropeFreqFactors"
>;

/**
 * The RoPE scaling llama.cpp applies (llama_model::load_hparams, llama_context's constructor): type
 * `rope.scaling.type` (default "linear"), freq_scale = 1 / `rope.scaling.factor` (or `rope.scale_linear`;
 * absent or 0 means 1), forced to 1 by type "none"; `rope_freqs.weight` applies whatever the type.
 * Other types (longrope, or unknown names) throw ModelConfigError.
 */
function readRopeScaling(
  file: GgufFile,
  architecture: TrainableArchitecture,
  headDim: number,
  contextLength: number,
  fail: (reason: string) => Error,
): RopeScalingFields {
  const key = (name: string) => `${architecture}.rope.${name}`;
  const optionalNumber = (name: string): number | undefined => {
    const value = file.metadataValue(key(name));
    if (value === undefined) return undefined;
    if (typeof value === "number") return value;
    if (typeof value === "bigint") return Number(value);
    throw fail(`metadata ${key(name)} is not a number`);
  };
  const declared = file.metadataValue(key("scaling.type")) ?? "linear";
  if (declared !== "none" && declared !== "linear" && declared !== "yarn")
    throw fail(
      `metadata ${key("scaling.type")} is ${JSON.stringify(declared)}; the trainer implements RoPE scaling ` +
        `"none", "linear" and "yarn" (and llama3 frequency factors)`,
    );
  const factor = optionalNumber("scaling.factor") ?? optionalNumber("scale_linear") ?? 0;
  if (!(factor >= 0) || !Number.isFinite(factor))
    throw fail(`metadata ${key("scaling.factor")} is ${factor}, not a positive number`);
  const freqScale = declared === "none" || factor === 0 ? 1 : Math.fround(1 / factor);
  const attnFactor = optionalNumber("scaling.attn_factor") ?? 1;
  const originalContext = optionalNumber("scaling.original_context_length") ?? contextLength;
  return {
    // With freq_scale 1, linear scaling and YaRN (its ramp mixes equal angles, its magnitude is 1) change nothing.
    ropeScaling: freqScale === 1 ? "none" : declared,
    ropeFreqScale: freqScale,
    ropeAttnFactor: attnFactor,
    ropeOriginalContextLength: originalContext > 0 ? originalContext : contextLength,
    ropeFreqFactors: readFreqFactors(file, architecture, headDim, fail),
  };
}

/**
 * The `rope_freqs.weight` tensor (F32, [headDim/2]) that llama.cpp's LLM_ARCH_LLAMA passes to every
 * ggml_rope_ext as frequency factors; qwen2 in llama.cpp has no such tensor (it refuses files with one).
 * Read synchronously here, so that reading the config stays synchronous: it is a few hundred bytes.
 */
function readFreqFactors(
  file: GgufFile,
  architecture: TrainableArchitecture,
  headDim: number,
  fail: (reason: string) => Error,
): Float32Array | undefined {
  const name = "rope_freqs.weight";
  const info = file.tensor(name);
  if (info === undefined) return undefined;
  if (architecture === "qwen2")
    throw fail(`it has a ${name} tensor, which llama.cpp does not use for ${architecture} models`);
  const half = headDim / 2;
  const length = info.shape.filter((n, i) => n !== 1 || i === 0);
  if (info.type !== GgmlType.F32 || length.length !== 1 || length[0] !== half)
    throw fail(
      `tensor ${name} is ${info.typeName} [${info.shape.join(", ")}]; llama.cpp expects F32 [${half}]`,
    );
  const factors = new Float32Array(half);
  const bytes = new Uint8Array(factors.buffer);
  const fd = openSync(file.path, "r");
  try {
    let done = 0;
    while (done < bytes.length) {
      const read = readSync(fd, bytes, done, bytes.length - done, info.dataOffset + done);
      if (read === 0) throw fail(`the file ended while reading tensor ${name}`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes32(bytes);
  if (factors.some((x) => !(x > 0) || !Number.isFinite(x)))
    throw fail(`tensor ${name} holds a factor that is not a positive number`);
  return factors;
}
