// The trainer's transformer: the forward pass of a llama-family model (llama, mistral, qwen2) in tfjs,
// computing what llama.cpp computes (parity ~1e-5 in log p), differentiable on every backend once
// `initTrainingBackend()` has registered the gradients (wasm included).
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../errors/cai-error.js";
import { embeddingLookup, oneHotFloat } from "./embedding.js";
import { type BlockLora, type LoraAdapter, loraProject } from "./lora.js";
import { applyRope, type RopeTables, ropeTables } from "./rope.js";
import type { BlockWeights, TransformerWeights } from "./weights.js";

/**
 * The final hidden states [batch·seq, dim] of `tokens` (batch × seq token ids, every row the same length),
 * after the output RMSNorm: row b·seq + j is what the LM head reads at position j of sequence b (and what
 * llama.cpp returns as that token's embedding). With `lora`, its updates are added to the adapted
 * projections (see lora.ts); without, the base model. Free the result (or call inside `tf.tidy`).
 */
export function forwardHidden(
  weights: TransformerWeights,
  tokens: readonly (readonly number[])[],
  lora?: LoraAdapter,
): tf.Tensor2D {
  const { batch, seq } = checkTokens(weights, tokens);
  const { config } = weights;
  return tf.tidy(() => {
    const rope = ropeTables(seq, config.headDim, config.ropeFreqBase, config.ropeStyle, config);
    const mask = causalMask(seq);
    const eps = config.rmsEpsilon;
    const shape: AttentionShape = {
      batch,
      seq,
      heads: config.headCount,
      kvHeads: config.headCountKv,
      headDim: config.headDim,
    };
    let hidden = embeddingLookup(weights.tokenEmbedding, tokens.flat());
    weights.blocks.forEach((block, i) => {
      const adapted: Adapted = { block, lora: lora?.blocks[i], scale: lora?.scale ?? 1 };
      hidden = tf.add(hidden, attention(adapted, rmsNorm(hidden, block.attnNorm, eps), shape, rope, mask));
      hidden = tf.add(hidden, feedForward(adapted, rmsNorm(hidden, block.ffnNorm, eps)));
    });
    return rmsNorm(hidden, weights.outputNorm, eps);
  });
}

/**
 * Logits [batch, seq, vocab] of `tokens` (batch × seq token ids, every row the same length): position j
 * holds the scores of the token after tokens[·][0..j]. Float32; free the result (or call inside `tf.tidy`).
 * With `lora`, its updates are added to the adapted projections (see lora.ts); without, the base model.
 */
export function forwardLogits(
  weights: TransformerWeights,
  tokens: readonly (readonly number[])[],
  lora?: LoraAdapter,
): tf.Tensor3D {
  const { batch, seq } = checkTokens(weights, tokens);
  return tf.tidy(() => {
    const logits = tf.matMul(forwardHidden(weights, tokens, lora), lmHead(weights));
    return tf.reshape(logits, [batch, seq, weights.config.vocabSize]);
  });
}

/**
 * Log-probabilities [batch, seq − 1] of each token after the first given all before it:
 * entry [b, i − 1] = log p(tokens[b][i] | tokens[b][<i]). Differentiable (target selection by one-hot
 * product, since `tf.gather` has no gradient on wasm): the building block of SFT and DPO losses.
 * `lora` as in {@link forwardLogits}.
 */
export function tokenLogprobs(
  weights: TransformerWeights,
  tokens: readonly (readonly number[])[],
  lora?: LoraAdapter,
): tf.Tensor2D {
  const { batch, seq } = checkTokens(weights, tokens);
  const vocab = weights.config.vocabSize;
  if (seq < 2) return tf.zeros([batch, 0]);
  return tf.tidy(() => {
    const logits = tf.slice(forwardLogits(weights, tokens, lora), [0, 0, 0], [batch, seq - 1, vocab]);
    const targets = tf.tensor2d(
      tokens.map((row) => row.slice(1)),
      [batch, seq - 1],
      "int32",
    );
    const chosen = oneHotFloat(targets, vocab);
    return tf.sum(tf.mul(tf.logSoftmax(logits), chosen), -1);
  });
}

/**
 * log p(tokens[i] | tokens[<i]) for i = 1 … n − 1 (element i − 1), read back to JS: for parity checks
 * against llama.cpp and for the frozen reference log-probabilities of DPO. `lora` as in {@link forwardLogits}.
 */
export function sequenceLogprobs(
  weights: TransformerWeights,
  tokens: readonly number[],
  lora?: LoraAdapter,
): Float32Array {
  const logprobs = tokenLogprobs(weights, [tokens], lora);
  try {
    return Float32Array.from(logprobs.dataSync());
  } finally {
    logprobs.dispose();
  }
}

/** The LM head [dim, vocab]: `output`, or the token embedding transposed when `tiedHead` makes them one. */
function lmHead(weights: TransformerWeights): tf.Tensor2D {
  return weights.tiedHead ? tf.transpose(weights.tokenEmbedding) : weights.output;
}

