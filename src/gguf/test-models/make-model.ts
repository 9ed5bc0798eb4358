// Writes a llama-family GGUF model with seeded random weights, a byte-fallback SentencePiece tokenizer
// and a ChatML chat template, so every part of cai can be tested offline on a real llama.cpp model.

import { SeededRandom } from "../../random/seeded-random.js";
import { type GgufValue, gguf } from "../gguf-value.js";
import { type GgufTensorSpec, type GgufWriteTensorType, writeGguf } from "../writer.js";
import { type PresetName, presets } from "./presets.js";
import { buildSpmVocabulary, chatMlTemplate } from "./spm-vocabulary.js";

/** Options of {@link makeTestModel}. */
export interface MakeTestModelOptions {
  preset: PresetName;
  /** Weight type of the matrices (norms and biases stay F32, as llama.cpp's converter keeps them). Default F32. */
  type?: GgufWriteTensorType;
  seed?: number;
  out: string;
  /**
   * Adds Llama 3.1-style RoPE frequency factors: a `rope_freqs.weight` tensor (F32, [headDim/2]; llama.cpp
   * uses it for the llama arch and refuses it for qwen2) holding these values, or "seeded" values drawn
   * from the seed, uniform in [1, 8] (given arrays are written whatever their length, to test refusals).
   * Default: none. Every other tensor keeps its values.
   */
  ropeFreqFactors?: Float32Array | "seeded";
  /** Adds `{arch}.rope.scaling.*` metadata. Default: none. */
  ropeScaling?: TestRopeScaling;
}

/** RoPE scaling metadata for {@link MakeTestModelOptions.ropeScaling}. */
export interface TestRopeScaling {
  /** `rope.scaling.type`: "linear", "yarn", or anything else to test refusals. */
  type: string;
  /** `rope.scaling.factor`. */
  factor: number;
  /** `rope.scaling.original_context_length`, if given. */
  originalContextLength?: number;
  /** `rope.scaling.attn_factor`, if given. */
  attnFactor?: number;
}

const fileTypes: Record<GgufWriteTensorType, number> = { F32: 0, F16: 1, Q8_0: 7 };

