// `cai train rl` as a library call: RL-CAI — on-policy optimisation of a LoRA policy against a reward
// source (the preference model of `cai train rm`, an AI judge asked directly, or a function), by RLOO
// (k samples per prompt, leave-one-out baseline) or GRPO (group-normalised advantages), with PPO's clipped
// importance ratio over μ epochs per batch and a per-token KL penalty to the start model in the reward.
// No value head: there is no critic to train on a CPU, and RLOO is the strong simple baseline.
//
// One step: write the current adapter (a new file: llama.cpp caches adapters by path), sample k answers
// per prompt through llama.cpp (with each drawn token's probability: π_old), compute the reference's
// log-probabilities (trainer or llama.cpp), score them, and update. Checkpoints (adapter, AdamW, position, history) resume exactly.
import {
  appendFile,
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { CaiError } from "../../errors/cai-error.js";
import { LlamaLanguageModel } from "../../models/llama/llama-language-model.js";
import type { ChatMessage } from "../../models/model.js";
import { recordSeed } from "../../runs/record-seed.js";
import { writeGgufAdapter } from "../formats/export-gguf-adapter.js";
import { writeGgufModel } from "../formats/export-gguf-model.js";
import { readGgufAdapter } from "../formats/import-gguf-adapter.js";
import { disposeMerged, mergeLora } from "../formats/merge-lora.js";
import {
  captureCheckpoint,
  saveCheckpoint,
  type TrainSetting,
  type TrainStepRecord,
} from "../loop/checkpoint.js";
import { accumulatedStep, epochOrder, restoreRun, type TrainObjective } from "../loop/train-loop.js";
import { type AdapterOutputs, fileSha256, openTokenizer, writeAdapterOutputs } from "../loop/training-run.js";
import { initTrainingBackend } from "../model/backend.js";
import {
  createLora,
  disposeLora,
  type LoraAdapter,
  type LoraTarget,
  loraTargets,
  loraVariables,
} from "../model/lora.js";
import { disposeWeights, loadWeights, type TransformerWeights } from "../model/weights.js";
import {
  type AdvantageEstimator,
  adaptiveKlCoef,
  groupAdvantages,
  penalisedReward,
  type SurrogateStats,
  sequenceKl,
  surrogateLoss,
} from "../objectives/policy-gradient.js";
import { AdamW } from "../objectives/sft.js";
import type { RewardSource } from "./reward-source.js";
import {
  batchedCompletionLogprobs,
  completionLogprobTensors,
  type RlPrompt,
  type RolloutSample,
  sampleGroups,
} from "./rollouts.js";

/** Options of {@link trainRl}. */
export interface TrainRlOptions {
  /** The starting policy, a GGUF model (usually SL-CAI); also the reference the KL is measured to. */
  readonly base: string;
  /** LoRA adapters (GGUF) on `base`, folded into the start model (written once to `out/start-model.gguf`). */
  readonly adapters?: readonly string[];
  /** The prompts to sample from (a mix of red-team and helpfulness prompts), in a seeded order per epoch. */
  readonly prompts: readonly RlPrompt[];
  /** Held-out prompts: the held-out reward of the policy's greedy answers every `evalEvery` steps. */
  readonly evalPrompts?: readonly RlPrompt[];
  /** What scores the answers. */
  readonly reward: RewardSource;
  /** Output directory: checkpoints, rollout adapters, logs, the final adapter (GGUF and PEFT). */
  readonly out: string;
  /** Default `rloo`. */
  readonly algo?: AdvantageEstimator;
  /** Samples per prompt, k ≥ 2. Default 4. */
  readonly samples?: number;
  /** Prompts per step. Default 4. */
  readonly promptsPerStep?: number;
  /** μ: passes over each batch of rollouts, each `minibatches` updates. Default 2. */
  readonly epochs?: number;
  /** Updates per pass (the batch split evenly). Default 1. */
  readonly minibatches?: number;
  /** Sequences per forward/backward pass of the trainer (memory vs speed). Default 4. */
  readonly microBatch?: number;
  /** ε of the clipped ratio. Default 0.2. */
  readonly clip?: number;
  /** β: the per-token KL penalty in the reward. Default 0.05 (TRL's RLOO default). */
  readonly klCoef?: number;
  /** With it, β adapts toward this KL per answer (Ziegler et al.'s controller, horizon `klHorizon`). */
  readonly klTarget?: number;
  /** Samples over which the adaptive β may change by e^0.2. Default 10000. */
  readonly klHorizon?: number;
  /** Stop early once the batch's mean KL per answer exceeds this (nats). Default: no budget. */
  readonly maxKl?: number;
  /** RL steps (rollout batches). Default 50. */
  readonly steps?: number;
  /** AdamW learning rate (constant). Default 1e-5. */
  readonly lr?: number;
  /** Gradient clipping (global norm). Default 1. */
  readonly maxGradNorm?: number;
  readonly rank?: number;
  readonly alpha?: number;
  readonly targets?: readonly LoraTarget[];
  /** Longest answer in tokens (the end-of-turn token included). Default 64. */
  readonly maxNewTokens?: number;
  /**
   * Sampling temperature of the rollouts. Default 1. At T ≠ 1 the policy optimised, and the one the KL is
   * measured with, is the tempered one (logits / T, as TRL computes it): a higher T explores more.
   */
  readonly temperature?: number;
  /** Seed of the adapter's initialisation, the prompt order and the samples. Default 0. */
  readonly seed?: number;
  /** Evaluate on `evalPrompts` every this many steps (and at the start and the end). Default: a tenth. */
  readonly evalEvery?: number;
  /** Checkpoint every this many steps (and at the end, and when stopped). Default 10. */
  readonly checkpointEvery?: number;
  /** How many of the most frequent held-out answers each evaluation records. Default 5. */
  readonly topAnswers?: number;
  /** llama.cpp threads for the rollouts. Default `"auto"` (measured once per file). */
  readonly threads?: number | "auto";
  /** Rollouts sampled side by side. Default 4. */
  readonly parallel?: number;
  /** F32 KV cache in the rollouts: llama.cpp's log-probs then match the trainer's to ~1e-6. Default false. */
  readonly exactKvCache?: boolean;
  /**
   * Who computes the reference's (start model's) log-probabilities of the sampled tokens: the trainer's
   * forward pass (default; exact to the policy's recomputation) or llama.cpp (the start model without the
   * adapter; faster on larger models — `npm run bench:rl` measures both).
   */
  readonly reference?: "trainer" | "llama";
  /** Continue from the checkpoints in `out` (default false: a directory with checkpoints is refused). */
  readonly resume?: boolean;
  /** Aborting it ends the run after the step in flight, with a checkpoint (the outputs are still written). */
  readonly stop?: AbortSignal;
  readonly onProgress?: (progress: RlProgress) => void;
  readonly onWarning?: (message: string) => void;
  /** The PEFT adapter's `base_model_name_or_path` (see `TrainRunOptions.baseModelId`). */
  readonly baseModelId?: string;
}

/** Seconds one step spent in each phase. */
export interface RlTimings {
  /** Writing the adapter file llama.cpp samples with. */
  readonly export: number;
  /** Sampling the rollouts (llama.cpp, with loading the adapter). */
  readonly generate: number;
  /** The reward source's scores. */
  readonly score: number;
  /** The reference's (start model's) log-probabilities of the sampled tokens, for the KL. */
  readonly reference: number;
  /** Forward and backward passes and updates of the μ epochs. */
  readonly backprop: number;
  /** Held-out evaluation (greedy answers and their scores), on evaluation steps. */
  readonly evaluate: number;
}

/** After each step. */
export interface RlProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly timings: RlTimings;
  readonly etaSeconds: number;
}

