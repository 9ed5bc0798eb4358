// The preference (reward) model of Constitutional AI's RL stage: the base model plus a LoRA adapter, read
// at each conversation's last token by a scalar head, trained with the soft-target Bradley–Terry loss on
// AI-feedback preferences (CAI.md: soft labels beat hard ones), and saved as a directory the model layer
// loads as a scorer (load-reward-model.ts beside it).
//
// Score: s = w · h_last + b, h_last = forwardHidden's row (after the output RMSNorm) at the sequence's last
// token. Sequences of one batch are right-padded to the longest: attention is causal, so padding after a
// sequence changes none of its rows. The last real row is picked by a one-hot product over positions
// (tf.gather has no gradient on wasm): scores of every position = hidden · w, times the one-hot, summed.
//
// Head initialisation: w ~ N(0, (0.1/√dim)²) seeded, b = 0. With w = 0 and a fresh LoRA (B = 0) every
// score is b, and dL/dh = (σ(d) − t)·w = 0, so the adapter gets no gradient until w has moved; a small
// random w gives every parameter a gradient from step 1 while keeping the initial scores near equal
// (|s_c − s_r| ≈ 0.1·‖h_c − h_r‖/√dim, the loss near log 2). AdamW normalises the step size, so the
// small w does not slow the adapter down. b gets no gradient from a pairwise loss (it shifts both scores
// alike); it stays 0 unless set, e.g. to centre the scores on a reference set before RL.
//
// Directory layout (writeRewardModel): `adapter.gguf` (writeGgufAdapter: also loadable by llama.cpp),
// `head.safetensors` (F32 `w` [dim] and `b` [1]) and `reward.json` (reward-manifest.ts), written last.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { ModelLoadError } from "../../models/errors/model-load-error.js";
import type { LlamaPromptRenderer } from "../../models/llama/llama-prompt.js";
import type { ChatMessage } from "../../models/model.js";
import { SeededRandom } from "../../random/seeded-random.js";
import { sftExampleFromMessages } from "../data/chat-tokens.js";
import { writeGgufAdapter } from "../formats/export-gguf-adapter.js";
import { readSafetensors, writeSafetensors } from "../formats/safetensors.js";
import type { TrainSetting } from "../loop/checkpoint.js";
import type { TrainObjective } from "../loop/train-loop.js";
import { dropoutSeed, type LoraAdapter, loraVariables, withLoraDropout } from "../model/lora.js";
import type { ModelConfig } from "../model/model-config.js";
import { forwardHidden } from "../model/transformer.js";
import type { TransformerWeights } from "../model/weights.js";
import type { DpoPair } from "../objectives/dpo.js";
import {
  bradleyTerryLoss,
  type CalibrationSummary,
  calibrationSummary,
  preferenceAccuracy,
} from "../objectives/preference-loss.js";
import { AdamW, type AdamWOptions } from "../objectives/sft.js";
import { type RewardManifest, rewardModelFormat, writeRewardManifest } from "./reward-manifest.js";

/** The scalar head of a reward model: s = w · h + b. */
export interface RewardHead {
  /** [dim]. */
  readonly w: tf.Variable<tf.Rank.R1>;
  /** A scalar. */
  readonly b: tf.Variable<tf.Rank.R0>;
}

/** Options of {@link createRewardHead}. */
export interface RewardHeadOptions {
  /** Seed of w. Default 0. */
  readonly seed?: number;
  /** Standard deviation of w's entries. Default 0.1 / √dim (see the file header). */
  readonly std?: number;
}

/**
 * A fresh reward head for hidden states of size `dim`: w seeded normal (std 0.1/√dim unless told), b = 0.
 * Free it with {@link disposeRewardHead}.
 */
export function createRewardHead(dim: number, options: RewardHeadOptions = {}): RewardHead {
  if (!Number.isInteger(dim) || dim < 1) throw new CaiError(`a reward head needs a positive dim, not ${dim}`);
  const std = options.std ?? 0.1 / Math.sqrt(dim);
  if (!(std >= 0 && Number.isFinite(std))) throw new CaiError(`the head's std must be ≥ 0, not ${std}`);
  const values = new SeededRandom(options.seed ?? 0).normals(dim, std);
  return headOf(values, 0);
}

function headOf(w: Float32Array, b: number): RewardHead {
  const wVar = tf.variable(tf.tensor1d(w));
  return { w: wVar, b: tf.variable(tf.scalar(b)) };
}

