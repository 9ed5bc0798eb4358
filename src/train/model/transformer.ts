// The trainer's transformer: the forward pass of a llama-family model (llama, mistral, qwen2) in tfjs,
// computing what llama.cpp computes (parity ~1e-5 in log p), differentiable on every backend once
// `initTrainingBackend()` has registered the gradients (wasm included).
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { embeddingLookup } from "./embedding.js";
import {
  attentionMix,
  checkpointed,
  checkpointedBlocks,
  frozenMatMul,
  headLogprobs,
  type LmHead,
  maskedSoftmax,
  needsGradient,
  replayedMatMul,
  tapeActive,
} from "./fast-ops.js";
import {
  type BlockLora,
  type LoraAdapter,
  type LoraTarget,
  loraDropoutSnapshot,
  loraProject,
  loraTargets,
  replayLoraDropout,
} from "./lora.js";
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
    // LoRA training: the base weights are frozen unless they are trainable variables (see needsGradient).
    const baseFrozen = lora !== undefined;
    const taped = tapeActive();
    const checkpoints = taped ? checkpointedBlocks(config, batch, seq) : 0;
    let hidden = embeddingLookup(weights.tokenEmbedding, tokens.flat());
    weights.blocks.forEach((block, i) => {
      const adapted: Adapted = { block, lora: lora?.blocks[i], scale: lora?.scale ?? 1, baseFrozen };
      const run = (x: tf.Tensor2D) => transformerBlock(adapted, x, shape, rope, mask, eps);
      const input = hidden;
      if (i < checkpoints) {
        // Keep the block's input and its products by the base weights; the backward pass recomputes the
        // rest of the block (norms, RoPE, attention, LoRA updates with the same dropout masks).
        const dropout = loraDropoutSnapshot();
        const xNeedsGradient = i > 0 || needsGradient(weights.tokenEmbedding, baseFrozen);
        const constants = [rope.cos, rope.sin, rope.rotation, mask];
        const record = (x: tf.Tensor2D) => {
          const keep: tf.Tensor[] = [];
          const products: Products = (a, w) => {
            const y: tf.Tensor2D = tf.matMul(a, w);
            keep.push(y);
            return y;
          };
          return { output: transformerBlock({ ...adapted, products }, x, shape, rope, mask, eps), keep };
        };
        hidden = checkpointed(
          input,
          blockParameters(adapted),
          xNeedsGradient,
          record,
          constants,
          (x, saved, kept) => {
            const [cos, sin, rotation, savedMask] = saved as [
              tf.Tensor3D,
              tf.Tensor3D,
              tf.Tensor2D,
              tf.Tensor2D,
            ];
            const savedRope: RopeTables = { style: rope.style, cos, sin, rotation };
            let next = 0;
            const products: Products = (a, w, frozen) => {
              const y = kept[next++];
              if (y === undefined) throw new Error("the recomputed block runs more products than it kept");
              return replayedMatMul(a, w, y, !frozen);
            };
            return replayLoraDropout(dropout, () =>
              transformerBlock({ ...adapted, products }, x, shape, savedRope, savedMask, eps),
            );
          },
        );
      } else if (!taped) {
        // Nothing is recorded: free each block's intermediates as soon as it is done.
        hidden = tf.tidy(() => run(input));
      } else hidden = run(input);
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
 * `lora` as in {@link forwardLogits}; at `temperature` T (default 1) the distribution is softmax(logits / T),
 * the one a sampler at that temperature draws from.
 */
export function tokenLogprobs(
  weights: TransformerWeights,
  tokens: readonly (readonly number[])[],
  lora?: LoraAdapter,
  temperature = 1,
): tf.Tensor2D {
  const { batch, seq } = checkTokens(weights, tokens);
  if (seq < 2) return tf.zeros([batch, 0]);
  return tf.tidy(() => {
    const hidden = forwardHidden(weights, tokens, lora);
    const dim = weights.config.embeddingLength;
    // The rows that predict a next token: all but each sequence's last.
    const rows: tf.Tensor2D =
      batch === 1
        ? tf.slice(hidden, [0, 0], [seq - 1, dim])
        : tf.reshape(tf.slice(tf.reshape(hidden, [batch, seq, dim]), [0, 0, 0], [batch, seq - 1, dim]), [
            batch * (seq - 1),
            dim,
          ]);
    const targets = tokens.flatMap((row) => row.slice(1));
    // At a sampling temperature T the distribution is softmax(logits / T); the head is linear and the
    // hidden state is already normed, so dividing the rows by T divides the logits.
    // (A product: tfjs-core registers no gradient for RealDiv.)
    const scaled = temperature === 1 ? rows : (tf.mul(rows, 1 / temperature) as tf.Tensor2D);
    // LM head, log-softmax and target pick fused, chunk by chunk: [tokens, vocab] never exists at once.
    return tf.reshape(headLogprobs(scaled, lmHeadOf(weights, lora !== undefined), targets), [batch, seq - 1]);
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

/** The LM head as {@link headLogprobs} takes it: `output`, or the token embedding when `tiedHead`. */
function lmHeadOf(weights: TransformerWeights, baseFrozen: boolean): LmHead {
  const weight = weights.tiedHead ? weights.tokenEmbedding : weights.output;
  return {
    weight,
    layout: weights.tiedHead ? "vocabDim" : "dimVocab",
    trainable: needsGradient(weight, baseFrozen),
  };
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
  /** LoRA training: base weights that are not trainable variables get no gradient. */
  readonly baseFrozen: boolean;
  /** How x · W is computed (recorded or replayed in a checkpointed block); default a plain product. */
  readonly products?: Products;
}

/** Computes x · W for a projection (`frozen`: W gets no gradient). */
type Products = (x: tf.Tensor2D, w: tf.Tensor2D, frozen: boolean) => tf.Tensor2D;

/** The tensors of a block a gradient may be asked for: its LoRA factors and its trainable weights. */
function blockParameters({ block, lora, baseFrozen }: Adapted): tf.Tensor[] {
  const parameters: tf.Tensor[] = [];
  for (const target of loraTargets) {
    const pair = lora?.[target];
    if (pair) parameters.push(pair.a, pair.b);
  }
  const weights = [
    block.attnNorm,
    block.wq,
    block.wk,
    block.wv,
    block.bq,
    block.bk,
    block.bv,
    block.wo,
    block.ffnNorm,
    block.wGate,
    block.wUp,
    block.wDown,
  ];
  for (const w of weights) if (w !== undefined && needsGradient(w, baseFrozen)) parameters.push(w);
  return parameters;
}

/** One pre-norm transformer block: attention then SwiGLU, each added to the residual stream. */
function transformerBlock(
  adapted: Adapted,
  x: tf.Tensor2D,
  shape: AttentionShape,
  rope: RopeTables,
  mask: tf.Tensor2D,
  eps: number,
): tf.Tensor2D {
  const { block } = adapted;
  const mid: tf.Tensor2D = tf.add(x, attention(adapted, rmsNorm(x, block.attnNorm, eps), shape, rope, mask));
  return tf.add(mid, feedForward(adapted, rmsNorm(mid, block.ffnNorm, eps)));
}

/** x · W (+ b) (+ LoRA), W [in, out]; a frozen W takes the product that keeps nothing for its gradient. */
function project(
  { lora, scale, baseFrozen, products }: Adapted,
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | undefined,
  target: LoraTarget,
): tf.Tensor2D {
  const frozen = !needsGradient(weight, baseFrozen);
  const product = products
    ? (a: tf.Tensor2D, w: tf.Tensor2D) => products(a, w, frozen)
    : frozen
      ? frozenMatMul
      : tf.matMul;
  return loraProject(x, weight, bias, lora?.[target], scale, product);
}

/**
 * Causal multi-head attention with grouped KV heads, on normalised input x [batch·seq, dim]:
 * softmax(q·kᵀ / √headDim + mask) · v per head, then the output projection. The query heads sharing a KV
 * head are stacked along the rows, so each (sequence, KV head) is two plain 2-D matMuls
 * ([group·seq, headDim]·[headDim, seq] and [group·seq, seq]·[seq, headDim]): no tiled copies of K and V and
 * no batched 3-D matMul (both slow on wasm). q is scaled by 1/√headDim before the product.
 */
function attention(
  adapted: Adapted,
  x: tf.Tensor2D,
  shape: AttentionShape,
  rope: RopeTables,
  mask: tf.Tensor2D,
): tf.Tensor2D {
  const { block } = adapted;
  const { batch, seq, heads, kvHeads, headDim } = shape;
  const group = heads / kvHeads;
  const units = batch * kvHeads;
  const q = applyRope(
    tf.reshape(project(adapted, x, block.wq, block.bq, "attn_q"), [batch, seq, heads, headDim]),
    rope,
  );
  const k = applyRope(
    tf.reshape(project(adapted, x, block.wk, block.bk, "attn_k"), [batch, seq, kvHeads, headDim]),
    rope,
  );
  const v = tf.reshape(project(adapted, x, block.wv, block.bv, "attn_v"), [batch, seq, kvHeads, headDim]);
  // [batch, kvHeads, group, seq, headDim] rows; keys transposed explicitly to [headDim, seq] per unit.
  const qRows: tf.Tensor2D = tf.reshape(
    tf.transpose(
      tf.reshape(tf.mul(q, 1 / Math.sqrt(headDim)), [batch, seq, kvHeads, group, headDim]),
      [0, 2, 3, 1, 4],
    ),
    [units * group * seq, headDim],
  );
  const kCols: tf.Tensor2D = tf.reshape(tf.transpose(k, [0, 2, 3, 1]), [units * headDim, seq]);
  const vRows: tf.Tensor2D = tf.reshape(tf.transpose(v, [0, 2, 1, 3]), [units * seq, headDim]);
  const split = (t: tf.Tensor2D): tf.Tensor2D[] => (units === 1 ? [t] : tf.split(t, units, 0));
  const [qs, ks, vs] = [split(qRows), split(kCols), split(vRows)];
  const outs = qs.map((qi, u) => {
    const scores = tf.reshape(tf.matMul(qi, ks[u] as tf.Tensor2D), [group, seq, seq]);
    const probs: tf.Tensor2D = tf.reshape(maskedSoftmax(scores, mask), [group * seq, seq]);
    return attentionMix(probs, vs[u] as tf.Tensor2D);
  });
  const mixed = tf.reshape(units === 1 ? (outs[0] as tf.Tensor2D) : tf.concat(outs, 0), [
    batch,
    kvHeads,
    group,
    seq,
    headDim,
  ]);
  const merged: tf.Tensor2D = tf.reshape(tf.transpose(mixed, [0, 3, 1, 2, 4]), [
    batch * seq,
    heads * headDim,
  ]);
  return project(adapted, merged, block.wo, undefined, "attn_output");
}

/** SwiGLU: down(silu(gate(x)) ⊙ up(x)), silu(z) = z·σ(z). */
function feedForward(adapted: Adapted, x: tf.Tensor2D): tf.Tensor2D {
  const { block } = adapted;
  const gate = project(adapted, x, block.wGate, undefined, "ffn_gate");
  const activated: tf.Tensor2D = tf.mul(
    tf.mul(gate, tf.sigmoid(gate)),
    project(adapted, x, block.wUp, undefined, "ffn_up"),
  );
  return project(adapted, activated, block.wDown, undefined, "ffn_down");
}