/** One evaluation on the held-out prompts, as `out/evaluations.jsonl` records it. */
export interface RlEvaluation {
  /** Steps done when evaluated (0: the start model). */
  readonly step: number;
  /** Mean reward of the policy's greedy answers, each scored in a group with the start model's answer. */
  readonly heldReward: number;
  /** The most frequent held-out answers, most frequent first (a policy Goodharting into boilerplate shows here). */
  readonly topAnswers: readonly { readonly text: string; readonly count: number }[];
  /** Distinct answers over the held-out prompts. */
  readonly distinctAnswers: number;
  /** The greedy answers, in the held-out prompts' order (what another judge can grade, as the demo's ground truth does). */
  readonly answers: readonly string[];
}

/** What {@link trainRl} produced. */
export interface TrainRlResult extends AdapterOutputs {
  /** The GGUF adapter (same as `adapter`). */
  readonly output: string;
  /** The model the adapter applies to: `base`, or `out/start-model.gguf` when adapters were folded in. */
  readonly startModel: string;
  readonly step: number;
  readonly resumedFrom: number;
  /** True when `stop` ended the run early. */
  readonly stopped: boolean;
  /** True when the KL budget (`maxKl`) ended it. */
  readonly stoppedByKl: boolean;
  readonly history: readonly TrainStepRecord[];
  readonly evaluations: readonly RlEvaluation[];
}

