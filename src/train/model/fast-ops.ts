// Custom-gradient building blocks of the trainer's transformer that keep tfjs-wasm fast and inside its 4 GiB
// heap: a masked softmax that saves only its output, a product by a frozen weight that saves nothing, an
// attention p·v product whose gradient avoids transposing p, per-block activation checkpointing (the block's
// input and its products by the base weights kept, the rest recomputed in the backward pass), and a chunked
// LM head + log-softmax + target pick whose [tokens, vocab] buffers never exist all at once.
//
// tfjs facts these rely on (tfjs-core 4.22): ops run inside a `tf.customGrad` forward function are not
// recorded on the gradient tape (the engine's kernel depth is > 0 there), so only what the function saves
// survives until the backward pass; a tape keeps every saved tensor and every intermediate gradient until
// the whole backward pass ends, which is why checkpointing (a few saved [n, ·] tensors per block, gradients
// of a block's intermediates freed as soon as its backward is done) is what makes long sequences fit.
import * as tf from "@tensorflow/tfjs-core";
import { oneHotFloat } from "./embedding.js";

/** The engine fields read here (tfjs-core's `EngineState`, not exported as a type). */
interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
  activeTape: unknown;
}

function engineState(): EngineState {
  return (tf.engine() as unknown as { state: EngineState }).state;
}

/** Whether ops run now are recorded for a gradient (inside `tf.grads`/`variableGrads`, not in a kernel). */
export function tapeActive(): boolean {
  const state = engineState();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * Whether a gradient may be asked for `t`: a trainable variable always; a non-trainable variable never; a
 * plain tensor unless the base model is frozen (`baseFrozen`: LoRA training, where only the adapter learns).
 * Plain tensors count as trainable otherwise because `tf.grads` can differentiate with respect to them.
 */
export function needsGradient(t: tf.Tensor, baseFrozen: boolean): boolean {
  if (t instanceof tf.Variable) return t.trainable;
  return !baseFrozen;
}

/** Knobs of the fast paths, for tests and benchmarks; the defaults suit training. */
export interface TrainerTuning {
  /**
   * Activation checkpointing of the transformer blocks while a gradient tape records: "auto" when the
   * activations the tape would keep are estimated above `checkpointBudgetBytes`, or always, or never.
   */
  readonly checkpoint: "auto" | "always" | "never" | number;
  readonly checkpointBudgetBytes: number;
  /**
   * Under a tape, the fused LM head keeps its softmax for the backward pass (saving the recomputation of
   * the logits) when it takes at most this many bytes; above, the backward pass recomputes the logits.
   */
  readonly headSaveBytes: number;
  /** Vocabulary entries per block of the LM head's backward product (see vocabBlocks). */
  readonly headVocabBlock: number;
  /** Positions per chunk of the fused LM head; undefined: about 2²³ logits per chunk. */
  readonly headChunkRows: number | undefined;
  /**
   * false: every op here falls back to its plain tfjs formulation (tfjs's own gradients, no checkpointing):
   * the reference the tests compare the fast paths with.
   */
  readonly fastOps: boolean;
}

const defaultTuning: TrainerTuning = {
  checkpoint: "auto",
  checkpointBudgetBytes: 512 * 2 ** 20,
  headSaveBytes: 256 * 2 ** 20,
  headVocabBlock: 4096,
  headChunkRows: undefined,
  fastOps: true,
};
let tuning: TrainerTuning = defaultTuning;

/** The tuning in effect. */
export function trainerTuning(): TrainerTuning {
  return tuning;
}

/** The model sizes {@link checkpointedBlocks} reads (a subset of ModelConfig). */
export interface BlockSizes {
  readonly embeddingLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly headDim: number;
  readonly feedForwardLength: number;
  readonly blockCount: number;
}

/**
 * How many blocks (the first ones) a training forward pass over `batch` sequences of `seq` tokens
 * checkpoints, per the tuning. "auto": none while the activations a tape would keep fit the budget, else
 * just enough. A block without checkpointing costs, until the backward pass ends, its saved activations
 * and the gradients of all its intermediate tensors: about 16 bytes × n × (8·dim + 3·q + 4·kv + 5·ffn +
 * heads·seq), calibrated on SmolLM2-135M at 512 tokens (≈ 170 MB a block, measured by the wasm heap).
 */
export function checkpointedBlocks(sizes: BlockSizes, batch: number, seq: number): number {
  const { checkpoint, checkpointBudgetBytes, fastOps } = tuning;
  const blocks = sizes.blockCount;
  if (!fastOps || checkpoint === "never") return 0;
  if (checkpoint === "always") return blocks;
  if (typeof checkpoint === "number") return Math.max(0, Math.min(blocks, Math.floor(checkpoint)));
  const q = sizes.headCount * sizes.headDim;
  const kv = sizes.headCountKv * sizes.headDim;
  const perToken =
    8 * sizes.embeddingLength + 3 * q + 4 * kv + 5 * sizes.feedForwardLength + sizes.headCount * seq;
  const perBlock = 16 * perToken * batch * seq;
  const kept = Math.floor(checkpointBudgetBytes / perBlock);
  return Math.max(0, blocks - kept);
}

/** Whether the fused LM head keeps its softmax over `rows` positions (see `headSaveBytes`). */
export function headKeepsSoftmax(rows: number, vocab: number): boolean {
  return tuning.fastOps && 4 * rows * vocab <= tuning.headSaveBytes;
}

/** Changes the tuning (merging `changes` into the current one); returns a function restoring the previous. */
export function setTrainerTuning(changes: Partial<TrainerTuning>): () => void {
  const previous = tuning;
  tuning = { ...tuning, ...changes };
  return () => {
    tuning = previous;
  };
}

/**
 * softmax(scores + mask) over the last axis. Under a tape it keeps only its output y for the gradient
 * y ⊙ (dy − Σ dy ⊙ y), instead of the scores, the masked scores and the output.
 */
export function maskedSoftmax(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  if (!tapeActive() || !tuning.fastOps) return tf.softmax(tf.add(scores, mask));
  const op = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save?: tf.Tensor | tf.GradSaveFunc) => {
    const y = tf.softmax(tf.add(x as tf.Tensor, mask));
    (save as tf.GradSaveFunc)([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const out = saved[0] as tf.Tensor;
          return tf.mul(out, tf.sub(dy, tf.sum(tf.mul(dy, out), -1, true)));
        }),
    };
  });
  return op(scores) as tf.Tensor;
}

