// Full-parameter training: every weight of a loaded model as a trainable `tf.Variable`, named after its
// GGUF tensor, in one fixed order for the optimizer, checkpoints and the GGUF model export.
//
// Layout: the variables keep weights.ts's layout (projections [in, out], token embedding [vocab, dim],
// LM head [dim, vocab]), so the unchanged forward pass trains them. Tied embeddings (a GGUF file without
// `output.weight`): the head is not a parameter of its own. The trainable weights are marked `tiedHead`, and
// the forward pass multiplies by the embedding variable transposed, so the one parameter receives the
// gradients of the lookup and of the head, as in the model llama.cpp will run.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import type { TrainObjective } from "../loop/train-loop.js";
import type { AdamW, SftExample } from "../objectives/sft.js";
import { sftLoss } from "../objectives/sft.js";
import { type BlockWeights, disposeWeights, loadWeights, type TransformerWeights } from "./weights.js";

/** How a weight is laid out relative to its GGUF tensor (see weights.ts). */
export type WeightLayout =
  /** 1-D (norm weight or bias): the same values. */
  | "vector"
  /** [vocab, dim] = GGUF ne=[dim, vocab]: the same values. */
  | "embedding"
  /** [in, out] = GGUF ne=[in, out] transposed: GGUF stores the row-major [out, in]. */
  | "projection";

/** One weight of a model under its GGUF tensor name. */
export interface NamedWeight {
  /** The GGUF tensor name, e.g. `blk.0.attn_q.weight`: stable across runs and processes. */
  readonly name: string;
  readonly tensor: tf.Tensor;
  readonly layout: WeightLayout;
}

/** A block weight's GGUF tensor suffix and layout, in the order {@link namedWeights} lists them. */
const blockTensors: ReadonlyArray<readonly [keyof BlockWeights, string, WeightLayout]> = [
  ["attnNorm", "attn_norm.weight", "vector"],
  ["wq", "attn_q.weight", "projection"],
  ["bq", "attn_q.bias", "vector"],
  ["wk", "attn_k.weight", "projection"],
  ["bk", "attn_k.bias", "vector"],
  ["wv", "attn_v.weight", "projection"],
  ["bv", "attn_v.bias", "vector"],
  ["wo", "attn_output.weight", "projection"],
  ["ffnNorm", "ffn_norm.weight", "vector"],
  ["wGate", "ffn_gate.weight", "projection"],
  ["wUp", "ffn_up.weight", "projection"],
  ["wDown", "ffn_down.weight", "projection"],
];

/**
 * Every distinct weight of `weights` with its GGUF name, in forward order: `token_embd.weight`; per block
 * `attn_norm`, `attn_q` (+ `.bias`), `attn_k` (+ `.bias`), `attn_v` (+ `.bias`), `attn_output`, `ffn_norm`,
 * `ffn_gate`, `ffn_up`, `ffn_down`; `output_norm.weight`; `output.weight` unless the model ties it to the
 * embedding (`config.tiedEmbeddings`), in which case the head is the embedding and is not listed.
 */
export function namedWeights(weights: TransformerWeights): NamedWeight[] {
  const named: NamedWeight[] = [
    { name: "token_embd.weight", tensor: weights.tokenEmbedding, layout: "embedding" },
  ];
  weights.blocks.forEach((block, index) => {
    for (const [key, suffix, layout] of blockTensors) {
      const tensor = block[key];
      if (tensor) named.push({ name: `blk.${index}.${suffix}`, tensor, layout });
    }
  });
  named.push({ name: "output_norm.weight", tensor: weights.outputNorm, layout: "vector" });
  if (!weights.config.tiedEmbeddings)
    named.push({ name: "output.weight", tensor: weights.output, layout: "projection" });
  return named;
}

/** One trainable parameter of a {@link FullModel}. */
export interface FullModelParameter {
  /** The GGUF tensor name (see {@link namedWeights}). */
  readonly name: string;
  readonly variable: tf.Variable;
}