/** One rollout with what the update needs: its policy log-probs at sampling time and its advantage. */
interface RlSequence {
  readonly sample: RolloutSample;
  readonly oldLogprobs: readonly number[];
  readonly advantage: number;
}

const checkpointKeep = 2;

/**
 * Optimises a LoRA adapter on `options.base` (plus `adapters`) by RL against `options.reward` (see the file
 * comment), checkpointing into `out/checkpoints` (with `resume`, a rerun continues exactly), logging each
 * step's metrics in the checkpoint history and `out/history.json`, each evaluation in
 * `out/evaluations.jsonl`, and writing `out/adapter-step<N>-<time>.gguf` and `out/peft/` at the end.
 */
export async function trainRl(options: TrainRlOptions): Promise<TrainRlResult> {
  const plan = rlPlan(options);
  await mkdir(options.out, { recursive: true });
  await initTrainingBackend();
  const startModel = await prepareStartModel(options);
  const weights = await loadWeights(startModel);
  try {
    const lora = createLora(weights, {
      rank: plan.rank,
      alpha: plan.alpha,
      seed: plan.seed,
      targets: plan.targets,
    });
    const variables = loraVariables(lora);
    const optimizer = new AdamW(variables, { learningRate: plan.lr });
    try {
      return await runRl(options, plan, startModel, weights, lora, optimizer);
    } finally {
      optimizer.dispose();
      disposeLora(lora);
    }
  } finally {
    disposeWeights(weights);
  }
}

/** The settings of a run after defaults, validated. */
interface RlPlan {
  readonly algo: AdvantageEstimator;
  readonly samples: number;
  readonly promptsPerStep: number;
  readonly epochs: number;
  readonly minibatches: number;
  readonly microBatch: number;
  readonly clip: number;
  readonly klCoef: number;
  readonly steps: number;
  readonly lr: number;
  readonly maxGradNorm: number;
  readonly rank: number;
  readonly alpha: number;
  readonly targets: readonly LoraTarget[];
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly seed: number;
  readonly evalEvery: number;
  readonly checkpointEvery: number;
}