/** The head's variables in their fixed order: w, then b. */
export function rewardHeadVariables(head: RewardHead): tf.Variable[] {
  return [head.w, head.b];
}

/** Frees the head's variables. */
export function disposeRewardHead(head: RewardHead): void {
  head.w.dispose();
  head.b.dispose();
}

/**
 * The scores s = w · h_last + b of `sequences` (any lengths, each at least one token) under the base
 * model plus `lora` (none: the base alone): one forward pass over the right-padded batch, differentiable
 * with respect to the adapter and the head. [sequences]; free it (or call inside `tf.tidy`).
 */
export function rewardScores(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  head: RewardHead,
  sequences: readonly (readonly number[])[],
): tf.Tensor1D {
  const batch = sequences.length;
  if (batch === 0) throw new CaiError("a reward model scores at least one sequence");
  const dim = weights.config.embeddingLength;
  if (head.w.shape[0] !== dim)
    throw new CaiError(`the reward head has dim ${head.w.shape[0]}, the model ${dim}`);
  const seq = Math.max(...sequences.map((s) => s.length));
  if (sequences.some((s) => s.length === 0))
    throw new CaiError("a reward model cannot score an empty sequence");
  // Right-pad with token 0 (any valid id does: nothing before it attends to it); one-hot at the last token.
  const padded = sequences.map((s) =>
    s.length === seq ? s : [...s, ...new Array<number>(seq - s.length).fill(0)],
  );
  const last = new Float32Array(batch * seq);
  sequences.forEach((s, i) => {
    last[i * seq + s.length - 1] = 1;
  });
  return tf.tidy(() => {
    const hidden = forwardHidden(weights, padded, lora);
    const perPosition = tf.reshape(tf.matMul(hidden, tf.reshape(head.w, [dim, 1])), [batch, seq]);
    const picked = tf.sum(tf.mul(perPosition, tf.tensor2d(last, [batch, seq])), 1);
    return tf.add(picked, head.b) as tf.Tensor1D;
  });
}

/** The scores of every pair's chosen and of its rejected sequence, from one padded batch of all 2n. */
function pairScores(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  head: RewardHead,
  pairs: readonly DpoPair[],
): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const n = pairs.length;
  if (n === 0) throw new CaiError("a reward model needs at least one preference pair");
  const sequences = [...pairs.map((p) => p.chosen.tokens), ...pairs.map((p) => p.rejected.tokens)];
  const scores = rewardScores(weights, lora, head, sequences);
  return { chosen: tf.slice(scores, 0, n), rejected: tf.slice(scores, n, n) };
}

/**
 * The margins s(chosen) − s(rejected) of `pairs` (all 2n sequences scored in one batch): differentiable,
 * [pairs]. σ(margin) is the model's probability that the chosen response is better.
 */
export function rewardMargins(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  head: RewardHead,
  pairs: readonly DpoPair[],
): tf.Tensor1D {
  return tf.tidy(() => {
    const { chosen, rejected } = pairScores(weights, lora, head, pairs);
    return tf.sub(chosen, rejected);
  });
}

/**
 * The soft-target Bradley–Terry loss of the reward model on `pairs`: mean over pairs of
 * −[t·log σ(s_c − s_r) + (1 − t)·log σ(s_r − s_c)], t the pair's target (default 1). A scalar to
 * differentiate with respect to the adapter's and the head's variables. (Only the tokens of `chosen` and
 * `rejected` are read; their loss masks are not used.)
 */
export function rewardLoss(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  head: RewardHead,
  pairs: readonly DpoPair[],
): tf.Scalar {
  const targets = pairs.map((pair) => pair.target ?? 1);
  return tf.tidy(() => {
    const { chosen, rejected } = pairScores(weights, lora, head, pairs);
    return bradleyTerryLoss(chosen, rejected, targets);
  });
}