/**
 * p · v for attention probabilities p [rows, keys] and values v [keys, headDim]. Its gradient for v is
 * computed as (dyᵀ · p)ᵀ rather than pᵀ · dy: it transposes two thin matrices instead of the wide p.
 */
export function attentionMix(p: tf.Tensor2D, v: tf.Tensor2D): tf.Tensor2D {
  if (!tapeActive() || !tuning.fastOps) return tf.matMul(p, v);
  const op = tf.customGrad(
    (probs: tf.Tensor | tf.GradSaveFunc, values: tf.Tensor | tf.GradSaveFunc, save?) => {
      (save as tf.GradSaveFunc)([probs as tf.Tensor, values as tf.Tensor]);
      return {
        value: tf.matMul(probs as tf.Tensor2D, values as tf.Tensor2D),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const [savedProbs, savedValues] = saved as [tf.Tensor2D, tf.Tensor2D];
            const dyT: tf.Tensor2D = tf.transpose(dy as tf.Tensor2D);
            return [
              tf.matMul(dy as tf.Tensor2D, tf.transpose(savedValues)),
              tf.transpose(tf.matMul(dyT, savedProbs)),
            ];
          }),
      };
    },
  );
  return op(p, v) as tf.Tensor2D;
}

/**
 * x · W for a W no gradient is asked for: saves nothing (tfjs's product would keep x and W and compute
 * W's gradient whenever anything upstream is trained); its backward is dy · Wᵀ with Wᵀ transposed explicitly
 * (matMul's transpose flags are ~10× slower on wasm). Only for weights that are not trained.
 */