function rlPlan(options: TrainRlOptions): RlPlan {
  const integer = (value: number, name: string, min: number) => {
    if (!(Number.isInteger(value) && value >= min))
      throw new CaiError(`${name} must be a whole number ≥ ${min}, not ${value}`);
    return value;
  };
  const positive = (value: number, name: string) => {
    if (!(value > 0 && Number.isFinite(value))) throw new CaiError(`${name} must be positive, not ${value}`);
    return value;
  };
  const algo = options.algo ?? "rloo";
  if (algo !== "rloo" && algo !== "grpo")
    throw new CaiError(`the RL algorithm must be rloo or grpo, not ${algo}`);
  if (options.prompts.length === 0) throw new CaiError("RL needs at least one prompt");
  const klCoef = options.klCoef ?? 0.05;
  if (!(klCoef >= 0 && Number.isFinite(klCoef)))
    throw new CaiError(`the KL coefficient must be ≥ 0, not ${klCoef}`);
  if (options.klTarget !== undefined) positive(options.klTarget, "the KL target");
  if (options.maxKl !== undefined) positive(options.maxKl, "the KL budget");
  const clip = options.clip ?? 0.2;
  if (!(clip > 0 && clip < 1)) throw new CaiError(`the clip range ε must be in (0, 1), not ${clip}`);
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0 && Number.isFinite(temperature)))
    throw new CaiError(`the rollout temperature must be positive, not ${temperature}`);
  if (temperature !== 1 && options.reference === "llama")
    throw new CaiError(
      "the llama.cpp reference reads untempered log-probs: use --reference trainer at a temperature other than 1",
    );
  const steps = integer(options.steps ?? 50, "steps", 1);
  const minibatches = integer(options.minibatches ?? 1, "minibatches", 1);
  const promptsPerStep = integer(options.promptsPerStep ?? 4, "prompts per step", 1);
  const samples = integer(options.samples ?? 4, "samples per prompt", 2);
  if (minibatches > promptsPerStep * samples)
    throw new CaiError(`${minibatches} minibatches for ${promptsPerStep * samples} answers per step`);
  return {
    algo,
    samples,
    promptsPerStep,
    epochs: integer(options.epochs ?? 2, "epochs", 1),
    minibatches,
    microBatch: integer(options.microBatch ?? 4, "the micro-batch", 1),
    clip,
    klCoef,
    steps,
    lr: positive(options.lr ?? 1e-5, "the learning rate"),
    maxGradNorm: positive(options.maxGradNorm ?? 1, "the gradient clipping norm"),
    rank: integer(options.rank ?? 8, "the LoRA rank", 1),
    alpha: positive(options.alpha ?? 16, "LoRA alpha"),
    targets: options.targets ?? loraTargets,
    maxNewTokens: integer(options.maxNewTokens ?? 64, "the answer length", 1),
    temperature,
    seed: integer(options.seed ?? 0, "the seed", 0),
    evalEvery: integer(options.evalEvery ?? Math.max(1, Math.floor(steps / 10)), "evalEvery", 1),
    checkpointEvery: integer(options.checkpointEvery ?? 10, "checkpointEvery", 1),
  };
}

/** `base`, or — with adapters — the base with them folded in, written once to `out/start-model.gguf`. */
async function prepareStartModel(options: TrainRlOptions): Promise<string> {
  const adapters = options.adapters ?? [];
  if (adapters.length === 0) return options.base;
  const file = path.join(options.out, "start-model.gguf");
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  // A resumed run's start model was written by its first run (the settings check compares the adapters).
  if (exists && options.resume) return file;
  const weights = await loadWeights(options.base);
  try {
    let merged: TransformerWeights = weights;
    for (const adapterFile of adapters) {
      const adapter = await readGgufAdapter(adapterFile, merged);
      const next = mergeLora(merged, adapter);
      disposeLora(adapter);
      if (merged !== weights) disposeMerged(merged, weights);
      merged = next;
    }
    await writeGgufModel(file, merged, options.base);
    if (merged !== weights) disposeMerged(merged, weights);
  } finally {
    disposeWeights(weights);
  }
  return file;
}

/** A hash of prompts' ids and conversations, for the checkpoint settings. */
async function promptsHash(prompts: readonly RlPrompt[] | undefined): Promise<string | null> {
  if (prompts === undefined) return null;
  const { createHash } = await import("node:crypto");
  return createHash("sha256")
    .update(JSON.stringify(prompts.map((p) => [p.id, p.messages])))
    .digest("hex");
}