/** Held-out quality of a reward model, as plain numbers. */
export interface RewardEvaluation {
  /** Pairs evaluated. */
  readonly pairs: number;
  /**
   * Fraction of decisive pairs (target ≠ 0.5) whose margin has the side of the target (> 0.5: chosen
   * better; < 0.5: rejected better); a zero margin counts half; ties (target exactly 0.5) are not counted.
   * NaN when every pair is a tie.
   */
  readonly accuracy: number;
  /** Mean soft Bradley–Terry loss (the training loss, without gradient). */
  readonly loss: number;
  /** Expected calibration error of σ(margin) against the targets (10 equal-width bins). */
  readonly expectedCalibrationError: number;
  /** Mean (σ(margin) − t)². */
  readonly brierScore: number;
  /** Mean margin s_c − s_r. */
  readonly meanMargin: number;
  /** The full calibration summary, with its reliability bins. */
  readonly calibration: CalibrationSummary;
}

/**
 * Accuracy, loss and calibration of the reward model on `pairs` (held out from training), computed in
 * batches of `batchSize` pairs (default 8) without a gradient tape.
 */
export function evaluateRewardModel(
  weights: TransformerWeights,
  lora: LoraAdapter | undefined,
  head: RewardHead,
  pairs: readonly DpoPair[],
  options: { readonly batchSize?: number } = {},
): RewardEvaluation {
  if (pairs.length === 0) throw new CaiError("evaluating a reward model needs at least one pair");
  const batchSize = options.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new CaiError(`the evaluation batch size must be a positive integer, not ${batchSize}`);
  const margins: number[] = [];
  for (let start = 0; start < pairs.length; start += batchSize) {
    const batch = pairs.slice(start, start + batchSize);
    const values = tf.tidy(() => rewardMargins(weights, lora, head, batch).dataSync());
    margins.push(...Array.from(values));
  }
  const targets = pairs.map((pair) => pair.target ?? 1);
  const calibration = calibrationSummary(margins, targets);
  return {
    pairs: pairs.length,
    accuracy: preferenceAccuracy(margins, targets),
    loss: calibration.logLoss,
    expectedCalibrationError: calibration.expectedCalibrationError,
    brierScore: calibration.brierScore,
    meanMargin: margins.reduce((a, m) => a + m, 0) / margins.length,
    calibration,
  };
}

/** The plain-number metrics of `evaluation`, as {@link writeRewardModel} records them in reward.json. */
export function rewardMetrics(evaluation: RewardEvaluation): Record<string, number> {
  const { pairs, accuracy, loss, expectedCalibrationError, brierScore, meanMargin } = evaluation;
  return { pairs, accuracy, loss, expectedCalibrationError, brierScore, meanMargin };
}

/** Options of {@link rewardObjective}. */
export interface RewardObjectiveOptions extends AdamWOptions {
  /** Seed of the LoRA dropout masks (when `lora.dropout` > 0). Default 0. */
  readonly seed?: number;
}

/**
 * The reward model's objective for `trainLoop`: {@link rewardLoss} over the LoRA variables
 * (`loraVariables` order) followed by the head's (w, b), with its own AdamW over exactly those. LoRA
 * dropout (`lora.dropout`) applies on training steps, seeded by (seed, step, micro-batch). Dispose
 * `objective.optimizer` after training.
 */
export function rewardObjective(
  weights: TransformerWeights,
  lora: LoraAdapter,
  head: RewardHead,
  options: RewardObjectiveOptions = {},
): TrainObjective<DpoPair> {
  const variables = [...loraVariables(lora), ...rewardHeadVariables(head)];
  const seed = options.seed ?? 0;
  return {
    variables,
    optimizer: new AdamW(variables, options),
    loss: (batch, context) => {
      const loss = () => rewardLoss(weights, lora, head, batch);
      if (context === undefined || lora.dropout <= 0) return loss();
      return withLoraDropout(lora.dropout, dropoutSeed(seed, context.step, context.microBatch), loss);
    },
    tokens: (pair) => pair.chosen.tokens.length + pair.rejected.tokens.length,
  };
}

/**
 * The tokens a reward model scores for a conversation ending in an assistant message: the whole
 * conversation through the model's chat template followed by `endOfTurn`, exactly the `tokens` of
 * `sftExampleFromMessages(renderer, messages, { endOfTurn })` (chat-tokens.ts). Build training pairs
 * from that same function so training and scoring see the same tokens.
 */
export function rewardSequence(
  renderer: LlamaPromptRenderer,
  messages: readonly ChatMessage[],
  endOfTurn: readonly number[] = [],
): number[] {
  return [...sftExampleFromMessages(renderer, messages, { endOfTurn }).tokens];
}

/** The file names inside a reward model directory. */
export const rewardModelFiles = { adapter: "adapter.gguf", head: "head.safetensors" } as const;

