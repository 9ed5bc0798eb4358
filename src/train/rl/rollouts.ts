// RL-CAI's rollouts: the policy (the start model plus the current adapter, a new GGUF file per update since
// llama.cpp caches adapters by path) samples k answers per prompt through llama.cpp as tokens, with the
// probability of each token drawn (π_old), and the trainer computes the sampled tokens' log-probabilities
// — under the policy, the importance ratio's numerator, and under the reference (the start model, no
// adapter), for the KL penalty.
import * as tf from "@tensorflow/tfjs-core";
import type { LlamaLanguageModel, SampledCompletion } from "../../models/llama/llama-language-model.js";
import type { ChatMessage } from "../../models/model.js";
import { recordSeed } from "../../runs/record-seed.js";
import type { LoraAdapter } from "../model/lora.js";
import { tokenLogprobs } from "../model/transformer.js";
import type { TransformerWeights } from "../model/weights.js";

/** One prompt of the RL mix: a conversation ending with the user's turn. */
export interface RlPrompt {
  /** Stable id (seeds the prompt's samples, so they do not depend on order). */
  readonly id: string;
  readonly messages: readonly ChatMessage[];
}

/** One sampled answer, as llama.cpp sampled it. */
export interface RolloutSample extends SampledCompletion {
  readonly prompt: RlPrompt;
  /** Which of the prompt's k samples. */
  readonly sample: number;
}

/** Options of {@link sampleGroups}. */
export interface SampleGroupsOptions {
  /** Samples per prompt (k). */
  readonly samples: number;
  readonly maxNewTokens: number;
  readonly temperature: number;
  /** Seed of the run; each sample's seed is derived from it, the step and the prompt's id. */
  readonly seed: number;
  /** The update the rollouts are for (part of each sample's seed). */
  readonly step: number;
  readonly signal?: AbortSignal;
}

/**
 * k answers to each prompt from `policy`, all requested at once (the model runs as many as its `parallel`
 * allows side by side); grouped by prompt, in the prompts' order. Each sample's seed depends only on
 * (run seed, step, prompt id, sample index), so the rollouts of a step are the same on a rerun.
 */
export async function sampleGroups(
  policy: LlamaLanguageModel,
  prompts: readonly RlPrompt[],
  options: SampleGroupsOptions,
): Promise<RolloutSample[][]> {
  return Promise.all(
    prompts.map((prompt) =>
      Promise.all(
        Array.from({ length: options.samples }, async (_, sample) => {
          const completion = await policy.sampleCompletion({
            messages: [...prompt.messages],
            maxTokens: options.maxNewTokens,
            temperature: options.temperature,
            seed: recordSeed(options.seed, `${options.step}:${sample}:${prompt.id}`),
            ...(options.signal ? { signal: options.signal } : {}),
          });
          return { ...completion, prompt, sample };
        }),
      ),
    ),
  );
}

/**
 * log p of each of `sample`'s sampled tokens given the prompt and the tokens before it, by the trainer:
 * under the base `weights` plus `lora` (the policy) or the base alone (the reference).
 */
export function completionLogprobs(
  weights: TransformerWeights,
  sample: Pick<SampledCompletion, "promptTokens" | "tokens">,
  lora?: LoraAdapter,
  temperature = 1,
): number[] {
  const promptLength = sample.promptTokens.length;
  const n = sample.tokens.length;
  if (n === 0) return [];
  return tf.tidy(() => {
    const all = tokenLogprobs(weights, [[...sample.promptTokens, ...sample.tokens]], lora, temperature);
    return Array.from(tf.slice(all, [0, promptLength - 1], [1, n]).dataSync());
  });
}

/**
 * The differentiable log-probabilities of each sample's completion tokens under `lora` (or the base), from
 * one forward pass over all of them (at the sampling `temperature`, as {@link tokenLogprobs}): the rows are right-padded to one length (with each row's last token),
 * which causal attention makes harmless — no position attends to the padding after it. One 1-D tensor
 * [n_i] per sample, in order; free them (or call inside `tf.tidy`).
 */
export function completionLogprobTensors(
  weights: TransformerWeights,
  samples: readonly Pick<SampledCompletion, "promptTokens" | "tokens">[],
  lora?: LoraAdapter,
  temperature = 1,
): tf.Tensor1D[] {
  const rows = samples.map((s) => [...s.promptTokens, ...s.tokens]);
  const length = Math.max(...rows.map((r) => r.length));
  const padded = rows.map((r) => [...r, ...new Array<number>(length - r.length).fill(r.at(-1) ?? 0)]);
  return tf.tidy(() => {
    const all = tokenLogprobs(weights, padded, lora, temperature);
    return samples.map((s, b) => {
      const n = s.tokens.length;
      return tf.reshape(tf.slice(all, [b, s.promptTokens.length - 1], [1, n]), [n]) as tf.Tensor1D;
    });
  });
}

/**
 * {@link completionLogprobs} of many samples, `batchSize` per forward pass (padded as
 * {@link completionLogprobTensors} pads), read back as numbers.
 */
export function batchedCompletionLogprobs(
  weights: TransformerWeights,
  samples: readonly Pick<SampledCompletion, "promptTokens" | "tokens">[],
  lora: LoraAdapter | undefined,
  batchSize: number,
  temperature = 1,
): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < samples.length; start += batchSize) {
    const chunk = samples.slice(start, start + batchSize);
    tf.tidy(() => {
      for (const t of completionLogprobTensors(weights, chunk, lora, temperature))
        out.push(Array.from(t.dataSync()));
    });
  }
  return out;
}