function checkTokens(
  weights: TransformerWeights,
  tokens: readonly (readonly number[])[],
): { batch: number; seq: number } {
  const batch = tokens.length;
  const seq = tokens[0]?.length ?? 0;
  const { vocabSize, contextLength } = weights.config;
  if (batch === 0 || seq === 0)
    throw new CaiError("the transformer needs at least one token in one sequence");
  if (tokens.some((row) => row.length !== seq))
    throw new CaiError("every sequence of a batch must have the same length; pad or group them by length");
  if (seq > contextLength)
    throw new CaiError(`sequences of ${seq} tokens exceed the model's context of ${contextLength}`);
  for (const row of tokens)
    for (const t of row)
      if (!Number.isInteger(t) || t < 0 || t >= vocabSize)
        throw new CaiError(`token id ${t} is outside the vocabulary (0…${vocabSize - 1})`);
  return { batch, seq };
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + ε) · w. */
function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor1D, epsilon: number): tf.Tensor2D {
  const meanSquare = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, epsilon))), weight);
}

/** The sizes attention reshapes by. */
interface AttentionShape {
  readonly batch: number;
  readonly seq: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

/** [seq, seq]: 0 where key position ≤ query position, −∞ after it. */
function causalMask(seq: number): tf.Tensor2D {
  const values = new Float32Array(seq * seq);
  for (let query = 0; query < seq; query += 1)
    for (let key = query + 1; key < seq; key += 1) values[query * seq + key] = Number.NEGATIVE_INFINITY;
  return tf.tensor2d(values, [seq, seq]);
}

/** A block's weights with its LoRA updates, if any. */
interface Adapted {
  readonly block: BlockWeights;
  readonly lora: BlockLora | undefined;
  readonly scale: number;
}

/**
 * Causal multi-head attention with grouped KV heads, on normalised input x [batch·seq, dim]:
 * softmax(q·kᵀ / √headDim + mask) · v per head, then the output projection.
 */
function attention(
  { block, lora, scale }: Adapted,
  x: tf.Tensor2D,
  shape: AttentionShape,
  rope: RopeTables,
  mask: tf.Tensor2D,
): tf.Tensor2D {
  const { batch, seq, heads, kvHeads, headDim } = shape;
  // x · W (+ b) (+ LoRA): W is stored [in, out] so this is a plain matMul.
  const project = (w: tf.Tensor2D, bias: tf.Tensor1D | undefined, pair: BlockLora[keyof BlockLora]) =>
    loraProject(x, w, bias, pair, scale);
  const q = applyRope(
    tf.reshape(project(block.wq, block.bq, lora?.attn_q), [batch, seq, heads, headDim]),
    rope,
  );
  const k = expandKvHeads(
    applyRope(tf.reshape(project(block.wk, block.bk, lora?.attn_k), [batch, seq, kvHeads, headDim]), rope),
    heads,
  );
  const v = expandKvHeads(
    tf.reshape(project(block.wv, block.bv, lora?.attn_v), [batch, seq, kvHeads, headDim]),
    heads,
  );
  // Keys are transposed explicitly to [.., headDim, seq]: matMul's transpose flags are slow on wasm.
  const q3 = tf.reshape(tf.transpose(q, [0, 2, 1, 3]), [batch * heads, seq, headDim]);
  const kT3 = tf.reshape(tf.transpose(k, [0, 2, 3, 1]), [batch * heads, headDim, seq]);
  const v3 = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [batch * heads, seq, headDim]);
  const scores = tf.add(tf.mul(tf.matMul(q3, kT3), 1 / Math.sqrt(headDim)), mask);
  const mixed = tf.reshape(tf.matMul(tf.softmax(scores), v3), [batch, heads, seq, headDim]);
  const merged: tf.Tensor2D = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [batch * seq, heads * headDim]);
  return loraProject(merged, block.wo, undefined, lora?.attn_output, scale);
}

/** GQA: [batch, seq, kvHeads, d] → [batch, seq, heads, d], query head h reading KV head ⌊h / (heads/kvHeads)⌋. */
function expandKvHeads(x: tf.Tensor4D, heads: number): tf.Tensor4D {
  const [batch, seq, kvHeads, headDim] = x.shape;
  const group = heads / kvHeads;
  if (group === 1) return x;
  const copies = tf.tile(tf.reshape(x, [batch, seq, kvHeads, 1, headDim]), [1, 1, 1, group, 1]);
  return tf.reshape(copies, [batch, seq, heads, headDim]);
}

/** SwiGLU: down(silu(gate(x)) ⊙ up(x)), silu(z) = z·σ(z). */
function feedForward({ block, lora, scale }: Adapted, x: tf.Tensor2D): tf.Tensor2D {
  const gate = loraProject(x, block.wGate, undefined, lora?.ffn_gate, scale);
  const activated: tf.Tensor2D = tf.mul(
    tf.mul(gate, tf.sigmoid(gate)),
    loraProject(x, block.wUp, undefined, lora?.ffn_up, scale),
  );
  return loraProject(activated, block.wDown, undefined, lora?.ffn_down, scale);
}