/** What {@link writeRewardModel} saves. */
export interface RewardModelContents {
  /** The base GGUF model the adapter was trained on (recorded as an absolute path). */
  readonly base: string;
  readonly lora: LoraAdapter;
  readonly head: RewardHead;
  /** The base model's config (architecture and dim are recorded). */
  readonly config: ModelConfig;
  /** The end-of-turn tokens appended to every conversation in training (see {@link rewardSequence}). Default none. */
  readonly endOfTurn?: readonly number[];
  /** Held-out metrics, e.g. {@link rewardMetrics} of {@link evaluateRewardModel} (NaN is stored as null). */
  readonly metrics?: Readonly<Record<string, number>>;
  /** The run's settings (data, learning rate, steps…), recorded as given. */
  readonly settings?: Readonly<Record<string, TrainSetting>>;
}

/** The paths {@link writeRewardModel} wrote. */
export interface RewardModelPaths {
  readonly dir: string;
  readonly manifest: string;
  readonly adapter: string;
  readonly head: string;
}

/**
 * Saves a reward model into `dir` (created if needed): `adapter.gguf`, `head.safetensors`, then
 * `reward.json` (atomically, last). Load it with `loadRewardModel(dir)` (load-reward-model.ts) or the spec
 * `reward:DIR`. llama.cpp caches adapters by path: write each trained model to a new directory if a
 * llama.cpp process may have loaded an earlier adapter.gguf from the same one.
 */
export async function writeRewardModel(
  dir: string,
  contents: RewardModelContents,
): Promise<RewardModelPaths> {
  const { lora, head, config } = contents;
  if (head.w.shape[0] !== config.embeddingLength)
    throw new CaiError(`the reward head has dim ${head.w.shape[0]}, the model ${config.embeddingLength}`);
  await mkdir(dir, { recursive: true });
  const adapter = path.join(dir, rewardModelFiles.adapter);
  const headFile = path.join(dir, rewardModelFiles.head);
  await writeGgufAdapter(adapter, lora, config.architecture, { name: `cai-reward-lora-r${lora.rank}` });
  await writeSafetensors(
    headFile,
    [
      { name: "w", shape: [config.embeddingLength], data: Float32Array.from(head.w.dataSync()) },
      { name: "b", shape: [1], data: Float32Array.from(head.b.dataSync()) },
    ],
    { format: rewardModelFormat },
  );
  const metrics =
    contents.metrics === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(contents.metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : null]),
        );
  const manifest: RewardManifest = {
    format: rewardModelFormat,
    version: 1,
    base: path.resolve(contents.base),
    adapter: rewardModelFiles.adapter,
    head: rewardModelFiles.head,
    architecture: config.architecture,
    dim: config.embeddingLength,
    lora: { rank: lora.rank, alpha: lora.alpha, targets: [...lora.targets] },
    endOfTurn: [...(contents.endOfTurn ?? [])],
    ...(metrics === undefined ? {} : { metrics }),
    ...(contents.settings === undefined ? {} : { settings: { ...contents.settings } }),
  };
  const manifestPath = await writeRewardManifest(dir, manifest);
  return { dir, manifest: manifestPath, adapter, head: headFile };
}

/**
 * Reads a reward head written by {@link writeRewardModel} (`w` [dim], `b` [1], F32) into fresh variables.
 * Throws {@link ModelLoadError} naming the file when a tensor is missing or `w` is not [dim].
 */
export async function readRewardHead(file: string, dim: number): Promise<RewardHead> {
  let tensors: Awaited<ReturnType<typeof readSafetensors>>["tensors"];
  try {
    ({ tensors } = await readSafetensors(file));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelLoadError(file, reason, { cause: error });
  }
  const w = tensors.get("w");
  const b = tensors.get("b");
  if (w === undefined || b === undefined)
    throw new ModelLoadError(
      file,
      `the reward head needs tensors w and b; it has ${[...tensors.keys()].join(", ") || "none"}`,
    );
  if (w.data.length !== dim || w.shape.length !== 1)
    throw new ModelLoadError(
      file,
      `tensor w has shape [${w.shape.join(", ")}]; the base model needs [${dim}]`,
    );
  if (b.data.length !== 1) throw new ModelLoadError(file, `tensor b has ${b.data.length} values, not 1`);
  return headOf(w.data, b.data[0] as number);
}