export function frozenMatMul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  if (!tapeActive() || !tuning.fastOps) return tf.matMul(x, w);
  const op = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => ({
    value: tf.matMul(input as tf.Tensor2D, w),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.matMul(dy as tf.Tensor2D, tf.transpose(w))),
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * `run(x)`, checkpointed: the tape keeps only x, `constants` (tensors `run` reads that are freed when the
 * forward pass ends, e.g. RoPE tables) and the tensors `run` asks to keep (e.g. its products by frozen
 * weights, the bulk of its FLOPs), all as zero-copy clones; the backward pass recomputes the block with
 * `rerun(x, constants, kept)` under a gradient tape of its own and returns the gradients of x (when
 * `xNeedsGradient`) and of `parameters` (the persistent tensors `run` reads that may be trained: zeros
 * where the block does not reach one). `rerun` must compute what `run` did (same dropout masks). Without a
 * tape this is just `run(x)`.
 */
export function checkpointed(
  x: tf.Tensor2D,
  parameters: readonly tf.Tensor[],
  xNeedsGradient: boolean,
  run: (x: tf.Tensor2D) => { output: tf.Tensor2D; keep: readonly tf.Tensor[] },
  constants: readonly tf.Tensor[],
  rerun: (x: tf.Tensor2D, constants: readonly tf.Tensor[], kept: readonly tf.Tensor[]) => tf.Tensor2D,
): tf.Tensor2D {
  const inputs = xNeedsGradient ? [x, ...parameters] : [...parameters];
  if (!tapeActive() || !tuning.fastOps || inputs.length === 0) return run(x).output;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { output, keep } = run(x);
    save([x, ...constants, ...keep]);
    return {
      value: output,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const input = saved[0] as tf.Tensor2D;
        const savedConstants = saved.slice(1, 1 + constants.length);
        const kept = saved.slice(1 + constants.length);
        const sources = xNeedsGradient ? [input, ...parameters] : [...parameters];
        // The outer backward pass is still walking its tape: a nested `gradients` call replaces (and at its
        // end clears) the engine's active tape, so put the outer one back for its final clean-up.
        const state = engineState();
        const outerTape = state.activeTape;
        try {
          return tf.tidy(() => {
            const { value, grads } = tf
              .engine()
              .gradients(() => rerun(input, savedConstants, kept), sources, dy as tf.Tensor2D, true);
            value.dispose();
            return grads.map((g, i) => g ?? tf.zerosLike(sources[i] as tf.Tensor));
          });
        } finally {
          state.activeTape = outerTape;
        }
      },
    };
  });
  return op(...inputs) as tf.Tensor2D;
}

/**
 * x · W whose value `y` was computed (and kept) by the forward pass: inside a checkpointed block's
 * recomputation, the product is not run again, only its gradient: dx = dy · Wᵀ, and dW = xᵀ · dy when
 * `trainable` (then x is kept for it).
 */
export function replayedMatMul(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  y: tf.Tensor,
  trainable: boolean,
): tf.Tensor2D {
  if (!trainable) {
    const op = tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => {
      if (typeof input === "function") throw new Error("customGrad passed a save function for x");
      return {
        value: tf.clone(y),
        gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.matMul(dy as tf.Tensor2D, tf.transpose(w))),
      };
    });
    return op(x) as tf.Tensor2D;
  }
  const op = tf.customGrad(
    (input: tf.Tensor | tf.GradSaveFunc, weight: tf.Tensor | tf.GradSaveFunc, save?) => {
      (save as tf.GradSaveFunc)([input as tf.Tensor]);
      return {
        value: tf.clone(y),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => [
            tf.matMul(dy as tf.Tensor2D, tf.transpose(weight as tf.Tensor2D)),
            tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy as tf.Tensor2D),
          ]),
      };
    },
  );
  return op(x, w) as tf.Tensor2D;
}

/** The LM head as the fused log-prob op reads it. */
export interface LmHead {
  /** [dim, vocab] ("dimVocab", `output`) or [vocab, dim] ("vocabDim", a tied token embedding). */
  readonly weight: tf.Tensor2D;
  readonly layout: "dimVocab" | "vocabDim";
  /** Whether the op must return the head's gradient (see {@link needsGradient}). */
  readonly trainable: boolean;
}

function chunkRows(vocab: number): number {
  return Math.max(1, tuning.headChunkRows ?? Math.floor(2 ** 23 / vocab));
}