/** A model whose every weight is trainable. */
export interface FullModel {
  /**
   * The weights to run and train: every tensor a variable of `parameters` (for a tied model the head is
   * the embedding, marked `tiedHead`; its `output` is a frozen copy of the initial head that the forward
   * pass does not read). Pass them to `forwardLogits`, `sftLoss` (without LoRA), `writeGgufModel`.
   */
  readonly weights: TransformerWeights;
  /** The trainable parameters in {@link namedWeights} order: one per distinct weight. */
  readonly parameters: readonly FullModelParameter[];
}

/**
 * Trainable copies of `weights` (left to the caller: dispose them when no longer needed; a variable
 * shares its source's buffer until its first update, so the copy is free until training starts).
 * Free the result with {@link disposeFullModel}.
 */
export function createFullModel(weights: TransformerWeights): FullModel {
  const made = new Map<tf.Tensor, tf.Variable>();
  const frozen: tf.Tensor[] = [];
  try {
    const parameters = namedWeights(weights).map(({ name, tensor }) => {
      if (tensor.dtype !== "float32")
        throw new CaiError(`weight ${name} is ${tensor.dtype}; full training needs float32 weights`);
      const variable = tf.variable(tensor, true);
      made.set(tensor, variable);
      return { name, variable };
    });
    const trainable = <T extends tf.Tensor>(t: T): T => made.get(t) as unknown as T;
    const optional = (t: tf.Tensor1D | undefined) => (t === undefined ? undefined : trainable(t));
    const tied = weights.config.tiedEmbeddings;
    const output = tied ? tf.keep(tf.clone(weights.output)) : trainable(weights.output);
    if (tied) frozen.push(output);
    const blocks = weights.blocks.map(
      (b): BlockWeights => ({
        attnNorm: trainable(b.attnNorm),
        wq: trainable(b.wq),
        wk: trainable(b.wk),
        wv: trainable(b.wv),
        bq: optional(b.bq),
        bk: optional(b.bk),
        bv: optional(b.bv),
        wo: trainable(b.wo),
        ffnNorm: trainable(b.ffnNorm),
        wGate: trainable(b.wGate),
        wUp: trainable(b.wUp),
        wDown: trainable(b.wDown),
      }),
    );
    const trainableWeights: TransformerWeights = {
      config: weights.config,
      tokenEmbedding: trainable(weights.tokenEmbedding),
      blocks,
      outputNorm: trainable(weights.outputNorm),
      output,
      ...(tied ? { tiedHead: true } : {}),
    };
    return { weights: trainableWeights, parameters };
  } catch (error) {
    for (const v of made.values()) v.dispose();
    for (const t of frozen) t.dispose();
    throw error;
  }
}

/** Loads a GGUF model (see `loadWeights`) straight into a {@link FullModel}, keeping no other copy. */
export async function loadFullModel(path: string): Promise<FullModel> {
  const weights = await loadWeights(path);
  try {
    return createFullModel(weights);
  } finally {
    // The variables hold their own references to the buffers: disposing the sources frees nothing they use.
    disposeWeights(weights);
  }
}

/** The variables of `model` in {@link namedWeights} order: what AdamW and checkpoints take. */
export function fullModelVariables(model: FullModel): tf.Variable[] {
  return model.parameters.map((p) => p.variable);
}

/** Frees every variable of `model` (and the frozen head copy of a tied model). */
export function disposeFullModel(model: FullModel): void {
  for (const p of model.parameters) p.variable.dispose();
  if (model.weights.tiedHead) model.weights.output.dispose();
}

/**
 * The SFT objective of full-parameter training for `trainLoop`: {@link sftLoss} without LoRA over every
 * parameter of `model`. `optimizer` must be an AdamW over {@link fullModelVariables}`(model)`.
 */
export function fullSftObjective(model: FullModel, optimizer: AdamW): TrainObjective<SftExample> {
  return {
    variables: fullModelVariables(model),
    optimizer,
    loss: (batch) => sftLoss(model.weights, undefined, batch),
    tokens: (example) => example.tokens.length,
  };
}
