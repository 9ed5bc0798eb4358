// Supervised fine-tuning of a LoRA adapter: masked next-token cross-entropy and a hand-written AdamW step
// over the adapter's variables. Deterministic: same seed, data and backend give the same weights.
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { type LoraAdapter, loraVariables } from "../model/lora.js";
import { tokenLogprobs } from "../model/transformer.js";
import type { TransformerWeights } from "../model/weights.js";

/** One training sequence and which of its tokens to learn. */
export interface SftExample {
  /** Token ids. Every example of one batch must have the same length. */
  readonly tokens: readonly number[];
  /**
   * One entry per token: 1 where the token is learned (predicted from all tokens before it), 0 where it is
   * context only (e.g. the prompt). Entry 0 is ignored (nothing predicts the first token).
   */
  readonly lossMask: readonly number[];
}

/**
 * Mean −log p(token | prefix) over the masked tokens of `examples` (one batch, equal lengths), with
 * `lora` applied: a scalar to differentiate. Throws when no token is masked in.
 */
export function sftLoss(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  examples: readonly SftExample[],
): tf.Scalar {
  const { targets, count } = maskTensor(examples);
  return tf.tidy(() => {
    const logprobs = tokenLogprobs(
      weights,
      examples.map((e) => e.tokens),
      lora,
    );
    // Multiply by −1/count rather than divide and negate: only the kernels gradients.ts registers.
    return tf.mul(tf.sum(tf.mul(logprobs, targets)), -1 / count);
  });
}

/** The loss mask shifted to the log-prob positions ([batch, seq − 1]) and how many ones it has. */
function maskTensor(examples: readonly SftExample[]): { targets: tf.Tensor2D; count: number } {
  const seq = examples[0]?.tokens.length ?? 0;
  if (examples.length === 0 || seq < 2) throw new CaiError("SFT needs sequences of at least two tokens");
  const values = new Float32Array(examples.length * (seq - 1));
  let count = 0;
  examples.forEach((example, b) => {
    if (example.tokens.length !== seq)
      throw new CaiError("every sequence of an SFT batch must have the same length; pad or group them");
    if (example.lossMask.length !== seq)
      throw new CaiError(`a loss mask has ${example.lossMask.length} entries for ${seq} tokens`);
    for (let i = 1; i < seq; i += 1) {
      const m = example.lossMask[i] ?? 0;
      if (m !== 0 && m !== 1) throw new CaiError(`loss mask entries must be 0 or 1, not ${m}`);
      values[b * (seq - 1) + i - 1] = m;
      count += m;
    }
  });
  if (count === 0) throw new CaiError("the loss mask selects no token to learn");
  return { targets: tf.tensor2d(values, [examples.length, seq - 1]), count };
}

/** Hyper-parameters of {@link AdamW}. */
export interface AdamWOptions {
  /** Default 1e-3. */
  readonly learningRate?: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled weight decay (multiplied by the learning rate). Default 0.01. */
  readonly weightDecay?: number;
}

/** A snapshot of an {@link AdamW}'s state: its update count and moments, in its variables' order. */
export interface AdamWState {
  readonly steps: number;
  readonly moments: readonly Float32Array[];
  readonly squares: readonly Float32Array[];
}

/**
 * AdamW (Loshchilov & Hutter) over a fixed list of variables, written by hand: `tf.train.adam` has no
 * weight decay, and adding an L2 term to the loss would be scaled by Adam's per-parameter step size
 * (coupled decay), not applied as p ← p − lr·λ·p. Update per step t:
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·(m̂ / (√v̂ + ε) + λ·p), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
 */