/** The head as [dim, vocab] (a transposed copy for a tied head: the caller frees it unless it is `weight`). */
function headDimVocab(head: LmHead): tf.Tensor2D {
  return head.layout === "dimVocab" ? head.weight : tf.transpose(head.weight);
}

/**
 * log softmax(h·W)[target] for each row of `h`, chunk by chunk over the rows; with `keepSoftmax`, also each
 * chunk's softmax (for the backward pass).
 */
function pickLogprobs(
  h: tf.Tensor2D,
  wDimVocab: tf.Tensor2D,
  targets: readonly number[],
  keepSoftmax = false,
): { logprobs: tf.Tensor1D; softmax: tf.Tensor2D[] } {
  const [rows, dim] = h.shape;
  const vocab = wDimVocab.shape[1];
  const step = chunkRows(vocab);
  const parts: tf.Tensor1D[] = [];
  const softmax: tf.Tensor2D[] = [];
  for (let start = 0; start < rows; start += step) {
    const count = Math.min(step, rows - start);
    const [picked, probs] = tf.tidy(() => {
      const chunk = count === rows ? h : tf.slice(h, [start, 0], [count, dim]);
      // softmax = exp(log softmax), as tf.logSoftmax's own gradient computes it (bit for bit the same
      // gradients as the plain formulation, not just equal to rounding).
      const logprobs = tf.logSoftmax(tf.matMul(chunk, wDimVocab));
      const flat = Int32Array.from({ length: count }, (_, r) => r * vocab + (targets[start + r] ?? 0));
      const pick: tf.Tensor1D = tf.gather(tf.reshape(logprobs, [count * vocab]), tf.tensor1d(flat, "int32"));
      return keepSoftmax ? [pick, tf.exp(logprobs) as tf.Tensor2D] : [pick];
    });
    parts.push(picked as tf.Tensor1D);
    if (probs) softmax.push(probs as tf.Tensor2D);
  }
  if (parts.length === 1) return { logprobs: parts[0] as tf.Tensor1D, softmax };
  const joined = tf.concat(parts);
  tf.dispose(parts);
  return { logprobs: joined, softmax };
}

/**
 * log p(targets[i] | row i) = log softmax(h[i] · W)[targets[i]] for the final hidden states `h` [m, dim]:
 * a [m] tensor. Logits are computed a chunk of rows at a time; under a tape the op keeps h and, when small
 * enough (`headSaveBytes`), each chunk's softmax p, else the backward pass recomputes the logits. Backward:
 * dlogits = dy ⊙ (onehot − p), dh = dlogits · Wᵀ, and, when the head is trained, dW = hᵀ · dlogits
 * accumulated over the chunks.
 */
export function headLogprobs(h: tf.Tensor2D, head: LmHead, targets: readonly number[]): tf.Tensor1D {
  if (!tuning.fastOps) return tf.tidy(() => plainLogprobs(h, headDimVocab(head), targets));
  if (!tapeActive()) return tf.tidy(() => pickLogprobs(h, headDimVocab(head), targets).logprobs);
  const inputs = head.trainable ? [h, head.weight] : [h];
  const keepSoftmax = headKeepsSoftmax(h.shape[0], head.weight.size / h.shape[1]);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { logprobs, softmax } = tf.tidy(() => {
      const picked = pickLogprobs(h, headDimVocab(head), targets, keepSoftmax);
      return { logprobs: picked.logprobs, softmax: picked.softmax };
    });
    save([h, ...softmax]);
    return {
      value: logprobs,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [input, ...kept] = saved as [tf.Tensor2D, ...tf.Tensor2D[]];
          return headBackward(input, dy as tf.Tensor1D, head, targets, kept);
        }),
    };
  });
  return op(...inputs) as tf.Tensor1D;
}

/** The plain formulation of {@link headLogprobs}: whole logits, log-softmax, one-hot product. */
function plainLogprobs(h: tf.Tensor2D, wDimVocab: tf.Tensor2D, targets: readonly number[]): tf.Tensor1D {
  const vocab = wDimVocab.shape[1];
  const picked = oneHotFloat(tf.tensor1d([...targets], "int32"), vocab);
  return tf.sum(tf.mul(tf.logSoftmax(tf.matMul(h, wDimVocab)), picked), -1);
}