async function runRl(
  options: TrainRlOptions,
  plan: RlPlan,
  startModel: string,
  weights: TransformerWeights,
  lora: LoraAdapter,
  optimizer: AdamW,
): Promise<TrainRlResult> {
  const { out } = options;
  const warn = options.onWarning ?? (() => {});
  const checkpointDir = path.join(out, "checkpoints");
  const rolloutDir = path.join(out, "rollout-adapters");
  const evaluationsFile = path.join(out, "evaluations.jsonl");
  const variables = loraVariables(lora);
  const settings: Record<string, TrainSetting> = {
    objective: `rl-${plan.algo}-lora`,
    base: path.resolve(options.base),
    baseBytes: (await stat(options.base)).size,
    adapters: (await Promise.all((options.adapters ?? []).map((a) => fileSha256(a)))).join(","),
    prompts: await promptsHash(options.prompts),
    evalPrompts: await promptsHash(options.evalPrompts),
    reward: options.reward.fingerprint,
    reference: options.reference ?? "trainer",
    samples: plan.samples,
    promptsPerStep: plan.promptsPerStep,
    epochs: plan.epochs,
    minibatches: plan.minibatches,
    microBatch: plan.microBatch,
    clip: plan.clip,
    klCoef: plan.klCoef,
    klTarget: options.klTarget ?? null,
    klHorizon: options.klHorizon ?? 10000,
    lr: plan.lr,
    maxGradNorm: plan.maxGradNorm,
    rank: plan.rank,
    alpha: plan.alpha,
    targets: [...plan.targets].sort().join(","),
    maxNewTokens: plan.maxNewTokens,
    temperature: plan.temperature,
    seed: plan.seed,
    evalEvery: plan.evalEvery,
  };
  const restored = await restoreRun({
    checkpointDir,
    resume: options.resume ?? false,
    settings,
    objective: { variables, optimizer },
    dataSize: options.prompts.length,
    onWarning: warn,
  });
  let step = restored.step;
  const history = restored.history;
  const resumedFrom = step;
  let position = restored.position;
  let klCoef = history.at(-1)?.metrics?.nextKlCoef ?? plan.klCoef;
  const evaluations = await keptEvaluations(evaluationsFile, step);

  const contextSize = await rolloutContext(
    startModel,
    weights.config.contextLength,
    [...options.prompts, ...(options.evalPrompts ?? [])],
    plan,
  );
  const loadPolicy = async (adapter: string | undefined) =>
    LlamaLanguageModel.load(startModel, {
      gpu: false,
      threads: options.threads ?? "auto",
      parallel: options.parallel ?? 4,
      exactKvCache: options.exactKvCache ?? false,
      contextSize,
      ...(adapter === undefined ? {} : { adapters: [{ path: adapter }] }),
      name: path.basename(startModel),
    });
  // The adapter after `done` steps: the one step `done + 1` samples with and evaluation `done` answers with.
  const writeRolloutAdapter = async (done: number): Promise<string> => {
    await mkdir(rolloutDir, { recursive: true });
    const file = path.join(
      rolloutDir,
      `policy-${String(done).padStart(6, "0")}-${process.pid}-${Date.now()}.gguf`,
    );
    await writeGgufAdapter(file, lora, weights.config.architecture);
    for (const old of (await readdir(rolloutDir))
      .filter((f) => f.endsWith(".gguf"))
      .sort()
      .slice(0, -2))
      await rm(path.join(rolloutDir, old), { force: true });
    return file;
  };

  const heldStart =
    options.evalPrompts && options.evalPrompts.length > 0
      ? await startAnswers(options, plan, loadPolicy, path.join(out, "held-start-answers.json"), settings)
      : undefined;
  const evaluate = async (
    policy: LlamaLanguageModel,
    policyAdapter: string,
    done: number,
  ): Promise<RlEvaluation | undefined> => {
    if (!options.evalPrompts || !heldStart) return undefined;
    const answers = await greedyAnswers(policy, options.evalPrompts, plan.maxNewTokens);
    let total = 0;
    for (const [i, prompt] of options.evalPrompts.entries()) {
      const [score] = await options.reward.scoreGroup(
        prompt.messages,
        [answers[i] as string, heldStart[i] as string],
        evalSeed(plan.seed, prompt.id),
      );
      total += score ?? Number.NaN;
    }
    const evaluation: RlEvaluation = {
      step: done,
      heldReward: total / options.evalPrompts.length,
      ...answerCounts(answers, options.topAnswers ?? 5),
      answers,
    };
    // The adapter evaluated, kept under a stable name: contestants of `cai eval` as `RUN@STEP`.
    await mkdir(path.join(out, "adapters"), { recursive: true });
    await copyFile(
      policyAdapter,
      path.join(out, "adapters", `policy-step${String(done).padStart(6, "0")}.gguf`),
    );
    await appendFile(evaluationsFile, `${JSON.stringify(evaluation)}\n`);
    evaluations.push(evaluation);
    return evaluation;
  };

  const save = async () => {
    await saveCheckpoint(
      checkpointDir,
      captureCheckpoint(variables, optimizer, step, position, history, settings),
      checkpointKeep,
    );
    await writeFile(
      path.join(out, "history.json"),
      `${JSON.stringify({ objective: "rl", history }, null, 1)}\n`,
    );
  };

  const referenceModel = options.reference === "llama" ? await loadPolicy(undefined) : undefined;
  let adapterFile = await writeRolloutAdapter(step);
  let policy = await loadPolicy(adapterFile);
  let stoppedByKl = false;
  let saved = step;
  const started = performance.now();
  try {
    if (step === 0 && !evaluations.some((e) => e.step === 0)) await evaluate(policy, adapterFile, 0);
    while (step < plan.steps && !options.stop?.aborted) {
      const timings = { export: 0, generate: 0, score: 0, reference: 0, backprop: 0, evaluate: 0 };
      let clock = performance.now();
      const lap = (phase: keyof typeof timings) => {
        const now = performance.now();
        timings[phase] += (now - clock) / 1000;
        clock = now;
      };
      // The step's prompts, from the seeded order of each epoch.
      const prompts: RlPrompt[] = [];
      for (let i = 0; i < plan.promptsPerStep; i += 1) {
        if (position.index >= options.prompts.length) position = { epoch: position.epoch + 1, index: 0 };
        const order = epochOrder(options.prompts.length, plan.seed, position.epoch);
        prompts.push(options.prompts[order[position.index] as number] as RlPrompt);
        position = { epoch: position.epoch, index: position.index + 1 };
      }
      const groups = await sampleGroups(policy, prompts, {
        samples: plan.samples,
        maxNewTokens: plan.maxNewTokens,
        temperature: plan.temperature,
        seed: plan.seed,
        step: step + 1,
      });
      lap("generate");

      const flat = groups.flat();
      const regroup = (rows: number[][]) =>
        groups.map((_, g) => rows.slice(g * plan.samples, (g + 1) * plan.samples));
      // π_old is the policy that sampled: llama.cpp's log-probabilities of the tokens it drew. The trainer
      // recomputes them in each epoch's forward pass, so the first epoch's ratio is 1 up to how closely
      // the two engines agree.
      const oldLogprobs = groups.map((group) => group.map((s) => [...s.logprobs]));
      const refLogprobs = regroup(
        referenceModel === undefined
          ? batchedCompletionLogprobs(weights, flat, undefined, plan.microBatch, plan.temperature)
          : await Promise.all(flat.map((s) => llamaCompletionLogprobs(referenceModel, s))),
      );
      lap("reference");
      // Groups scored at once (a judge batches its calls); each group's draws have their own seed.
      const scores = await Promise.all(
        groups.map((group, g) =>
          options.reward.scoreGroup(
            (prompts[g] as RlPrompt).messages,
            group.map((s) => s.text),
            recordSeed(plan.seed, `${step + 1}:score:${(prompts[g] as RlPrompt).id}`),
          ),
        ),
      );
      lap("score");

      const sequences: RlSequence[] = [];
      let klSum = 0;
      let scoreSum = 0;
      let rewardSum = 0;
      let entropySum = 0;
      let entropyTokens = 0;
      let lengthSum = 0;
      groups.forEach((group, g) => {
        const kls = group.map((_, j) =>
          sequenceKl(oldLogprobs[g]?.[j] as number[], refLogprobs[g]?.[j] as number[]),
        );
        const groupScores = scores[g] as number[];
        const rewards = groupScores.map((score, j) => penalisedReward(score, kls[j] as number, klCoef));
        const advantages = groupAdvantages(plan.algo, rewards);
        group.forEach((sample, j) => {
          const old = oldLogprobs[g]?.[j] as number[];
          klSum += kls[j] as number;
          scoreSum += groupScores[j] as number;
          rewardSum += rewards[j] as number;
          lengthSum += sample.tokens.length;
          // −log π_old of the sampled tokens: at temperature 1 its mean estimates the policy's entropy.
          for (const lp of old) entropySum -= lp;
          entropyTokens += old.length;
          if (sample.tokens.length > 0)
            sequences.push({ sample, oldLogprobs: old, advantage: advantages[j] as number });
        });
      });
      const count = groups.length * plan.samples;

      // μ epochs over the batch, `minibatches` updates each, one sequence per micro-batch.
      const stats: SurrogateStats = { clippedTokens: 0, tokens: 0, maxRatioDeviation: 0 };
      let firstEpochDeviation = 0;
      let lossSum = 0;
      let updates = 0;
      let gradNorm = 0;
      let appliedGradNorm = 0;
      // Each micro-batch's loss is scaled so that the loop's mean over micro-batches is the mean over
      // the update's sequences of their per-token surrogate means (micro-batches may differ in size).
      let scale = 1;
      const objective: TrainObjective<RlSequence> = {
        variables,
        optimizer,
        loss: (batch) =>
          tf.tidy(() => {
            const logprobs = completionLogprobTensors(
              weights,
              batch.map((s) => s.sample),
              lora,
              plan.temperature,
            );
            const losses = batch.map((s, i) =>
              surrogateLoss(
                logprobs[i] as tf.Tensor1D,
                { oldLogprobs: s.oldLogprobs, advantage: s.advantage },
                plan.clip,
                stats,
              ),
            );
            // A sum by Add (tfjs-core registers no gradient for AddN).
            const total = losses.reduce((sum, l) => tf.add(sum, l) as tf.Scalar);
            return tf.mul(total, scale) as tf.Scalar;
          }),
      };
      if (sequences.length > 0) {
        for (let epoch = 0; epoch < plan.epochs; epoch += 1) {
          for (let m = 0; m < plan.minibatches; m += 1) {
            const part = sequences.filter((_, i) => i % plan.minibatches === m);
            if (part.length === 0) continue;
            const microBatches: RlSequence[][] = [];
            for (let start = 0; start < part.length; start += plan.microBatch)
              microBatches.push(part.slice(start, start + plan.microBatch));
            scale = microBatches.length / part.length;
            const record = accumulatedStep(
              objective,
              microBatches,
              plan.lr,
              optimizer.stepCount + 1,
              plan.maxGradNorm,
            );
            lossSum += record.loss;
            gradNorm = record.gradNorm;
            appliedGradNorm = record.appliedGradNorm;
            updates += 1;
          }
          if (epoch === 0) firstEpochDeviation = stats.maxRatioDeviation;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      lap("backprop");

      const kl = klSum / count;
      const nextKlCoef =
        options.klTarget === undefined
          ? klCoef
          : adaptiveKlCoef(klCoef, kl, count, {
              target: options.klTarget,
              ...(options.klHorizon === undefined ? {} : { horizon: options.klHorizon }),
            });
      step += 1;
      await policy.close();
      adapterFile = await writeRolloutAdapter(step);
      lap("export");
      policy = await loadPolicy(adapterFile);
      lap("generate");
      const evaluation =
        step % plan.evalEvery === 0 || step === plan.steps
          ? await evaluate(policy, adapterFile, step)
          : undefined;
      lap("evaluate");

      const metrics: Record<string, number> = {
        score: scoreSum / count,
        reward: rewardSum / count,
        kl,
        klCoef,
        nextKlCoef,
        entropy: entropyTokens > 0 ? entropySum / entropyTokens : 0,
        length: lengthSum / count,
        clipFraction: stats.tokens > 0 ? stats.clippedTokens / stats.tokens : 0,
        firstEpochRatioDeviation: firstEpochDeviation,
        updates,
        ...(evaluation ? { heldReward: evaluation.heldReward } : {}),
      };
      history.push({
        step,
        loss: updates > 0 ? lossSum / updates : 0,
        learningRate: plan.lr,
        gradNorm,
        appliedGradNorm,
        metrics,
      });
      klCoef = nextKlCoef;
      if (options.maxKl !== undefined && kl > options.maxKl) stoppedByKl = true;
      if (step % plan.checkpointEvery === 0 || step === plan.steps || stoppedByKl) {
        await save();
        saved = step;
      }
      if (options.onProgress) {
        const perStep = (performance.now() - started) / 1000 / (step - resumedFrom);
        options.onProgress({
          step,
          totalSteps: plan.steps,
          metrics,
          timings,
          etaSeconds: perStep * (plan.steps - step),
        });
      }
      if (stoppedByKl) {
        warn(
          `stopped at step ${step}: the mean KL per answer ${kl.toFixed(3)} passed the budget ${options.maxKl}`,
        );
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (saved !== step) await save();
  } finally {
    await policy.close();
    await referenceModel?.close();
  }
  const outputs = await writeAdapterOutputs(out, lora, weights.config, step, {
    base: startModel,
    ...(options.baseModelId === undefined ? {} : { baseModelId: options.baseModelId }),
    onWarning: warn,
  });
  return {
    ...outputs,
    output: outputs.adapter,
    startModel,
    step,
    resumedFrom,
    stopped: step < plan.steps && !stoppedByKl,
    stoppedByKl,
    history,
    evaluations,
  };
}

/** log p of a sample's tokens under `model` (the start model in llama.cpp), as the trainer's reference gives them. */
async function llamaCompletionLogprobs(
  model: LlamaLanguageModel,
  sample: Pick<RolloutSample, "promptTokens" | "tokens">,
): Promise<number[]> {
  const tokens = [...sample.promptTokens, ...sample.tokens];
  const entries = await model.promptLogprobs(tokens, 0, undefined, { from: sample.promptTokens.length });
  return entries.slice(sample.promptTokens.length).map((e) => e?.logprob ?? Number.NaN);
}

/** The seed of a held-out prompt's scoring (the same at every evaluation, so evaluations compare). */
function evalSeed(seed: number, id: string): number {
  return recordSeed(seed, `eval:${id}`);
}

/**
 * The context the rollouts need: the longest prompt (as the chat template renders it) plus the answer.
 * A prompt that does not fit the model's context is refused by id.
 */
async function rolloutContext(
  startModel: string,
  contextLength: number,
  prompts: readonly RlPrompt[],
  plan: RlPlan,
): Promise<number> {
  const tokenizer = await openTokenizer(startModel);
  try {
    let longest = 0;
    for (const prompt of prompts) {
      const length = tokenizer.renderer.chatTokens([...prompt.messages]).length;
      if (length + plan.maxNewTokens > contextLength)
        throw new CaiError(
          `prompt ${prompt.id} takes ${length} tokens; with ${plan.maxNewTokens} new tokens that is more than the model's context of ${contextLength}`,
        );
      longest = Math.max(longest, length);
    }
    return longest + plan.maxNewTokens;
  } finally {
    await tokenizer.close();
  }
}

/** Greedy answers of `policy` to `prompts`, in order. */
async function greedyAnswers(
  policy: LlamaLanguageModel,
  prompts: readonly RlPrompt[],
  maxTokens: number,
): Promise<string[]> {
  return Promise.all(
    prompts.map(
      async (p) =>
        (await policy.generate({ messages: [...p.messages] as ChatMessage[], maxTokens, temperature: 0 }))
          .text,
    ),
  );
}

/** The start model's greedy answers to the held-out prompts, cached in `file` for the same settings. */
async function startAnswers(
  options: TrainRlOptions,
  plan: RlPlan,
  loadPolicy: (adapter: string | undefined) => Promise<LlamaLanguageModel>,
  file: string,
  settings: Readonly<Record<string, TrainSetting>>,
): Promise<string[]> {
  const key = JSON.stringify([settings.base, settings.adapters, settings.evalPrompts, plan.maxNewTokens]);
  try {
    const saved = JSON.parse(await readFile(file, "utf8")) as { key?: string; answers?: string[] };
    if (saved.key === key && Array.isArray(saved.answers)) return saved.answers;
  } catch {
    // None yet: compute.
  }
  const model = await loadPolicy(undefined);
  try {
    const answers = await greedyAnswers(model, options.evalPrompts ?? [], plan.maxNewTokens);
    await writeFile(`${file}.tmp`, `${JSON.stringify({ key, answers })}\n`);
    await rename(`${file}.tmp`, file);
    return answers;
  } finally {
    await model.close();
  }
}

/** The most frequent answers and how many distinct ones there are. */
function answerCounts(
  answers: readonly string[],
  top: number,
): Pick<RlEvaluation, "topAnswers" | "distinctAnswers"> {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return {
    topAnswers: sorted.slice(0, top).map(([text, count]) => ({ text, count })),
    distinctAnswers: counts.size,
  };
}

/** The evaluations already logged up to step `done` (a resumed run drops what came after its checkpoint). */
async function keptEvaluations(file: string, done: number): Promise<RlEvaluation[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return [];
  }
  const kept = text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as RlEvaluation)
    .filter((e) => e.step <= done);
  await writeFile(file, kept.map((e) => `${JSON.stringify(e)}\n`).join(""));
  return kept;
}