export class AdamW {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly variables: readonly tf.Variable[];
  private readonly moments: tf.Variable[];
  private readonly squares: tf.Variable[];
  private steps = 0;

  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    this.learningRate = options.learningRate ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.variables = variables;
    this.moments = variables.map((v) => tf.variable(tf.zerosLike(v), false));
    this.squares = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  /** How many updates were applied. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * Applies one update from `grads`, one per variable in the constructor's order (not disposed here), at
   * `learningRate` (default: the constructor's; a schedule passes each step's).
   */
  apply(grads: readonly tf.Tensor[], learningRate: number = this.learningRate): void {
    if (grads.length !== this.variables.length)
      throw new CaiError(`AdamW got ${grads.length} gradients for ${this.variables.length} variables`);
    this.steps += 1;
    const { beta1, beta2, epsilon } = this;
    const correction1 = 1 - beta1 ** this.steps;
    const correction2 = 1 - beta2 ** this.steps;
    tf.tidy(() => {
      this.variables.forEach((p, i) => {
        const g = grads[i] as tf.Tensor;
        const m = this.moments[i] as tf.Variable;
        const v = this.squares[i] as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const adam = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), epsilon));
        const step = tf.add(adam, tf.mul(p, this.weightDecay));
        p.assign(tf.sub(p, tf.mul(step, learningRate)));
      });
    });
  }

  /** A copy of the optimizer's state (step count, first and second moments), e.g. for a checkpoint. */
  exportState(): AdamWState {
    const copy = (t: tf.Variable): Float32Array => Float32Array.from(t.dataSync());
    return { steps: this.steps, moments: this.moments.map(copy), squares: this.squares.map(copy) };
  }

  /** Replaces the optimizer's state with `state` (from {@link exportState}); throws when it does not fit. */
  loadState(state: AdamWState): void {
    if (!Number.isInteger(state.steps) || state.steps < 0)
      throw new CaiError(`AdamW state has an invalid step count ${state.steps}`);
    const fill = (targets: readonly tf.Variable[], values: readonly Float32Array[], what: string): void => {
      if (values.length !== targets.length)
        throw new CaiError(`AdamW state has ${values.length} ${what} for ${targets.length} variables`);
      targets.forEach((t, i) => {
        const data = values[i] as Float32Array;
        if (data.length !== t.size)
          throw new CaiError(`AdamW state: ${what} ${i} has ${data.length} values, not ${t.size}`);
        tf.tidy(() => t.assign(tf.tensor(data, t.shape, "float32")));
      });
    };
    fill(this.moments, state.moments, "first moments");
    fill(this.squares, state.squares, "second moments");
    this.steps = state.steps;
  }

  /** Frees the optimizer's state (not the variables it trains). */
  dispose(): void {
    for (const t of [...this.moments, ...this.squares]) t.dispose();
  }
}

/** A LoRA SFT trainer: its adapter's variables and their optimizer. */
export interface SftTrainer {
  readonly weights: TransformerWeights;
  readonly lora: LoraAdapter;
  readonly optimizer: AdamW;
}

/** An optimizer over every variable of `lora`, ready for {@link sftStep}. Dispose `trainer.optimizer` after. */
export function createSftTrainer(
  weights: TransformerWeights,
  lora: LoraAdapter,
  options: AdamWOptions = {},
): SftTrainer {
  return { weights, lora, optimizer: new AdamW(loraVariables(lora), options) };
}

/**
 * One optimizer step: `loss`, its gradients with respect to `variables` (everything else stays frozen)
 * and an update by `optimizer` (which trains exactly `variables`, in order). Returns the loss before the update.
 */
export function optimizerStep(
  optimizer: AdamW,
  variables: readonly tf.Variable[],
  loss: () => tf.Scalar,
): number {
  const { value, grads } = tf.variableGrads(loss, [...variables]);
  try {
    optimizer.apply(variables.map((v) => grads[v.name] as tf.Tensor));
    return value.dataSync()[0] ?? Number.NaN;
  } finally {
    value.dispose();
    tf.dispose(grads);
  }
}

/**
 * One SFT step on one batch: the masked loss, its gradients with respect to the LoRA variables (the base
 * weights stay frozen), and an AdamW update. Returns the loss before the update.
 */
export function sftStep(trainer: SftTrainer, examples: readonly SftExample[]): number {
  return optimizerStep(trainer.optimizer, loraVariables(trainer.lora), () =>
    sftLoss(trainer.weights, trainer.lora, examples),
  );
}