/**
 * The vocabulary split into `count` equal blocks of at most `headVocabBlock` entries (and over a quarter of
 * that), for the backward product
 * dlogits · Wᵀ: with the whole vocabulary as its inner dimension XNNPACK runs it at half speed, with blocks
 * at full speed. 1 (no split) when no such divisor exists.
 */
function vocabBlocks(vocab: number): number {
  const block = tuning.headVocabBlock;
  for (let count = Math.ceil(vocab / block); count <= vocab / Math.max(1, block / 4); count += 1)
    if (vocab % count === 0) return count;
  return 1;
}

/** dlogits [rows, vocab] · W [vocab, dim] as a sum over vocabulary blocks (see {@link vocabBlocks}). */
function blockedProduct(dlogits: tf.Tensor2D, wBlocks: readonly tf.Tensor2D[]): tf.Tensor2D {
  const count = wBlocks.length;
  if (count === 1) return tf.matMul(dlogits, wBlocks[0] as tf.Tensor2D);
  const [rows, vocab] = dlogits.shape;
  const size = vocab / count;
  // [rows, count, size] → [count, rows, size]: each block's columns become a contiguous [rows, size].
  const blocks = tf.split(
    tf.reshape(tf.transpose(tf.reshape(dlogits, [rows, count, size]), [1, 0, 2]), [count * rows, size]),
    count,
    0,
  );
  let sum: tf.Tensor2D | undefined;
  blocks.forEach((block, j) => {
    const part: tf.Tensor2D = tf.matMul(block as tf.Tensor2D, wBlocks[j] as tf.Tensor2D);
    sum = sum === undefined ? part : (tf.add(sum, part) as tf.Tensor2D);
  });
  return sum as unknown as tf.Tensor2D;
}

function headBackward(
  h: tf.Tensor2D,
  dy: tf.Tensor1D,
  head: LmHead,
  targets: readonly number[],
  softmax: readonly tf.Tensor2D[],
): tf.Tensor[] {
  const [rows, dim] = h.shape;
  const wDimVocab = softmax.length > 0 ? undefined : headDimVocab(head);
  const wVocabDim = head.layout === "vocabDim" ? head.weight : tf.transpose(head.weight);
  const vocab = wVocabDim.shape[0];
  const blocks = vocabBlocks(vocab);
  const wBlocks = blocks === 1 ? [wVocabDim] : (tf.split(wVocabDim, blocks, 0) as tf.Tensor2D[]);
  const step = chunkRows(vocab);
  const dh: tf.Tensor2D[] = [];
  let dw: tf.Tensor2D | undefined;
  for (let start = 0, index = 0; start < rows; start += step, index += 1) {
    const count = Math.min(step, rows - start);
    const [dhChunk, dwNext] = tf.tidy(() => {
      const chunk = count === rows ? h : tf.slice(h, [start, 0], [count, dim]);
      const probs = softmax[index] ?? tf.exp(tf.logSoftmax(tf.matMul(chunk, wDimVocab as tf.Tensor2D)));
      const picked = oneHotFloat(tf.tensor1d(targets.slice(start, start + count), "int32"), vocab);
      const dyChunk = tf.reshape(count === rows ? dy : tf.slice(dy, [start], [count]), [count, 1]);
      // dy ⊙ onehot − dy ⊙ p: tf.logSoftmax's gradient after the one-hot product, in its order of operations.
      const dlogits: tf.Tensor2D = tf.sub(tf.mul(picked, dyChunk), tf.mul(dyChunk, probs));
      const dhPart = blockedProduct(dlogits, wBlocks);
      if (!head.trainable) return [dhPart];
      const dwPart: tf.Tensor2D = tf.matMul(tf.transpose(chunk), dlogits);
      return [dhPart, dw === undefined ? dwPart : tf.add(dw, dwPart)];
    });
    dh.push(dhChunk as tf.Tensor2D);
    if (dwNext !== undefined) {
      dw?.dispose();
      dw = dwNext as tf.Tensor2D;
    }
  }
  const dhAll = dh.length === 1 ? (dh[0] as tf.Tensor2D) : tf.concat(dh);
  if (!head.trainable || dw === undefined) return [dhAll];
  return [dhAll, head.layout === "vocabDim" ? tf.transpose(dw) : dw];
}