/** Writes the model; returns its parameter count. */
export async function makeTestModel(options: MakeTestModelOptions): Promise<{ parameters: number }> {
  const preset = presets[options.preset];
  const type = options.type ?? "F32";
  const seed = options.seed ?? 0;
  const arch = preset.architecture;
  const vocab = buildSpmVocabulary(preset.vocabSize);
  const dim = preset.embeddingLength;
  const headDim = dim / preset.headCount;
  const kvDim = headDim * preset.headCountKv;
  const ffn = preset.feedForwardLength;

  const metadata: Array<[string, GgufValue]> = [
    ["general.architecture", gguf.str(arch)],
    ["general.name", gguf.str(`cai-${options.preset}-seed${seed}`)],
    ["general.file_type", gguf.u32(fileTypes[type])],
    [`${arch}.context_length`, gguf.u32(preset.contextLength)],
    [`${arch}.embedding_length`, gguf.u32(dim)],
    [`${arch}.block_count`, gguf.u32(preset.blockCount)],
    [`${arch}.feed_forward_length`, gguf.u32(ffn)],
    [`${arch}.attention.head_count`, gguf.u32(preset.headCount)],
    [`${arch}.attention.head_count_kv`, gguf.u32(preset.headCountKv)],
    [`${arch}.rope.freq_base`, gguf.f32(preset.ropeFreqBase)],
    [`${arch}.rope.dimension_count`, gguf.u32(headDim)],
    ...ropeScalingMetadata(arch, options.ropeScaling),
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(preset.rmsEpsilon)],
    [`${arch}.vocab_size`, gguf.u32(vocab.tokens.length)],
    ["tokenizer.ggml.model", gguf.str("llama")],
    ["tokenizer.ggml.tokens", gguf.strArray(vocab.tokens)],
    ["tokenizer.ggml.scores", gguf.f32Array(vocab.scores)],
    ["tokenizer.ggml.token_type", gguf.i32Array(vocab.types)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(vocab.ids.bos)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(vocab.ids.eos)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(vocab.ids.unknown)],
    ["tokenizer.ggml.padding_token_id", gguf.u32(vocab.ids.unknown)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(true)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
    ["tokenizer.ggml.add_space_prefix", gguf.bool(false)],
    ["tokenizer.chat_template", gguf.str(chatMlTemplate)],
  ];

  // Every tensor draws from its own generator, seeded from the model seed and its position, so a
  // tensor's values do not depend on the weight type; values are made only when the tensor is written.
  const tensors: GgufTensorSpec[] = [];
  const add = (
    name: string,
    shape: number[],
    std: number | "ones",
    tensorType: GgufWriteTensorType = type,
  ) => {
    const tensorSeed = seed * 1000003 + tensors.length * 7919;
    const count = shape.reduce((a, b) => a * b, 1);
    const data = () =>
      std === "ones" ? new Float32Array(count).fill(1) : new SeededRandom(tensorSeed).normals(count, std);
    tensors.push({ name, shape, type: tensorType, data });
  };
  const projection = 1 / Math.sqrt(dim);
  // Logit scale ~2: distributions are peaked enough to be interesting, never one-hot.
  add("token_embd.weight", [dim, vocab.tokens.length], 2 / Math.sqrt(dim));
  add("output_norm.weight", [dim], "ones", "F32");
  if (!preset.tiedEmbeddings) add("output.weight", [dim, vocab.tokens.length], 2 / Math.sqrt(dim));
  for (let layer = 0; layer < preset.blockCount; layer += 1) {
    const blk = `blk.${layer}`;
    add(`${blk}.attn_norm.weight`, [dim], "ones", "F32");
    add(`${blk}.attn_q.weight`, [dim, dim], projection);
    add(`${blk}.attn_k.weight`, [dim, kvDim], projection);
    add(`${blk}.attn_v.weight`, [dim, kvDim], projection);
    if (arch === "qwen2") {
      add(`${blk}.attn_q.bias`, [dim], 0.1, "F32");
      add(`${blk}.attn_k.bias`, [kvDim], 0.1, "F32");
      add(`${blk}.attn_v.bias`, [kvDim], 0.1, "F32");
    }
    add(`${blk}.attn_output.weight`, [dim, dim], projection);
    add(`${blk}.ffn_norm.weight`, [dim], "ones", "F32");
    add(`${blk}.ffn_gate.weight`, [dim, ffn], projection);
    add(`${blk}.ffn_up.weight`, [dim, ffn], projection);
    add(`${blk}.ffn_down.weight`, [ffn, dim], 1 / Math.sqrt(ffn));
  }
  // Last, so that it does not move the seeds of the other tensors.
  const factors = options.ropeFreqFactors;
  if (factors !== undefined) {
    const values = factors === "seeded" ? seededFreqFactors(seed, headDim / 2) : factors;
    tensors.push({ name: "rope_freqs.weight", shape: [values.length], type: "F32", data: () => values });
  }
  await writeGguf(options.out, { metadata, tensors });
  return { parameters: tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0) };
}

function ropeScalingMetadata(arch: string, scaling: TestRopeScaling | undefined): Array<[string, GgufValue]> {
  if (scaling === undefined) return [];
  const entries: Array<[string, GgufValue]> = [
    [`${arch}.rope.scaling.type`, gguf.str(scaling.type)],
    [`${arch}.rope.scaling.factor`, gguf.f32(scaling.factor)],
  ];
  if (scaling.originalContextLength !== undefined)
    entries.push([`${arch}.rope.scaling.original_context_length`, gguf.u32(scaling.originalContextLength)]);
  if (scaling.attnFactor !== undefined)
    entries.push([`${arch}.rope.scaling.attn_factor`, gguf.f32(scaling.attnFactor)]);
  return entries;
}

/** Frequency divisors uniform in [1, 8] (Llama 3's run from 1 for fast pairs to 8 for slow ones). */
function seededFreqFactors(seed: number, count: number): Float32Array {
  const random = new SeededRandom(seed * 1000003 + 104729);
  return Float32Array.from({ length: count }, () => 1 + 7 * random.next());
}
