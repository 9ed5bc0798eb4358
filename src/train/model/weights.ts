// Loads a GGUF model's weights into tfjs tensors laid out for the trainer's forward pass.
//
// Layout: GGUF stores a projection with ne=[in, out] as `out` rows of `in` values (y[o] = Σ_i W[o·in+i]·x[i]),
// i.e. a row-major [out, in] matrix. Every projection is transposed once here to [in, out], so the forward
// pass computes y = x · W with a plain `tf.matMul` (matMul with transpose flags is ~10× slower on wasm).
// The token embedding (ne=[dim, vocab]) stays [vocab, dim]: row t is token t's vector, ready for a lookup.
import * as tf from "@tensorflow/tfjs-core";
import { type GgufFile, openGguf } from "../../gguf/index.js";
import { type ModelConfig, readModelConfig } from "./model-config.js";
import { ModelConfigError } from "./model-config-error.js";

/** The weights of one transformer block; projections are [in, out]. */
export interface BlockWeights {
  /** RMSNorm weight before attention, [dim]. */
  readonly attnNorm: tf.Tensor1D;
  /** Query projection, [dim, heads·headDim]. */
  readonly wq: tf.Tensor2D;
  /** Key projection, [dim, kvHeads·headDim]. */
  readonly wk: tf.Tensor2D;
  /** Value projection, [dim, kvHeads·headDim]. */
  readonly wv: tf.Tensor2D;
  /** Q/K/V biases (qwen2), else undefined. */
  readonly bq: tf.Tensor1D | undefined;
  readonly bk: tf.Tensor1D | undefined;
  readonly bv: tf.Tensor1D | undefined;
  /** Attention output projection, [heads·headDim, dim]. */
  readonly wo: tf.Tensor2D;
  /** RMSNorm weight before the FFN, [dim]. */
  readonly ffnNorm: tf.Tensor1D;
  /** SwiGLU gate and up projections, [dim, ffn]. */
  readonly wGate: tf.Tensor2D;
  readonly wUp: tf.Tensor2D;
  /** SwiGLU down projection, [ffn, dim]. */
  readonly wDown: tf.Tensor2D;
}

/** All weights of a model, as float32 tfjs tensors, with the config they were read with. */
export interface TransformerWeights {
  readonly config: ModelConfig;
  /** Token embedding, [vocab, dim]. */
  readonly tokenEmbedding: tf.Tensor2D;
  readonly blocks: readonly BlockWeights[];
  /** Final RMSNorm weight, [dim]. */
  readonly outputNorm: tf.Tensor1D;
  /** LM head, [dim, vocab]; for tied embeddings a transposed copy of the token embedding. */
  readonly output: tf.Tensor2D;
  /**
   * True when the LM head *is* the token embedding: the forward pass multiplies by `tokenEmbedding`ᵀ and
   * ignores `output`, so one trained parameter gets the gradients of both uses (full training of a tied
   * model, full-model.ts). Absent or false (what {@link loadWeights} returns): the head is `output`.
   */
  readonly tiedHead?: boolean;
}

/**
 * Reads every weight of a GGUF model (F32, F16, BF16 or Q8_0; dequantised to float32) into tensors on
 * the current tfjs backend. Accepts a path (opened and closed here) or an open file (left open).
 * Free the tensors with {@link disposeWeights}.
 */
export async function loadWeights(source: string | GgufFile): Promise<TransformerWeights> {
  const file = typeof source === "string" ? await openGguf(source) : source;
  const made: tf.Tensor[] = [];
  try {
    const config = readModelConfig(file);
    const { embeddingLength: dim, headDim, feedForwardLength: ffn, vocabSize } = config;
    const kvDim = headDim * config.headCountKv;
    const qDim = headDim * config.headCount;
    const keep = <T extends tf.Tensor>(t: T): T => {
      made.push(t);
      return t;
    };
    const vector = async (name: string, length: number): Promise<tf.Tensor1D> =>
      keep(tf.tensor1d(await read(file, name, [length])));
    // [out, in] as stored, transposed once to [in, out].
    const projection = async (name: string, inputs: number, outputs: number): Promise<tf.Tensor2D> => {
      const stored = tf.tensor2d(await read(file, name, [inputs, outputs]), [outputs, inputs]);
      const transposed = keep(tf.transpose(stored));
      stored.dispose();
      return transposed;
    };
    const optionalVector = (name: string, length: number): Promise<tf.Tensor1D | undefined> =>
      config.attentionBias ? vector(name, length) : Promise.resolve(undefined);

    const tokenEmbedding = keep(
      tf.tensor2d(await read(file, "token_embd.weight", [dim, vocabSize]), [vocabSize, dim]),
    );
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < config.blockCount; i += 1) {
      const blk = `blk.${i}`;
      blocks.push({
        attnNorm: await vector(`${blk}.attn_norm.weight`, dim),
        wq: await projection(`${blk}.attn_q.weight`, dim, qDim),
        wk: await projection(`${blk}.attn_k.weight`, dim, kvDim),
        wv: await projection(`${blk}.attn_v.weight`, dim, kvDim),
        bq: await optionalVector(`${blk}.attn_q.bias`, qDim),
        bk: await optionalVector(`${blk}.attn_k.bias`, kvDim),
        bv: await optionalVector(`${blk}.attn_v.bias`, kvDim),
        wo: await projection(`${blk}.attn_output.weight`, qDim, dim),
        ffnNorm: await vector(`${blk}.ffn_norm.weight`, dim),
        wGate: await projection(`${blk}.ffn_gate.weight`, dim, ffn),
        wUp: await projection(`${blk}.ffn_up.weight`, dim, ffn),
        wDown: await projection(`${blk}.ffn_down.weight`, ffn, dim),
      });
    }
    const outputNorm = await vector("output_norm.weight", dim);
    const output = config.tiedEmbeddings
      ? keep(tf.transpose(tokenEmbedding))
      : await projection("output.weight", dim, vocabSize);
    return { config, tokenEmbedding, blocks, outputNorm, output };
  } catch (error) {
    for (const t of made) t.dispose();
    throw error;
  } finally {
    if (typeof source === "string") await file.close();
  }
}

/** Frees every tensor of `weights`. */
export function disposeWeights(weights: TransformerWeights): void {
  const all: Array<tf.Tensor | undefined> = [weights.tokenEmbedding, weights.outputNorm, weights.output];
  for (const b of weights.blocks)
    all.push(b.attnNorm, b.wq, b.wk, b.wv, b.bq, b.bk, b.bv, b.wo, b.ffnNorm, b.wGate, b.wUp, b.wDown);
  for (const t of all) t?.dispose();
}

/** A tensor's float32 values after checking its GGUF shape (ne order) is the one the config implies. */
async function read(file: GgufFile, name: string, shape: readonly number[]): Promise<Float32Array> {
  const info = file.tensor(name);
  if (info === undefined) throw new ModelConfigError(file.path, `it has no tensor ${name}`);
  const stored = info.shape.filter((n, i) => n !== 1 || i < shape.length);
  if (stored.length !== shape.length || stored.some((n, i) => n !== shape[i]))
    throw new ModelConfigError(
      file.path,
      `tensor ${name} has shape [${info.shape.join(", ")}], expected [${shape.join(", ")}] from the metadata`,
    );
  return file.readTensor(name);
}
