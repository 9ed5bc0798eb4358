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
  await writeGguf(options.out, { metadata, tensors });
  return { parameters: tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0) };
}
